// n8n discovers the node and credential through the "n8n" attribute of package.json;
// this package has no programmatic entry point.
module.exports = {};
