import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { PostgresProcess } from './postgres-process.ts';

export interface EmbeddedOptions {
  /** cluster directory; created and initialised when missing */
  dir: string;
  /** TCP port on 127.0.0.1; a free one is chosen when omitted */
  port?: number;
  /** database to create if missing */
  database?: string;
  /** settings for a throwaway test cluster: no fsync, more connections */
  fast?: boolean;
  /** addresses to listen on (default 127.0.0.1 only; the bench adds its network namespaces' side) */
  listenAddresses?: string[];
  /** more server settings (`-c name=value`), e.g. the bench's pg_stat_statements */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** the application's connection: its own role, which owns the database and is no superuser */
  url: string;
  /** the superuser's connection to the maintenance database, for CREATE DATABASE (tests) */
  adminUrl: string;
  port: number;
  /** `running`, or `restarting` after PostgreSQL died (it is started again with back-off) */
  state(): EmbeddedState;
  /** how many times it was started again after dying */
  restarts(): number;
  stop(): Promise<void>;
}

export type EmbeddedState = 'running' | 'restarting' | 'stopped';

/** The cluster's superuser (initdb's bootstrap user) and the application's role. */
const SUPERUSER = 'qms';
const APP_ROLE = 'qms_app';
/** What clusters made before per-cluster passwords used (issue 14): replaced on their next start. */
const LEGACY_PASSWORD = 'qms';
/** Waits before each attempt to start PostgreSQL again after it died, the last one repeated. */
const RESTART_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000, 15_000];

interface Credentials {
  superuser: { user: string; password: string };
  app: { user: string; password: string };
}

const secret = () => randomBytes(24).toString('base64url');

/**
 * The cluster's passwords, beside it in the data folder (mode 0600, like PostgreSQL's own
 * files): random per cluster, so a local user of the site server cannot sign in to it.
 */
export function credentialsFile(dir: string): string {
  return path.join(path.dirname(dir), `${path.basename(dir)}-credentials.json`);
}

async function readCredentials(file: string): Promise<Credentials | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as Credentials;
}

