// n8n finds the node and the credential through the "n8n" attribute of package.json, so the
// package has no entry point for code to require; this file only marks the package root.
module.exports = {};
