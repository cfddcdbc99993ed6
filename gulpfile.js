const { src, dest } = require('gulp');

// tsc emits only JavaScript; n8n reads the icons and the node's codex file from next to it.
function copyNodeAssets() {
  return src(['nodes/**/*.svg', 'nodes/**/*.node.json', 'credentials/**/*.svg'], {
    base: '.',
    encoding: false,
  }).pipe(dest('dist'));
}

exports['build:assets'] = copyNodeAssets;