async function writeCredentials(file: string, credentials: Credentials): Promise<void> {
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

const urlOf = (user: string, password: string, port: number, database: string) =>
  `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

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
  // gone between the look and the read: that postmaster has just finished stopping
  const text = await readFile(pidFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return;
  const pid = Number(text.split('\n')[0]);
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
  const flags = ['-c', `listen_addresses=${(options.listenAddresses ?? ['127.0.0.1']).join(',')}`, '-c', 'unix_socket_directories=', '-c', `max_connections=${options.fast ? 1000 : 300}`];
  if (options.fast) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  for (const [name, value] of Object.entries(options.settings ?? {})) flags.push('-c', `${name}=${value}`);
  const file = credentialsFile(dir);
  let credentials = await readCredentials(file);
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  // PostgreSQL killed or crashed: started again by itself, with back-off, until it runs
  let state: EmbeddedState = 'running';
  let restarts = 0;
  let stopping: Promise<void> | undefined;
  const server = new PostgresProcess({
    dir,
    port,
    flags,
    onLog: (message) => {
      recent.push(message);
      if (recent.length > 40) recent.shift();
    },
    onExit: (code, signal) => {
      if (stopping) return;
      state = 'restarting';
      log(`embedded PostgreSQL: stopped unexpectedly (${signal ?? `exit ${code}`}); starting it again`);
      void restart();
    },
  });
  const restart = async () => {
    for (let attempt = 0; !stopping; attempt++) {
      await new Promise((r) => setTimeout(r, RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]));
      if (stopping) return;
      try {
        await stopOrphan(dir, log);
        await server.start();
        if (stopping) return;
        state = 'running';
        restarts++;
        log(`embedded PostgreSQL: running again on port ${port} (attempt ${attempt + 1})`);
        return;
      } catch (error) {
        log(`embedded PostgreSQL: could not start it again (attempt ${attempt + 1}): ${String(error ?? recent.at(-1) ?? '').trim().slice(0, 300)}`);
      }
    }
  };
  // initdb's superuser password, used only until the first start gives the cluster its own
  const bootstrapPassword = fresh ? secret() : (credentials?.superuser.password ?? LEGACY_PASSWORD);

  if (fresh) {
    await mkdir(path.dirname(dir), { recursive: true });
    await server.initialise(SUPERUSER, bootstrapPassword, ['--encoding=UTF8', '--locale=C.UTF-8']);
  } else {
    await stopOrphan(dir, log);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${port}:\n${recent.join('')}${error ? String(error) : ''}`);
  }

  const database = options.database ?? 'qms';
  if (!credentials) {
    // a new cluster, or one made before it had passwords of its own (qms/qms): both get theirs now
    credentials = { superuser: { user: SUPERUSER, password: secret() }, app: { user: APP_ROLE, password: secret() } };
    if (!fresh) log('embedded PostgreSQL: giving the cluster passwords of its own and an application role that is no superuser');
    await withClient(urlOf(SUPERUSER, bootstrapPassword, port, 'postgres'), async (client) => {
      await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(credentials!.superuser.password)}`);
    }).catch((error: unknown) => {
      throw new Error(`embedded PostgreSQL in ${dir}: cannot sign in to it (${String(error)}). Its passwords are kept in ${file}: restore that file from a backup of the data folder`);
    });
    await writeCredentials(file, credentials);
  }
  const admin = urlOf(credentials.superuser.user, credentials.superuser.password, port, 'postgres');
  await withClient(admin, async (client) => {
    await ensureAppRole(client, credentials!.app);
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${APP_ROLE}`);
  });
  // the application's database belongs to its role, with everything in it (also what a cluster of
  // an earlier version made as the superuser); the maintenance database stays the superuser's
  if (database !== 'postgres') {
    await withClient(urlOf(credentials.superuser.user, credentials.superuser.password, port, database), (client) => handOver(client, database));
  }

  return {
    url: urlOf(credentials.app.user, credentials.app.password, port, database),
    adminUrl: admin,
    port,
    state: () => (stopping ? 'stopped' : state),
    restarts: () => restarts,
    stop: () => (stopping ??= server.stop()),
  };
}

/** The application's role: it signs in with its own password, and may not do what a superuser does. */
async function ensureAppRole(client: pg.Client, app: Credentials['app']): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [app.user]);
  const password = client.escapeLiteral(app.password);
  await client.query(exists.rowCount
    ? `ALTER ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`
    : `CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`);
}

/**
 * Gives the database and what is in its public schema (tables, sequences, views, functions)
 * to the application's role: migrations run as that role, and a cluster made by an earlier
 * version had them all owned by the superuser. Extensions stay the superuser's.
 */
async function handOver(client: pg.Client, database: string): Promise<void> {
  await client.query(`ALTER DATABASE ${client.escapeIdentifier(database)} OWNER TO ${APP_ROLE}`);
  await client.query(`
    DO $$
    DECLARE r record;
    BEGIN
      FOR r IN
        SELECT format('ALTER %s %I.%I OWNER TO ${APP_ROLE}',
                 CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                 n.nspname, c.relname) AS stmt
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> '${APP_ROLE}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
      LOOP EXECUTE r.stmt; END LOOP;
      FOR r IN
        SELECT format('ALTER %s %s OWNER TO ${APP_ROLE}', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure) AS stmt
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '${APP_ROLE}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      LOOP EXECUTE r.stmt; END LOOP;
      FOR r IN
        SELECT format('ALTER TYPE %I.%I OWNER TO ${APP_ROLE}', n.nspname, t.typname) AS stmt
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND pg_get_userbyid(t.typowner) <> '${APP_ROLE}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
      LOOP EXECUTE r.stmt; END LOOP;
    END $$`);
}
