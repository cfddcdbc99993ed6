// Runs the rules n8n's community-package scanner applies before verifying a package, offline and
// with inline eslint-disable comments ignored, on the files the scanner reads from the source tree.
import { resolve } from 'node:path';

import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const dir = resolve(process.argv[2] ?? '.');
const result = await analyzePackage(dir, SOURCE_FILE_PATTERNS);
if (!result.passed) {
	console.error(`n8n scanner rules: ${result.message}`);
	if (result.details) console.error(result.details);
	process.exit(1);
}
console.log(`n8n scanner rules: no findings in ${dir}`);
