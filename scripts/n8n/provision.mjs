// Installs n8n (and the Node it needs) into a cache directory outside the repository, once, and
// finds them again on later runs. Its install has traps, each handled (and explained) below: this
// file is the one place that knows them.
//
//   node scripts/n8n/provision.mjs              n8n 2.41.1 on Node 24: what users get today
//   N8N_LINE=1 node scripts/n8n/provision.mjs   n8n 1.123.81 on this machine's Node 20: the oldest supported
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * The n8n versions the package is tested against, by major line. `node` is the Node release to
 * install for it, or undefined for the Node running this script (n8n 1.x runs on Node 20).
 * @type {Record<string, { n8n: string, node?: string, overrides?: Record<string, string>, env?: Record<string, string>, sizeMb: number }>}
 */
export const N8N_LINES = {
	2: { n8n: '2.41.1', node: '24.21.0', sizeMb: 2900 },
	1: {
		n8n: '1.123.81',
		// n8n-nodes-base 1.x depends on xlsx by a URL on cdn.sheetjs.com, which is not reachable
		// from where this project runs; 0.18.5 is the last xlsx release on the npm registry.
		overrides: { xlsx: '0.18.5' },
		// 1.x's default "vm" engine needs isolated-vm, a native module left unbuilt here (its
		// install scripts stay off, see below). "legacy" evaluates expressions in n8n's own process.
		env: { N8N_EXPRESSION_ENGINE: 'legacy' },
		sizeMb: 2500,
	},
};

/** Which line `N8N_LINE` picks: 2 (the default) or 1. */
export const N8N_LINE = process.env.N8N_LINE || '2';
const LINE = N8N_LINES[N8N_LINE];
if (LINE === undefined) {
	throw new Error(`N8N_LINE=${N8N_LINE} is not one of ${Object.keys(N8N_LINES).join(', ')} (the n8n major versions tested)`);
}
export const N8N_VERSION = LINE.n8n;
export const NODE_VERSION = LINE.node ?? process.versions.node;
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'n8n-nodes-easemob');
export const LOG_DIR = join(CACHE_DIR, 'logs');

// Written last, after the install was checked to work: a directory without it is an interrupted
// install (or one made by hand) and is only reused after the same checks pass.
const MARKER = '.complete';
const NODE_PACKAGE = `node-${process.platform}-${process.arch}`;
const HEARTBEAT_MS = 15_000;
const execFileAsync = promisify(execFile);

/** `env`: settings every n8n process of this version needs. @typedef {{ version: string, node: string, n8n: string, n8nDir: string, env: Record<string, string> }} Runtime */

/**
 * n8n of the line N8N_LINE picks, and the Node it runs on, installed if missing (which takes
 * minutes; progress goes to `log`).
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<Runtime>}
 */
export async function provision({ log = console.log } = {}) {
	mkdirSync(LOG_DIR, { recursive: true });
	const node = LINE.node === undefined ? process.execPath : await provisionNode(LINE.node, log);
	// npm runs under the Node that will run n8n, and node-gyp builds sqlite3 against that Node's
	// headers (without a nodedir it would download them from nodejs.org).
	const nodeHome = dirname(dirname(node));
	/** @type {NodeJS.ProcessEnv} */
	const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` };
	if (existsSync(join(nodeHome, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = nodeHome;

	const n8nDir = join(CACHE_DIR, `n8n-${N8N_VERSION}`);
	const n8n = join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n');
	const hostPackage = join(n8nDir, 'package.json');
	await ensure({
		what: `n8n ${N8N_VERSION}`,
		dir: n8nDir,
		log,
		healthy: () =>
			// npm writes its hidden lockfile only once every package is in place.
			existsSync(join(n8nDir, 'node_modules', '.package-lock.json')) &&
			JSON.stringify(readJson(hostPackage)?.overrides) === JSON.stringify(LINE.overrides) &&
			output(node, [n8n, '--version']) === N8N_VERSION &&
			// Built for another Node's ABI (a 1.x install made with another machine Node) fails here.
			output(node, ['-e', 'require("sqlite3")'], n8nDir) !== undefined,
		install: async (logFile) => {
			log(`Installing n8n ${N8N_VERSION} into ${n8nDir}: first run only, about 5 minutes and ${(LINE.sizeMb / 1000).toFixed(1)} GB.`);
			log(`  npm's log: ${logFile}`);
			// npm reads overrides only from the package.json of the directory it installs into.
			writeFileSync(hostPackage, `${JSON.stringify({ private: true, overrides: LINE.overrides }, null, 2)}\n`);
			// Scripts stay off: one dependency's install script downloads zlib and openssl and fails.
			await runLogged('npm', npmArgs(n8nDir, `n8n@${N8N_VERSION}`), {
				label: `downloading and unpacking n8n ${N8N_VERSION}`,
				logFile,
				log,
				env,
				// npm creates every package's directory early and fills them later: size tells progress.
				progress: async () => {
					const written = await megabytes(join(n8nDir, 'node_modules'));
					return written === 0 ? 'resolving the dependency tree' : `${written} of about ${LINE.sizeMb} MB written`;
				},
			});
			// The one native module n8n needs; there is no prebuilt binary to download here.
			await runLogged('npm', ['rebuild', '--prefix', n8nDir, '--ignore-scripts=false', 'sqlite3'], {
				label: `compiling sqlite3 for Node ${NODE_VERSION}`,
				logFile,
				log,
				env,
			});
		},
	});
	return { version: N8N_VERSION, node, n8n, n8nDir, env: LINE.env ?? {} };
}

