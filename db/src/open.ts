import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.ts';
import { blockedFolder, postgresUser, type RunAs } from './postgres-process.ts';
import { projectRoot } from './project-root.ts';

export interface OpenedDatabase {
  url: string;
  /** set when this process started the embedded PostgreSQL (and must stop it) */
  embedded?: EmbeddedPostgresHandle;
  describe: string;
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
  const dataDir = path.resolve(process.env.QMS_DATA_DIR || defaultDataDir(projectRoot, log));
  const port = process.env.QMS_PG_PORT ? Number(process.env.QMS_PG_PORT) : undefined;
  const embedded = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), port, log });
  return { url: embedded.url, embedded, describe: `embedded PostgreSQL in ${path.join(dataDir, 'pg')} (127.0.0.1:${embedded.port})` };
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
