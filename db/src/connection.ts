import { createHash } from 'node:crypto';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, sql } from 'kysely';
import { niceBackends } from './backend-nice.ts';
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
  /** every statement of the pool's connections is cancelled after this (ms; PostgreSQL's statement_timeout); default none */
  statementTimeoutMs?: number;
  /** a statement waiting this long for a lock is cancelled (ms; lock_timeout); default none */
  lockTimeoutMs?: number;
  /** how long a query waits for a free connection before it fails (ms); default 10 s */
  waitMs?: number;
  /** queries waiting for a connection at most: the next one fails at once with PoolBusyError; default no bound */
  queueLimit?: number;
  /** keep the statements this pool runs prepared on each connection (preparedStatements); default true, false with QMS_DB_PREPARE=off */
  prepare?: boolean;
  /** PostgreSQL's max_parallel_workers_per_gather for the pool's statements (0: a statement runs on its own backend only); default PostgreSQL's */
  parallelWorkers?: number;
  /** the nice value of the pool's backends, when the database is on this machine (backend-nice.ts); default unchanged */
  backendNice?: number;
  /** with backendNice, the backends under SCHED_IDLE as well (backend-nice.ts, schedIdle); default false */
  backendIdle?: boolean;
  /** the pool's connections taken after its `ready`, their statements run through its `run` (the reports' pace); default none */
  pace?: StatementPace;
}

/** What may hold back a pool's work (server/src/reports/pace.ts: the reports' pace). */
export interface StatementPace {
  /** before a connection is taken (for a transaction, or a statement outside one); what it answers is called when the connection goes back */
  ready(): Promise<() => void>;
  /** around each statement */
  run<T>(statement: () => Promise<T>): Promise<T>;
}

/**
 * A query refused a connection: every connection of its pool was taken and `queueLimit`
 * queries were already waiting (or it waited `waitMs` in vain). Its pool is small on purpose
 * (the reports' own, server/src/app.ts): the caller answers "busy, try again", never waits on.
 */
export class PoolBusyError extends Error {
  constructor(readonly waitMs: number) {
    super('Every connection of the pool is in use and its queue is full');
    this.name = 'PoolBusyError';
  }
}

export type Db = Kysely<Database>;

export function createPool(url: string, options: DbOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'qms',
    types,
    connectionTimeoutMillis: options.waitMs ?? 10_000,
    // startup parameters: they hold for every statement of every connection of the pool
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.lockTimeoutMs ? { lock_timeout: options.lockTimeoutMs } : {}),
    ...(options.parallelWorkers !== undefined ? { options: `-c max_parallel_workers_per_gather=${options.parallelWorkers}` } : {}),
  });
  // A client losing its connection (database restart) must not crash the process. pg-pool
  // listens only to idle clients; a checked-out one (inside a transaction, or the socket.io
  // adapter's LISTEN client) needs its own listener. Its query in flight fails and the pool
  // drops the broken client on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  if (options.prepare ?? process.env.QMS_DB_PREPARE !== 'off') pool.on('connect', preparedStatements);
  if (options.backendNice !== undefined) niceBackends(pool, url, options.backendNice, options.backendIdle);
  const pace = options.pace;
  // after preparedStatements: the statement it runs, prepared or not, is what the pace holds
  if (pace) pool.on('connect', (client) => pacedStatements(client, pace));
  return pool;
}

/** Prepared statements kept per connection at most: beyond, statements are parsed and planned each time. */
const PREPARED_PER_CONNECTION = 400;
const names = new Map<string, string>();

/**
 * Runs each parameterised statement of this connection as a named prepared statement, so
 * PostgreSQL parses and plans it once per connection instead of on every run. The queue's
 * statements are few and run thousands of times (planning the position-and-load
 * statement took twice as long as running it). The name is a digest of the text, so one text
 * is one statement on every connection; a connection prepares at most PREPARED_PER_CONNECTION
 * (texts with a variable number of parameters differ), then runs the others as before.
 * PostgreSQL re-plans a prepared statement by itself when the tables it reads change; one whose
 * result columns changed (SELECT * after an ALTER TABLE) is dropped and prepared again.
 */
