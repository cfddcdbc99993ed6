// n8n in queue mode, as users scale it out: Redis (Bull) queues the executions, PostgreSQL holds
// n8n's data, a main process takes webhooks, `n8n worker` processes run the executions. Redis and
// PostgreSQL come from Debian's packages (redis-server, postgresql) and run here as processes of
// our own on 127.0.0.1, each with a free port and a throwaway data directory, never as the
// system's services. Everything started here is stopped by PID: by `dispose`, and also when this
// process ends or is interrupted.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createInstance, freePort, packPackage } from './instance.mjs';
import { LOG_DIR } from './provision.mjs';

const execFileAsync = promisify(execFile);
const DATABASE = 'n8n';
const READY_TIMEOUT_MS = 60_000;

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

// What must go if this process ends before `dispose` ran: PIDs to kill, directories to delete.
/** @type {Set<() => number | undefined>} */
const livePids = new Set();
/** @type {Set<string>} */
const liveDirs = new Set();

function killAll() {
	for (const pid of livePids) {
		const value = pid();
		if (value !== undefined) {
			try {
				process.kill(value, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	}
	for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
}

let hooked = false;
function hookExit() {
	if (hooked) return;
	hooked = true;
	process.once('exit', killAll);
	for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
		process.once(signal, () => {
			killAll();
			process.exit(signal === 'SIGINT' ? 130 : 143);
		});
	}
}

/**
 * The newest PostgreSQL server on the machine: Debian installs each major version side by side
 * under /usr/lib/postgresql/<major>/bin and puts none of the server programs on PATH.
 * @returns {string} the bin directory
 */
export function findPostgres() {
	const root = '/usr/lib/postgresql';
	const majors = existsSync(root)
		? readdirSync(root)
				.filter((major) => ['postgres', 'initdb', 'psql', 'pg_dump'].every((program) => existsSync(join(root, major, 'bin', program))))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (majors.length === 0) throw new Error(`No PostgreSQL server under ${root}/*/bin: apt-get install postgresql`);
	return join(root, majors[0], 'bin');
}

/** @returns {string} */
export function findRedis() {
	const found = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
	if (found === undefined) throw new Error('No redis-server in /usr/bin or /usr/local/bin: apt-get install redis-server');
	return found;
}

/** @param {string} name */
function logFileFor(name) {
	mkdirSync(LOG_DIR, { recursive: true });
	return join(LOG_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
}

/**
 * Spawns a server with its output in a log file, remembered for killAll until it exits.
 * @param {string} program @param {string[]} args @param {string} logFile
 * @param {{ uid?: number, gid?: number }} [user]
 */
function spawnServer(program, args, logFile, user = {}) {
	const fd = openSync(logFile, 'a');
	const child = spawn(program, args, { stdio: ['ignore', fd, fd], ...user });
	closeSync(fd);
	const pid = () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined);
	livePids.add(pid);
	child.once('exit', () => livePids.delete(pid));
	return child;
}

/**
 * Sends `signal` and waits for the exit, with SIGKILL after 30 s.
 * @param {ChildProcess} child @param {NodeJS.Signals} signal
 */
async function stopChild(child, signal) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill(signal);
	const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
	await exited;
	clearTimeout(timer);
}

/**
 * Polls `check` until it resolves true; fails early when `child` exits.
 * @param {string} what @param {ChildProcess} child @param {() => Promise<boolean>} check @param {string} logFile
 */
async function waitReady(what, child, check, logFile) {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	for (;;) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`${what} exited while starting (${child.exitCode ?? child.signalCode}); its log: ${logFile}`);
		}
		if (await check()) return;
		if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${READY_TIMEOUT_MS / 1000} s; its log: ${logFile}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

