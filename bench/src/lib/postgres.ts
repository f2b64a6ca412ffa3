import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, migrateToLatest, startEmbeddedPostgres, type Db, type EmbeddedPostgresHandle } from '@qms/db';

// One embedded PostgreSQL for the whole bench run, in a temp dir, with production settings
// (fast: false: fsync and synchronous commit stay on, as on a site server). Each benchmark
// gets its own migrated database so table sizes do not leak from one into the next.

export interface BenchPostgres {
  adminUrl: string;
  port: number;
  /** the cluster's data directory (pg_hba.conf) */
  dataDir: string;
  /** a new migrated database; returns its URL */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function startBenchPostgres(options: { fast?: boolean; listenAddresses?: string[]; settings?: Record<string, string>; log?: (line: string) => void } = {}): Promise<BenchPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-bench-pg-'));
  await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
  let embedded: EmbeddedPostgresHandle;
  try {
    embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: options.fast ?? false, database: 'postgres', listenAddresses: options.listenAddresses, settings: options.settings, log: options.log });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const admin = async <T>(work: (client: pg.Client) => Promise<T>) => {
    const client = new pg.Client({ connectionString: embedded.adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    adminUrl: embedded.adminUrl,
    port: embedded.port,
    dataDir: path.join(dir, 'pg'),
    async createDatabase(name) {
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      });
      const url = withDatabase(embedded.adminUrl, name);
      const db = createDb(url, { max: 1 });
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
      return url;
    },
    async dropDatabase(name) {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).catch(() => {});
    },
    async stop() {
      await embedded.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

export type { Db };
