import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.ts';

export interface OpenedDatabase {
  url: string;
  /** set when this process started the embedded PostgreSQL (and must stop it) */
  embedded?: EmbeddedPostgresHandle;
  describe: string;
}

/** The project root: data/ lives there whatever the working directory. */
export const projectRoot = path.resolve(import.meta.dirname, '../..');

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL kept under QMS_DATA_DIR
 * (default ./data), started now and reused on the next start.
 */
export async function openDatabase(log: (line: string) => void = () => {}): Promise<OpenedDatabase> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const u = new URL(external);
    return { url: external, describe: `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}` };
  }
  const dataDir = path.resolve(process.env.QMS_DATA_DIR ?? path.join(projectRoot, 'data'));
  const port = process.env.QMS_PG_PORT ? Number(process.env.QMS_PG_PORT) : undefined;
  const embedded = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), port, log });
  return { url: embedded.url, embedded, describe: `embedded PostgreSQL in ${path.join(dataDir, 'pg')} (127.0.0.1:${embedded.port})` };
}
