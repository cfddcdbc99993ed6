// Runs the rules n8n's community-package scanner applies before verifying a package, offline,
// with inline eslint-disable comments ignored: on the source tree, as `n8n-node lint` reads it,
// and on the tarball `npm pack` would publish, as the scanner reads a published package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = resolve(process.argv[2] ?? '.');

async function scan(label, dir, patterns) {
	const result = await analyzePackage(dir, patterns);
	if (result.passed) {
		console.log(`n8n scanner rules, ${label}: no findings`);
		return true;
	}
	console.error(`n8n scanner rules, ${label}: ${result.message}`);
	if (result.details) console.error(result.details);
	return false;
}

function unpackedTarball() {
	const dir = mkdtempSync(join(tmpdir(), 'n8n-nodes-easemob-pack-'));
	const packed = JSON.parse(
		execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }),
	);
	execFileSync('tar', ['-xzf', join(dir, packed[0].filename), '-C', dir, '--strip-components=1']);
	console.log(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${packed[0].size} bytes`);
	return dir;
}

const sourceOk = await scan('source tree', root, SOURCE_FILE_PATTERNS);
const tarball = unpackedTarball();
try {
	const tarballOk = await scan('packed tarball', tarball);
	if (!sourceOk || !tarballOk) process.exit(1);
} finally {
	rmSync(tarball, { recursive: true, force: true });
}