function preparedStatements(client: pg.PoolClient): void {
  type Run = (...args: unknown[]) => Promise<pg.QueryResult>;
  const run = client.query.bind(client) as unknown as Run;
  const connection = (client as unknown as { connection: PgConnection }).connection;
  // ReadyForQuery's status after the last statement: 'I' outside a transaction
  let idle = true;
  connection.on('readyForQuery', (message) => {
    idle = message.status === 'I';
  });
  const known = new Set<string>();
  // prepared statements whose result no longer matches their table (an ALTER TABLE since):
  // dropped as soon as no transaction is open, and prepared again on their next run
  const stale = new Set<string>();
  const forgetStale = async () => {
    for (const name of stale) {
      await run(`DEALLOCATE "${name}"`);
      delete connection.parsedStatements[name];
      known.delete(name);
    }
    stale.clear();
  };
  const prepared = async (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    if (stale.size && idle) await forgetStale();
    let name = names.get(text);
    if (name === undefined) {
      name = `qms_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      if (names.size < 5000) names.set(text, name);
    }
    if (!known.has(name)) {
      if (known.size >= PREPARED_PER_CONNECTION) return run(text, values);
      known.add(name);
    }
    try {
      return await run({ name, text, values });
    } catch (error) {
      if ((error as { code?: string }).code !== '0A000' || !/cached plan must not change result type/.test(String(error))) throw error;
      stale.add(name);
      // inside a transaction the transaction has failed: its caller rolls back (and may retry)
      if (!idle) throw error;
      await forgetStale();
      known.add(name);
      return run({ name, text, values });
    }
  };
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    if (typeof text !== 'string') return run(text, values, callback);
    if (!Array.isArray(values) || !values.length) {
      // (a BEGIN after a failed transaction drops the stale statements first)
      return stale.size && idle ? forgetStale().then(() => run(text, values, callback)) : run(text, values, callback);
    }
    if (typeof callback !== 'function') return prepared(text, values);
    // pg-pool's pool.query passes a callback
    prepared(text, values).then((result) => callback(null, result), (error: unknown) => callback(error));
    return undefined;
  };
}

/** Runs each statement of this connection that answers with a promise (Kysely's) through `pace`. */
function pacedStatements(client: pg.PoolClient, pace: StatementPace): void {
  type Run = (...args: unknown[]) => Promise<pg.QueryResult>;
  const run = client.query.bind(client) as unknown as Run;
  (client as { query: unknown }).query = (...args: unknown[]) =>
    typeof args.at(-1) === 'function' ? run(...args) : pace.run(() => run(...args));
}

interface PgConnection {
  parsedStatements: Record<string, string>;
  on(event: 'readyForQuery', listener: (message: { status: string }) => void): void;
}

/** Each Db's pool, for its figures (GET /metrics): Kysely keeps it to itself. */
const pools = new WeakMap<Db, pg.Pool>();

export function createDb(url: string, options: DbOptions = {}): Db {
  const pool = createPool(url, options);
  const connections = options.queueLimit === undefined ? pool : bounded(pool, options.queueLimit, options.waitMs ?? 10_000);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: options.pace ? paced(connections, options.pace) : connections }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
  });
  pools.set(db, pool);
  return db;
}

/**
 * The pool as Kysely sees it, refusing a query at once when `limit` queries already wait for a
 * connection (pg-pool's queue has no bound: callers would pile up behind a few long queries).
 * A wait that times out (pg-pool's connectionTimeoutMillis) is the same refusal.
 */
function bounded(pool: pg.Pool, limit: number, waitMs: number) {
  return takingBy(pool, async () => {
    if (pool.idleCount === 0 && pool.waitingCount >= limit) throw new PoolBusyError(waitMs);
    return pool.connect().catch((error: unknown) => {
      if (error instanceof Error && /timeout exceeded when trying to connect/.test(error.message)) throw new PoolBusyError(waitMs);
      throw error;
    });
  });
}

/** What Kysely's PostgresDialect uses of a pool. */
type KyselyPool = Pick<pg.Pool, 'connect' | 'end' | 'options'>;

/** `pool` as Kysely sees it, its connections taken by `connect`. */
function takingBy(pool: KyselyPool, connect: () => Promise<pg.PoolClient>) {
  return { options: pool.options, Client: pg.Client, connect, end: () => pool.end() };
}

/** The pool as Kysely sees it, each connection taken once `pace` is ready (its rests waited out, holding none) and told when it goes back. */
function paced(pool: KyselyPool, pace: StatementPace) {
  // pg-pool gives a client a release of its own at each checkout: wrapped then (once, should a
  // pool keep it), it tells the pace of that checkout's `back`
  const backs = new WeakMap<pg.PoolClient, () => void>();
  const wrappers = new WeakSet<pg.PoolClient['release']>();
  return takingBy(pool, async () => {
    const back = await pace.ready();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      back();
      throw error;
    }
    backs.set(client, back);
    if (!wrappers.has(client.release)) {
      const release = client.release.bind(client);
      client.release = (error?: Error | boolean) => {
        backs.get(client)?.();
        backs.delete(client);
        release(error);
      };
      wrappers.add(client.release);
    }
    return client;
  });
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
