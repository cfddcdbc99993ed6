// One real n8n with this package installed, in a fresh user folder: import credentials and
// workflows with n8n's CLI, execute workflows and read their run data, or run the editor.
// n8n's own log lines go to a log file whose path every error message names.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { LOG_DIR } from './provision.mjs';

const KEPT_LOGS = 40;

// Prints each table's rows as JSON lines, blobs as text. Run by n8n's Node from n8n's folder, where
// require finds the sqlite3 that n8n uses.
const DUMP_DATABASE = `
const sqlite3 = require('sqlite3');
const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY);
const all = (sql) => new Promise((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows))));
const text = (key, value) => (value && value.type === 'Buffer' && Array.isArray(value.data) ? Buffer.from(value.data).toString('utf8') : value);
(async () => {
	for (const { name } of await all("SELECT name FROM sqlite_master WHERE type = 'table'")) {
		for (const row of await all('SELECT * FROM "' + name.replaceAll('"', '""') + '"')) process.stdout.write(name + ' ' + JSON.stringify(row, text) + '\\n');
	}
	db.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

/**
 * `npm pack`s the built package, as `npm publish` would, and checks that the tarball holds every
 * file its package.json tells n8n to load (an unbuilt dist/ or a wrong `files` list shows up here).
 * @param {string} packageDir @param {string} destination @returns {string} the tarball's path
 */
export function packPackage(packageDir, destination) {
	const result = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
		cwd: packageDir,
		encoding: 'utf8',
	});
	if (result.status !== 0) throw new Error(`npm pack failed in ${packageDir}:\n${result.stderr}`);
	const [packed] = JSON.parse(result.stdout);
	const { n8n } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
	const files = new Set(packed.files.map((/** @type {{ path: string }} */ file) => file.path));
	const missing = [...n8n.nodes, ...n8n.credentials].filter((path) => !files.has(path));
	if (missing.length > 0) throw new Error(`The packed package lacks ${missing.join(', ')}: run npm run build first`);
	return join(destination, packed.filename);
}

/**
 * The part of a workflow's run (n8n's IRun) that the tests and summaries look at.
 * @typedef {{ json: Record<string, unknown> }} Item
 * @typedef {{ executionTime: number, executionStatus?: string, error?: { message: string, description?: string }, data?: { main: Array<Item[] | null> } }} TaskData
 * @typedef {{ status: string, startedAt: string, stoppedAt: string, data: { resultData: { runData: Record<string, TaskData[]>, error?: { message: string, description?: string } } } }} Run
 */

/**
 * `n8n execute --rawOutput` prints log lines, then the run as indented JSON that starts at the first
 * line that is exactly `{`; on failure more log lines follow its closing `}`.
 * @param {string} stdout @returns {Run | undefined}
 */
export function parseRun(stdout) {
	const lines = stdout.split('\n');
	const start = lines.indexOf('{');
	const end = lines.indexOf('}', start);
	return start < 0 || end < 0 ? undefined : JSON.parse(lines.slice(start, end + 1).join('\n'));
}

/** The JSON of every item a node put out on its first output, in order. @param {Run} run @param {string} nodeName */
export function nodeOutput(run, nodeName) {
	const task = run.data.resultData.runData[nodeName]?.[0];
	return (task?.data?.main[0] ?? []).map((item) => item.json);
}

/** A port nothing listens on now, on 127.0.0.1. @returns {Promise<number>} */
export async function freePort() {
	const server = createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** Keeps the newest logs only: every run writes one. */
function pruneLogs() {
	const logs = readdirSync(LOG_DIR)
		.filter((name) => name.startsWith('n8n-'))
		// Another process may be pruning too: a log gone in between is fine.
		.map((name) => ({ path: join(LOG_DIR, name), at: statSync(join(LOG_DIR, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
		.sort((a, b) => b.at - a.at);
	for (const { path } of logs.slice(KEPT_LOGS)) rmSync(path, { force: true });
}

/**
 * @param {import('./provision.mjs').Runtime} runtime
 * @param {{ name: string, port?: number, env?: Record<string, string> }} options `port` 0 or absent: any free
 *   port; `env` is laid over the settings below (queue mode's database, Redis and shared encryption key)
 */
export async function createInstance(runtime, { name, port = 0, env: extraEnv = {} }) {
	mkdirSync(LOG_DIR, { recursive: true });
	pruneLogs();
	const folder = mkdtempSync(join(tmpdir(), `n8n-easemob-${name}-`));
	const logFile = join(LOG_DIR, `n8n-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
	writeFileSync(logFile, '');
	const httpPort = port || (await freePort());
	// Settings from the caller must not change what the tests and the demo see: n8n keeps quiet and
	// skips work when NODE_ENV is "test" (as under jest), and NODE_OPTIONS is meant for this Node.
	const inherited = Object.fromEntries(
		Object.entries(process.env).filter(([key]) => !/^(N8N_|DB_)/.test(key) && key !== 'NODE_ENV' && key !== 'NODE_OPTIONS'),
	);
	const env = {
		...inherited,
		PATH: `${dirname(runtime.node)}:${process.env.PATH}`,
		N8N_USER_FOLDER: folder,
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
		DB_TYPE: 'sqlite',
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_PORT: String(httpPort),
		// Its own port too, so that several instances can run side by side.
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		// The editor is served over plain http on 127.0.0.1, where a Secure cookie may not stick.
		N8N_SECURE_COOKIE: 'false',
		...runtime.env,
		...extraEnv,
	};
	const url = `http://127.0.0.1:${httpPort}`;
	/** @type {import('node:child_process').ChildProcess | undefined} */
	let server;

	/** @param {string} line */
	const note = (line) => writeFileSync(logFile, `\n=== ${new Date().toISOString()} ${line}\n`, { flag: 'a' });

	/**
	 * Runs an n8n CLI command; stdout is returned and logged, stderr only logged.
	 * @param {string[]} args @returns {Promise<{ code: number | null, stdout: string }>}
	 */
	async function cli(args) {
		note(`n8n ${args.join(' ')}`);
		// n8n exits as soon as it has printed a run: through a pipe, a large run's end was lost
		// whenever this process read slower than n8n wrote. Writes to a file are never cut short.
		const outFile = join(folder, `stdout-${process.pid}-${Date.now()}.txt`);
		const [out, err] = [openSync(outFile, 'w'), openSync(logFile, 'a')];
		try {
			/** @type {{ code: number | null, signal: string | null }} */
			const { code, signal } = await new Promise((resolve, reject) => {
				const child = spawn(runtime.node, [runtime.n8n, ...args], { env, stdio: ['ignore', out, err] });
				child.on('error', reject);
				child.on('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
			});
			const stdout = readFileSync(outFile, 'utf8');
			writeFileSync(logFile, stdout, { flag: 'a' });
			note(`n8n ${args[0]} exited: ${code ?? signal}`);
			return { code, stdout };
		} finally {
			closeSync(out);
			closeSync(err);
			rmSync(outFile, { force: true });
		}
	}

	/** @param {string[]} args */
	async function cliOrThrow(args) {
		const { code, stdout } = await cli(args);
		if (code !== 0) throw new Error(`n8n ${args[0]} failed (exit code ${code}); n8n's log: ${logFile}`);
		return stdout;
	}

	/** @param {string} kind @param {unknown[]} entities */
	async function importFile(kind, entities) {
		const file = join(folder, `import-${kind}-${Date.now()}.json`);
		writeFileSync(file, JSON.stringify(entities, null, 2));
		await cliOrThrow([`import:${kind}`, `--input=${file}`]);
	}

	// /healthz/readiness answers before n8n 1.x has registered its REST routes, and every route
	// answers 200 "n8n is starting up" for a while: ready is when settings are JSON.
	const settingsReady = () =>
		fetch(`${url}/rest/settings`).then(
			async (response) => response.ok && (await response.json().catch(() => undefined))?.data !== undefined,
			() => false,
		);

	/** Stops `n8n start`, if running, and waits for it to exit. */
	async function stop() {
		const child = server;
		server = undefined;
		if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		await exited;
		clearTimeout(timer);
	}

	return {
		name,
		folder,
		logFile,
		url,

		/**
		 * Installs the package the way a user does by hand: its tarball into n8n's `nodes` folder,
		 * where n8n loads every `n8n-nodes-*` package as `<package name>.<node name>`.
		 * @param {string} tarball
		 */
		async installPackage(tarball) {
			const nodesDir = join(folder, '.n8n', 'nodes');
			mkdirSync(nodesDir, { recursive: true });
			note(`npm install ${tarball}`);
			// n8n provides n8n-workflow, the package's only peer dependency: never install it.
			const result = spawnSync(
				'npm',
				['install', '--prefix', nodesDir, '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-package-lock', tarball],
				{ encoding: 'utf8' },
			);
			writeFileSync(logFile, result.stdout + result.stderr, { flag: 'a' });
			if (result.status !== 0) throw new Error(`Installing ${tarball} into n8n failed; see ${logFile}`);
		},

		/** @param {Array<{ id: string, name: string, type: string, data: Record<string, unknown> }>} credentials */
		importCredentials: (credentials) => importFile('credentials', credentials),

		/** @param {Array<Record<string, unknown>>} workflows each with an `id` */
		importWorkflows: (workflows) => importFile('workflow', workflows),

		/** Makes a workflow's triggers (a webhook, a schedule) live when n8n next starts. @param {string} id */
		publish: (id) =>
			// n8n 1.x has no publishing: a workflow's triggers are live while it is active.
			cliOrThrow(runtime.version.startsWith('1.') ? ['update:workflow', `--id=${id}`, '--active=true'] : ['publish:workflow', `--id=${id}`]),

		/**
		 * Runs a workflow from its Manual Trigger in a new n8n process, as `n8n execute` does.
		 * @param {string} id
		 * @returns {Promise<{ ok: boolean, run: Run, stdout: string }>} `ok` false when the run failed;
		 *   its error is in `run`; `stdout` is all that n8n printed
		 */
		async execute(id) {
			const { code, stdout } = await cli(['execute', `--id=${id}`, '--rawOutput']);
			const run = parseRun(stdout);
			if (run === undefined) throw new Error(`n8n execute --id=${id} printed no run (exit code ${code}); n8n's log: ${logFile}`);
			// The run's status, not the exit code: once in a while n8n exits non-zero while shutting
			// down after a run it reported as successful.
			return { ok: run.status === 'success', run, stdout };
		},

		/**
		 * Every row of every table in n8n's database (executions as stored, credentials, settings),
		 * as text: for checking what n8n keeps. Read with n8n's own sqlite3, while no n8n runs.
		 * @returns {string}
		 */
		databaseText() {
			const result = spawnSync(runtime.node, ['-e', DUMP_DATABASE, join(folder, '.n8n', 'database.sqlite')], {
				cwd: runtime.n8nDir,
				encoding: 'utf8',
				maxBuffer: 256 * 1024 * 1024,
			});
			if (result.status !== 0) throw new Error(`Reading n8n's database failed:\n${result.stderr}`);
			return result.stdout;
		},

		/**
		 * Runs several workflows one after the other in one n8n process (`n8n execute-batch`), so n8n
		 * starts once. Only successful runs are returned whole: n8n writes no run data for failed ones.
		 * @param {string[]} ids each must contain a digit, or execute-batch ignores it
		 * @returns {Promise<{ runs: Map<string, Run>, failed: Array<{ workflowId: string, error: string }> }>}
		 */
		async executeBatch(ids) {
			const snapshots = mkdtempSync(join(folder, 'batch-'));
			const summary = join(snapshots, 'summary.json');
			// execute-batch retries failed workflows once by default, which would run them twice.
			await cli(['execute-batch', `--ids=${ids.join(',')}`, '--retries=0', `--snapshot=${snapshots}`, `--output=${summary}`]);
			let result;
			try {
				result = JSON.parse(readFileSync(summary, 'utf8'));
			} catch {
				throw new Error(`n8n execute-batch wrote no summary; n8n's log: ${logFile}`);
			}
			const runs = new Map();
			for (const id of ids) {
				const file = join(snapshots, `${id}-snapshot.json`);
				try {
					runs.set(id, JSON.parse(readFileSync(file, 'utf8')));
				} catch {
					// no snapshot: the workflow failed and is listed in the summary's errors
				}
			}
			return { runs, failed: result.summary.errors };
		},

		/** The process `start` started, while it runs. */
		get pid() {
			return server?.exitCode === null && server.signalCode === null ? server.pid : undefined;
		},

		/**
		 * Starts `n8n start` and waits until its REST API answers, or another long-running command
		 * (`n8n worker`) and waits until `ready` resolves true.
		 * @param {{ command?: string, ready?: () => Promise<boolean> }} [options]
		 */
		async start({ command = 'start', ready: isReady = settingsReady } = {}) {
			note(`n8n ${command}`);
			const fd = openSync(logFile, 'a');
			server = spawn(runtime.node, [runtime.n8n, command], { env, stdio: ['ignore', fd, fd] });
			closeSync(fd);
			const child = server;
			const exited = new Promise((resolve) => child.once('exit', resolve));
			const deadline = Date.now() + 180_000;
			for (;;) {
				if (await isReady()) return;
				const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 500))]);
				if (stopped) throw new Error(`n8n ${command} stopped while starting (exit code ${child.exitCode}); n8n's log: ${logFile}`);
				if (Date.now() > deadline) throw new Error(`n8n ${command} did not become ready in 3 minutes; n8n's log: ${logFile}`);
			}
		},

		/**
		 * Creates the owner account, which n8n asks for on its first visit, so that the editor opens
		 * on the sign-in page instead.
		 * @param {{ email: string, password: string, firstName: string, lastName: string }} owner
		 */
		async setupOwner(owner) {
			const response = await fetch(`${url}/rest/owner/setup`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify(owner),
			});
			if (!response.ok) throw new Error(`n8n refused the owner account (${response.status} ${await response.text()}); n8n's log: ${logFile}`);
		},

		stop,

		/** Resolves with the exit code once `n8n start` has exited, for whatever reason. */
		waitForExit() {
			const child = server;
			if (child === undefined) return Promise.resolve(null);
			return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
		},

		/** Stops n8n and deletes the user folder; the log file stays. */
		async dispose() {
			await stop();
			rmSync(folder, { recursive: true, force: true });
		},
	};
}
