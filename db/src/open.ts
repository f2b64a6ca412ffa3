import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { credentialsFile, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.ts';
import { blockedFolder, postgresUser, type RunAs } from './postgres-process.ts';
import { projectRoot } from './project-root.ts';

export interface OpenedDatabase {
  url: string;
  /** set when this process started the embedded PostgreSQL (and must stop it) */
  embedded?: EmbeddedPostgresHandle;
  describe: string;
  /** the data folder (QMS_DATA_DIR) of an embedded database */
  dataDir?: string;
  /** the embedded cluster another process (the server) runs, which this one only connects to */
  running?: { pid: number };
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL kept under QMS_DATA_DIR
 * (default ./data; see defaultDataDir), started now and reused on the next start.
 */
export async function openDatabase(log: (line: string) => void = () => {}): Promise<OpenedDatabase> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const u = new URL(external);
    return { url: external, describe: `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}` };
  }
  const dataDir = embeddedDataDir(log);
  const port = process.env.QMS_PG_PORT ? Number(process.env.QMS_PG_PORT) : undefined;
  const embedded = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), port, log });
  return { url: embedded.url, embedded, dataDir, describe: `embedded PostgreSQL in ${path.join(dataDir, 'pg')} (127.0.0.1:${embedded.port})` };
}

/** QMS_DATA_DIR, or data/ at the project root. */
export function embeddedDataDir(log: (line: string) => void = () => {}): string {
  return path.resolve(process.env.QMS_DATA_DIR || defaultDataDir(projectRoot, log));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // it exists, but runs as another user (PostgreSQL as "postgres" when the server runs as root)
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded cluster of QMS_DATA_DIR as the running server started it, if one runs: its
 * postmaster holds the folder, so another process cannot start it, only connect to it (the
 * port is on the 4th line of postmaster.pid, the passwords in the credentials file beside it).
 */
export async function runningEmbedded(dataDir = embeddedDataDir(), database = 'qms'): Promise<OpenedDatabase | undefined> {
  const dir = path.join(dataDir, 'pg');
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  let credentials: { app: { user: string; password: string } };
  try {
    credentials = JSON.parse(await readFile(credentialsFile(dir), 'utf8')) as typeof credentials;
  } catch (error) {
    throw new Error(`PostgreSQL runs in ${dir} (pid ${pid}), but its passwords in ${credentialsFile(dir)} cannot be read (${(error as Error).message}): run this as the user that runs the server`);
  }
  const { user, password } = credentials.app;
  return {
    url: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    dataDir,
    running: { pid },
    describe: `embedded PostgreSQL in ${dir} (127.0.0.1:${port}, run by the server)`,
  };
}

/**
 * For tools run beside the server (npm run backup): DATABASE_URL; else the embedded cluster the
 * running server started; else that cluster started by this process (to be stopped after).
 */
export async function openDatabaseBeside(log: (line: string) => void = () => {}): Promise<OpenedDatabase> {
  if (process.env.DATABASE_URL) return openDatabase(log);
  return (await runningEmbedded()) ?? openDatabase(log);
}

/** Where the embedded PostgreSQL keeps its data when the server runs as root and cannot use the checkout's data/. */
export const ROOT_DATA_DIR = '/var/lib/qms';

/**
 * The checkout's data/ folder, unless the server runs as root from a folder the user
 * "postgres" (which PostgreSQL then runs as) cannot enter, such as a checkout under /root:
 * then /var/lib/qms, said in the log.
 */
export function defaultDataDir(root: string, log: (line: string) => void = () => {}, user: RunAs | undefined = postgresUser()): string {
  const inCheckout = path.join(root, 'data');
  const blocked = user && blockedFolder(user, inCheckout);
  if (!blocked) return inCheckout;
  log(`embedded PostgreSQL: the user "postgres" cannot enter ${blocked}, so the data lives in ${ROOT_DATA_DIR} (QMS_DATA_DIR chooses another folder)`);
  return ROOT_DATA_DIR;
}