/**
 * Node `version` from npm's `node-<platform>-<arch>` package, which holds the binary itself.
 * @param {string} version @param {(line: string) => void} log @returns {Promise<string>} the binary
 */
async function provisionNode(version, log) {
	const nodeDir = join(CACHE_DIR, `node-${version}`);
	const node = join(nodeDir, 'node_modules', NODE_PACKAGE, 'bin', 'node');
	await ensure({
		what: `Node ${version}`,
		dir: nodeDir,
		log,
		healthy: () => output(node, ['--version']) === `v${version}`,
		install: async (logFile) => {
			await runLogged('npm', npmArgs(nodeDir, `${NODE_PACKAGE}@${version}`), { label: `installing Node ${version}`, logFile, log });
		},
	});
	return node;
}

/** @param {string} file */
function readJson(file) {
	try {
		return JSON.parse(readFileSync(file, 'utf8'));
	} catch {
		return undefined;
	}
}

/** @param {string} dir @param {string} spec */
function npmArgs(dir, spec) {
	return ['install', '--prefix', dir, '--save-exact', '--ignore-scripts', '--no-audit', '--no-fund', spec];
}

/**
 * @param {{ what: string, dir: string, log: (line: string) => void, healthy: () => boolean, install: (logFile: string) => Promise<void> }} step
 */
async function ensure({ what, dir, log, healthy, install }) {
	const marker = join(dir, MARKER);
	if (existsSync(marker) && healthy()) return;
	await withLock(dir, log, async () => {
		if (existsSync(marker) && healthy()) return; // installed by whoever held the lock
		if (existsSync(dir) && healthy()) {
			log(`${what}: the install found in ${dir} works; reusing it.`);
		} else {
			if (existsSync(dir)) log(`${what}: ${dir} is incomplete or broken; installing it again.`);
			rmSync(dir, { recursive: true, force: true });
			mkdirSync(dir, { recursive: true });
			const logFile = join(LOG_DIR, `install-${dir.split('/').pop()}.log`);
			writeFileSync(logFile, '');
			const started = Date.now();
			await install(logFile);
			if (!healthy()) throw new Error(`${what} was installed into ${dir} but does not run; see ${logFile}`);
			log(`${what} installed in ${seconds(Date.now() - started)}.`);
		}
		writeFileSync(marker, `${JSON.stringify({ what, at: new Date().toISOString() })}\n`);
	});
}

/**
 * One installer at a time per directory, across processes. The lock is a directory holding the
 * owner's pid, renamed into place so that it never exists without its pid.
 * @param {string} dir @param {(line: string) => void} log @param {() => Promise<void>} fn
 */
async function withLock(dir, log, fn) {
	const lock = `${dir}.lock`;
	const mine = `${lock}.${process.pid}`;
	mkdirSync(mine, { recursive: true });
	writeFileSync(join(mine, 'pid'), String(process.pid));
	for (let attempt = 0; ; attempt++) {
		try {
			renameSync(mine, lock);
			break;
		} catch (error) {
			if (!['ENOTEMPTY', 'EEXIST'].includes(/** @type {NodeJS.ErrnoException} */ (error).code ?? '')) throw error;
		}
		let owner;
		try {
			owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
		} catch {
			continue; // released in the meantime
		}
		if (!isAlive(owner)) {
			rmSync(lock, { recursive: true, force: true });
			continue;
		}
		if (attempt % 15 === 0) log(`Waiting for another install into ${dir} (pid ${owner}) to finish…`);
		await new Promise((resolve) => setTimeout(resolve, 2000));
	}
	try {
		await fn();
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
}

/** @param {number} pid */
function isAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
	}
}

/** Trimmed stdout, or undefined when the command fails. @param {string} command @param {string[]} args @param {string} [cwd] */
function output(command, args, cwd) {
	if (!existsSync(command)) return undefined;
	const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
	return result.status === 0 ? result.stdout.trim() : undefined;
}

/** @param {string} dir */
async function megabytes(dir) {
	const { stdout } = await execFileAsync('du', ['-sm', dir]).catch(() => ({ stdout: '0' }));
	return Number.parseInt(stdout, 10);
}

/** @param {number} ms */
export function seconds(ms) {
	const s = Math.round(ms / 1000);
	return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * Runs a command with its output appended to `logFile`, printing a line every few seconds so a
 * long install never looks stuck.
 * @param {string} command @param {string[]} args
 * @param {{ label: string, logFile: string, log: (line: string) => void, env?: NodeJS.ProcessEnv, progress?: () => Promise<string> }} options
 */
async function runLogged(command, args, { label, logFile, log, env = process.env, progress }) {
	const fd = openSync(logFile, 'a');
	const started = Date.now();
	log(`  ${label}…`);
	const timer = setInterval(async () => {
		const detail = progress ? `, ${await progress()}` : '';
		log(`  ${label}: ${seconds(Date.now() - started)}${detail}`);
	}, HEARTBEAT_MS);
	try {
		const code = await new Promise((resolve, reject) => {
			const child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
			child.on('error', reject);
			child.on('exit', (status, signal) => resolve(status ?? signal));
		});
		if (code !== 0) throw new Error(`${label} failed (${code}); see ${logFile}`);
	} finally {
		clearInterval(timer);
		closeSync(fd);
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const started = Date.now();
	const runtime = await provision();
	console.log(`n8n ${N8N_VERSION} on Node ${NODE_VERSION} ready (${seconds(Date.now() - started)}): ${runtime.n8nDir}`);
}
