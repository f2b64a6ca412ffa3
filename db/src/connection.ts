import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from './types.ts';

const DATE_OID = 1082;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

// Per-pool parsers rather than pg's global registry, so importing this module changes nothing
// for other users of pg in the same process.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // a local calendar date is a value, not an instant: keep 'yyyy-MM-dd'
    if (oid === DATE_OID) return (value: string) => value;
    // counts and bigserial ids fit comfortably in a double
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface DbOptions {
  /** pool size; default 10 */
  max?: number;
  applicationName?: string;
}

export type Db = Kysely<Database>;

export function createPool(url: string, options: DbOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'qms',
    types,
    connectionTimeoutMillis: 10_000,
  });
  // A client losing its connection (database restart) must not crash the process. pg-pool
  // listens only to idle clients; a checked-out one (inside a transaction, or the socket.io
  // adapter's LISTEN client) needs its own listener. Its query in flight fails and the pool
  // drops the broken client on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Each Db's pool, for its figures (GET /metrics): Kysely keeps it to itself. */
const pools = new WeakMap<Db, pg.Pool>();

export function createDb(url: string, options: DbOptions = {}): Db {
  const pool = createPool(url, options);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
  });
  pools.set(db, pool);
  return db;
}

/** Connections of a Db's pool: open, idle among them, and queries waiting for one. */
export function poolUse(db: Db): { total: number; idle: number; waiting: number } | undefined {
  const pool = pools.get(db);
  return pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** Whether the database answers a query now (GET /api/health). */
export async function reachable(db: Db): Promise<boolean> {
  return sql`select 1`.execute(db).then(() => true, () => false);
}