/** Redis on 127.0.0.1, nothing saved to disk. */
export async function startRedis() {
	hookExit();
	const dir = mkdtempSync(join(tmpdir(), 'n8n-easemob-redis-'));
	liveDirs.add(dir);
	const port = await freePort();
	const logFile = logFileFor('redis');
	const child = spawnServer(
		findRedis(),
		['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
		logFile,
	);
	const ping = () =>
		new Promise((resolve) => {
			const socket = connect(port, '127.0.0.1');
			socket.setTimeout(1000, () => socket.destroy());
			socket.once('error', () => resolve(false));
			socket.once('close', () => resolve(false));
			socket.once('connect', () => socket.write('PING\r\n'));
			socket.once('data', (data) => {
				resolve(data.toString().startsWith('+PONG'));
				socket.destroy();
			});
		});
	await waitReady('redis-server', child, /** @type {() => Promise<boolean>} */ (ping), logFile);
	return {
		port,
		logFile,
		async stop() {
			await stopChild(child, 'SIGTERM');
			rmSync(dir, { recursive: true, force: true });
			liveDirs.delete(dir);
		},
	};
}

/**
 * PostgreSQL on 127.0.0.1 with a database and a role for n8n, trusting local connections. The
 * server refuses to run as root, so as root it runs as Debian's `postgres` user, in a data
 * directory that user owns.
 */
export async function startPostgres() {
	hookExit();
	const bin = findPostgres();
	const dir = mkdtempSync(join(tmpdir(), 'n8n-easemob-postgres-'));
	liveDirs.add(dir);
	/** @type {{ uid?: number, gid?: number }} */
	let user = {};
	if (process.getuid?.() === 0) {
		const id = (/** @type {string} */ flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
		user = { uid: id('-u'), gid: id('-g') };
		if (!Number.isInteger(user.uid) || user.uid === 0) throw new Error('Running as root, and there is no postgres user to run PostgreSQL as');
		chownSync(dir, /** @type {number} */ (user.uid), /** @type {number} */ (user.gid));
	}
	const data = join(dir, 'data');
	const logFile = logFileFor('postgres');
	// Not spawnSync: Redis and the rest start meanwhile, and a signal is handled at once.
	await execFileAsync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], user).catch(
		(/** @type {{ stdout?: string, stderr?: string }} */ error) => {
			throw new Error(`initdb failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
		},
	);
	const port = await freePort();
	const child = spawnServer(
		join(bin, 'postgres'),
		// fsync off: the data is thrown away, and a test should not wait for the disk.
		['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off'],
		logFile,
		user,
	);
	/** @param {string} database @param {string} sql */
	const psql = async (database, sql) =>
		(
			await execFileAsync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
				maxBuffer: 256 * 1024 * 1024,
			})
		).stdout;
	await waitReady('postgres', child, () => psql('postgres', 'SELECT 1').then(() => true, () => false), logFile);
	const password = randomBytes(12).toString('hex');
	await psql('postgres', `CREATE ROLE n8n LOGIN PASSWORD '${password}'`);
	await psql('postgres', `CREATE DATABASE ${DATABASE} OWNER n8n`);
	return {
		port,
		logFile,
		database: DATABASE,
		user: 'n8n',
		password,
		/** Runs one SQL statement in n8n's database; rows as psql's unaligned output. @param {string} sql */
		query: (sql) => psql(DATABASE, sql),
		/** Every row of every table of n8n's database, as INSERT statements. */
		dump() {
			const result = spawnSync(
				join(bin, 'pg_dump'),
				['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '--data-only', '--inserts', DATABASE],
				{ encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
			);
			if (result.status !== 0) throw new Error(`pg_dump failed:\n${result.stderr}`);
			return result.stdout;
		},
		async stop() {
			// SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
			await stopChild(child, 'SIGINT');
			rmSync(dir, { recursive: true, force: true });
			liveDirs.delete(dir);
		},
	};
}

/**
 * @typedef {{ id: string, workflowId: string, status: string, startedAt: string | null, stoppedAt: string | null }} Execution
 * @typedef {Awaited<ReturnType<typeof createInstance>>} Instance
 */

/**
 * Redis, PostgreSQL, and n8n's main and `workers` worker processes, all with one encryption key,
 * each in its own user folder with the packed package installed. Import and publish workflows on
 * `main` first, then `start()`: webhook calls to main are then run by the workers.
 * @param {import('./provision.mjs').Runtime} runtime
 * @param {{ name: string, packageDir: string, workers?: number }} options
 */
export async function createQueue(runtime, { name, packageDir, workers: workerCount = 2 }) {
	hookExit();
	/** @type {Array<{ stop: () => Promise<void> }>} */
	const services = [];
	/** @type {Instance[]} */
	const instances = [];
	const dispose = async () => {
		await Promise.all(instances.map((instance) => instance.dispose().then(() => liveDirs.delete(instance.folder))));
		await Promise.all(services.map((service) => service.stop()));
	};
	try {
		const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
		services.push(redis, postgres);
		const shared = {
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(postgres.port),
			DB_POSTGRESDB_DATABASE: postgres.database,
			DB_POSTGRESDB_USER: postgres.user,
			DB_POSTGRESDB_PASSWORD: postgres.password,
			// Its start-up reaches for the internet, which this machine does not have.
			N8N_DISABLED_MODULES: 'mcp-registry',
		};
		const main = await createInstance(runtime, { name: `${name}-main`, env: shared });
		instances.push(main);
		/** @type {number[]} */
		const healthPorts = [];
		for (let i = 1; i <= workerCount; i += 1) {
			const healthPort = await freePort();
			healthPorts.push(healthPort);
			const env = { ...shared, QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(healthPort) };
			instances.push(await createInstance(runtime, { name: `${name}-worker${i}`, env }));
		}
		for (const instance of instances) {
			livePids.add(() => instance.pid);
			liveDirs.add(instance.folder);
		}
		const tarball = packPackage(packageDir, main.folder);
		for (const instance of instances) await instance.installPackage(tarball);
		const workers = instances.slice(1);
		/** @type {{ parse: (text: string) => any }} */
		const flatted = createRequire(join(runtime.n8nDir, 'node_modules', 'n8n', 'package.json'))('flatted');

		return {
			main,
			workers,
			redis,
			postgres,
			/** Every log: main's, each worker's, Redis's and PostgreSQL's. */
			logFiles: () => [...instances.map((instance) => instance.logFile), redis.logFile, postgres.logFile],

			/** Starts main and the workers, and waits until each is ready. */
			async start() {
				await Promise.all([
					main.start(),
					...workers.map((worker, i) =>
						worker.start({
							command: 'worker',
							ready: () => fetch(`http://127.0.0.1:${healthPorts[i]}/healthz/readiness`).then((r) => r.ok, () => false),
						}),
					),
				]);
			},

			/**
			 * Waits until main serves the published webhook at `path` (below /webhook/): main picks
			 * up published workflows a few seconds after it answers. Asked with another method, which
			 * starts no execution: n8n then names the methods the path is registered for.
			 * @param {string} path @param {string} [method]
			 */
			async waitForWebhook(path, method = 'POST') {
				const probe = method === 'GET' ? 'PATCH' : 'GET';
				const deadline = Date.now() + READY_TIMEOUT_MS;
				for (;;) {
					const answer = await fetch(`${main.url}/webhook/${path}`, { method: probe }).then(
						(response) => response.text(),
						() => '',
					);
					if (answer.includes('Did you mean to make a') && answer.includes(method)) return;
					if (Date.now() > deadline) throw new Error(`n8n did not serve ${method} /webhook/${path} in time; n8n's log: ${main.logFile}`);
					await new Promise((resolve) => setTimeout(resolve, 250));
				}
			},

			/** n8n's execution records, oldest first. @returns {Promise<Execution[]>} */
			async executions() {
				const json = await postgres.query(
					`SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT id::text, "workflowId", status, "startedAt", "stoppedAt" FROM execution_entity) e`,
				);
				return JSON.parse(json);
			},

			/**
			 * What n8n stored of an execution's run (flatted JSON, read with n8n's own flatted).
			 * @param {string} id @returns {Promise<{ resultData: { runData: Record<string, any[]>, error?: { message: string } } }>}
			 */
			async runOf(id) {
				const text = await postgres.query(`SELECT data FROM execution_data WHERE "executionId" = ${Number(id)}`);
				return flatted.parse(text);
			},

			/**
			 * Which worker ran each execution, by the line each worker logs when it takes a job.
			 * @returns {Map<string, number>} execution id → worker index (0-based)
			 */
			workerOf() {
				const map = new Map();
				workers.forEach((worker, index) => {
					for (const match of readFileSync(worker.logFile, 'utf8').matchAll(/Worker started execution (\d+)/g)) map.set(match[1], index);
				});
				return map;
			},

			dispose,
		};
	} catch (error) {
		await dispose();
		throw error;
	}
}
