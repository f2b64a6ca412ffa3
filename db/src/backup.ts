// Online backup and restore without pg_dump (the embedded PostgreSQL ships none, and a
// distribution's older pg_dump refuses a newer server). The format is described in
// docs/backup.md; in short, gzip of:
//
//   QMS-BACKUP 1                       magic and format version
//   {"format":1,...}                   header: one line of JSON (BackupHeader)
//   table site                         then, for each table of the header in its order,
//   <rows in COPY text format>         its rows as `COPY ... TO STDOUT` writes them
//   \.                                 and COPY's end-of-data line
//   ...
//   end {"rows":{"site":2,...}}        trailer: rows per table (a file cut short has none)
//
// Tables come parents first (foreign-key order), so a restore loads them in file order; it
// checks the foreign keys once the rows are in (restoreDatabase).
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { NO_MIGRATIONS } from 'kysely/migration';
import { createDb } from './connection.ts';
import { migrateTo, migrateToLatest, migrationNames, migrator } from './migrate.ts';
import type { OpenedDatabase } from './open.ts';

export const BACKUP_MAGIC = 'QMS-BACKUP';
export const BACKUP_FORMAT = 1;
/** The extension of backup files (the nightly ones, the ones taken before migrating, the fixtures). */
export const BACKUP_EXTENSION = '.qmsbackup';

/** kysely's own tables: a backup records the migrations applied, the restore's migrator writes them. */
const MIGRATION_TABLES = ['kysely_migration', 'kysely_migration_lock'];

export interface BackupHeader {
  format: number;
  /** when the snapshot was taken (the database server's clock) */
  createdAt: string;
  /** what made it, e.g. "qms 0.1.0" */
  createdBy?: string;
  /** PostgreSQL's server_version */
  postgres: string;
  /** the migrations applied, in order: a restore brings the schema to exactly the last one */
  migrations: string[];
  /** every table of the public schema (but kysely's), parents first, with the columns written */
  tables: { name: string; columns: string[] }[];
  /** sequences of the public schema: setval(name, lastValue, isCalled) on restore */
  sequences: { name: string; lastValue: string; isCalled: boolean }[];
}

export interface BackupSummary {
  file: string;
  bytes: number;
  ms: number;
  rows: Record<string, number>;
  migrations: string[];
}

export interface BackupOptions {
  createdBy?: string;
}

/** Refused because of what the file or the target database is (a clear sentence for the operator). */
export class BackupError extends Error {
  override name = 'BackupError';
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function connect(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  // a connection lost mid-backup fails the query in flight; without a listener it would crash the process
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The foreign keys of these tables of the public schema, and their indexes that are not unique, as DDL that makes them again. */
async function deferrable(client: pg.Client, tables: string[]) {
  const foreignKeys = (await client.query<{ table: string; name: string; definition: string }>(`
    SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND k.contype = 'f' AND c.relname = ANY ($1::text[]) ORDER BY 1, 2`, [tables])).rows;
  const indexes = (await client.query<{ name: string; definition: string }>(`
    SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT x.indisunique AND c.relname = ANY ($1::text[])
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) ORDER BY 1`, [tables])).rows;
  return { foreignKeys, indexes };
}

/**
 * The triggers of the application (not foreign keys') on these tables of the public schema that
 * would fire in this session: on ('O'), or always ('A'; `always` says how to turn it on again).
 */
async function enabledTriggers(client: pg.Client, tables: string[]): Promise<{ table: string; name: string; always: boolean }[]> {
  const { rows } = await client.query<{ table: string; name: string; always: boolean }>(`
    SELECT c.relname AS table, g.tgname AS name, g.tgenabled = 'A' AS always
    FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT g.tgisinternal AND g.tgenabled IN ('O', 'A') AND c.relname = ANY ($1::text[]) ORDER BY 1, 2`, [tables]);
  return rows;
}

/** Tables of the public schema but kysely's, parents before children. */
async function tablesInOrder(client: pg.Client): Promise<{ name: string; columns: string[] }[]> {
  const tables = (await client.query<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname`)).rows.map((r) => r.name).filter((name) => !MIGRATION_TABLES.includes(name));
  const columns = (await client.query<{ table: string; column: string }>(`
    SELECT c.relname AS table, a.attname AS column
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    ORDER BY c.relname, a.attnum`)).rows;
  const references = (await client.query<{ child: string; parent: string }>(`
    SELECT DISTINCT c.relname AS child, p.relname AS parent
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'f' AND n.nspname = 'public' AND c.oid <> p.oid`)).rows;

  // Kahn's algorithm, by name among the tables ready at each step, so the order is stable
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const r of references) if (parents.has(r.child) && parents.has(r.parent)) parents.get(r.child)!.add(r.parent);
  const ordered: string[] = [];
  while (parents.size) {
    const ready = [...parents].filter(([, p]) => p.size === 0).map(([t]) => t).sort();
    if (!ready.length) throw new BackupError(`the foreign keys of tables ${[...parents.keys()].join(', ')} form a cycle: this backup cannot order them`);
    for (const t of ready) {
      ordered.push(t);
      parents.delete(t);
      for (const p of parents.values()) p.delete(t);
    }
  }
  return ordered.map((name) => ({ name, columns: columns.filter((c) => c.table === name).map((c) => c.column) }));
}

/**
 * Writes a consistent copy of the database at `url` to `file`, while the server runs: every
 * table is read in one REPEATABLE READ transaction (one snapshot), so what the backup holds is
 * the database as it was at one instant. Written to `file.part` and renamed when complete.
 */
export async function backupDatabase(url: string, file: string, options: BackupOptions = {}): Promise<BackupSummary> {
  const started = Date.now();
  const part = `${file}.part`;
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const client = await connect(url, 'qms-backup');
  const gzip = createGzip();
  // backups hold password hashes and citizens' tickets: readable by the owner only
  const written = pipeline(gzip, createWriteStream(part, { mode: 0o600, flush: true }));
  written.catch(() => {});
  const rows: Record<string, number> = {};
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // the snapshot is taken by this first statement: everything below reads the same instant
    const { rows: [now] } = await client.query<{ at: Date; version: string }>(`SELECT statement_timestamp() AS at, current_setting('server_version') AS version`);
    const tables = await tablesInOrder(client);
    // as pg_dump does: no migration may alter or drop a table while it is read
    if (tables.length) await client.query(`LOCK TABLE ${tables.map((t) => `public.${ident(t.name)}`).join(', ')} IN ACCESS SHARE MODE`);
    const hasMigrations = (await client.query(`SELECT to_regclass('public.kysely_migration') IS NOT NULL AS found`)).rows[0].found as boolean;
    const migrations = hasMigrations ? (await client.query<{ name: string }>('SELECT name FROM public.kysely_migration ORDER BY name')).rows.map((r) => r.name) : [];
    const sequences: BackupHeader['sequences'] = [];
    const sequenceNames = (await client.query<{ name: string }>(`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY c.relname`)).rows;
    for (const { name } of sequenceNames) {
      const { rows: [s] } = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM public.${ident(name)}`);
      sequences.push({ name, lastValue: s!.last_value, isCalled: s!.is_called });
    }
    const header: BackupHeader = {
      format: BACKUP_FORMAT, createdAt: now!.at.toISOString(), ...(options.createdBy ? { createdBy: options.createdBy } : {}),
      postgres: now!.version, migrations, tables, sequences,
    };
    const write = async (data: string | Buffer) => {
      if (!gzip.write(data)) await once(gzip, 'drain');
    };
    await write(`${BACKUP_MAGIC} ${BACKUP_FORMAT}\n${JSON.stringify(header)}\n`);
    for (const table of tables) {
      await write(`table ${table.name}\n`);
      let count = 0;
      const columns = table.columns.map(ident).join(', ');
      for await (const chunk of client.query(copyTo(`COPY public.${ident(table.name)} (${columns}) TO STDOUT`)) as AsyncIterable<Buffer>) {
        count += newlines(chunk);
        await write(chunk);
      }
      rows[table.name] = count;
      await write('\\.\n');
    }
    await write(`end ${JSON.stringify({ rows })}\n`);
    gzip.end();
    await written;
    await client.query('COMMIT');
    await rename(part, file);
    return { file, bytes: (await stat(file)).size, ms: Date.now() - started, rows, migrations };
  } catch (error) {
    gzip.destroy();
    await written.catch(() => {});
    await unlink(part).catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

function newlines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** Reads a backup file's lines and COPY sections from its decompressed stream. */
class BackupReader {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private source: AsyncIterator<Buffer> | undefined;

  constructor(readonly file: string) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    let next: IteratorResult<Buffer>;
    try {
      // opened on the first read, so that no error of the file waits unheard meanwhile
      this.source ??= this.open();
      next = await this.source.next();
    } catch (error) {
      throw new BackupError(`${this.file} is damaged or cut short (${(error as Error).message})`);
    }
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : next.value;
    return true;
  }

  async line(): Promise<string> {
    for (;;) {
      const i = this.buffer.indexOf(10);
      if (i >= 0) {
        const line = this.buffer.subarray(0, i).toString('utf8');
        this.buffer = this.buffer.subarray(i + 1);
        return line;
      }
      if (!(await this.fill())) throw new BackupError(`${this.file} is cut short: the backup is incomplete`);
    }
  }

  /** The rows of one table, up to COPY's end-of-data line `\.`, in chunks of whole lines. */
  async *section(count: { rows: number }): AsyncGenerator<Buffer> {
    for (;;) {
      // the buffer always starts at a line's start here; a row's own backslashes are doubled
      // in COPY's text format, so a line `\.` is the end of the rows and nothing else
      const end = this.buffer.subarray(0, 3).equals(END_OF_DATA) ? 0 : indexPlusOne(this.buffer.indexOf(NEWLINE_END_OF_DATA));
      if (end >= 0) {
        const rows = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end + 3);
        count.rows += newlines(rows);
        if (rows.length) yield rows;
        return;
      }
      const whole = this.buffer.lastIndexOf(10);
      if (whole >= 0) {
        const rows = this.buffer.subarray(0, whole + 1);
        this.buffer = this.buffer.subarray(whole + 1);
        count.rows += newlines(rows);
        yield rows;
      }
      if (!(await this.fill())) throw new BackupError(`${this.file} is cut short: the backup is incomplete`);
    }
  }

  private streams: NodeJS.ReadableStream[] = [];

  private open(): AsyncIterator<Buffer> {
    const file = createReadStream(this.file);
    const gunzip = createGunzip();
    // a file that cannot be read fails the reading of its decompressed stream
    file.on('error', (error) => gunzip.destroy(error));
    this.streams = [file, gunzip];
    return (file.pipe(gunzip) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Stops reading: both streams end here, and what they say while ending is not heard. */
  close(): void {
    for (const stream of this.streams) {
      stream.on('error', () => {});
      (stream as unknown as { destroy(): void }).destroy();
    }
  }
}

const END_OF_DATA = Buffer.from('\\.\n');
const NEWLINE_END_OF_DATA = Buffer.from('\n\\.\n');
const indexPlusOne = (i: number) => (i < 0 ? -1 : i + 1);

/** The header of a backup file, checked: what it holds, without reading its rows. */
export async function readBackupHeader(file: string): Promise<BackupHeader> {
  const reader = new BackupReader(file);
  try {
    return await header(reader);
  } finally {
    reader.close();
  }
}

async function header(reader: BackupReader): Promise<BackupHeader> {
  let magic: string;
  try {
    magic = await reader.line();
  } catch {
    throw new BackupError(`${reader.file} is not a backup of this system (not a gzip file, or empty)`);
  }
  const [word, version] = magic.split(' ');
  if (word !== BACKUP_MAGIC) throw new BackupError(`${reader.file} is not a backup of this system (it does not start with ${BACKUP_MAGIC})`);
  if (Number(version) !== BACKUP_FORMAT) {
    throw new BackupError(`${reader.file} is a backup in format ${version}; this release reads format ${BACKUP_FORMAT}: restore it with the release that made it`);
  }
  return JSON.parse(await reader.line()) as BackupHeader;
}

/** Tables of the public schema (but kysely's) that hold at least one row. */
export async function tablesWithRows(client: pg.Client): Promise<string[]> {
  const tables = (await client.query<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`)).rows.map((r) => r.name);
  const found: string[] = [];
  for (const t of tables.filter((name) => !MIGRATION_TABLES.includes(name))) {
    if ((await client.query(`SELECT EXISTS (SELECT 1 FROM public.${ident(t)}) AS any`)).rows[0].any) found.push(t);
  }
  return found;
}

export interface RestoreOptions {
  /** after loading the rows, migrate to the latest schema of this code (default: stay at the backup's) */
  latest?: boolean;
  log?: (line: string) => void;
}

export interface RestoreSummary {
  header: BackupHeader;
  rows: Record<string, number>;
  /** migrations run after loading (latest) */
  migrated: string[];
  ms: number;
}

/**
 * Restores `file` into the empty database at `url`: migrates it to exactly the backup's
 * migration, loads every table's rows in the file's (foreign-key) order and sets the
 * sequences, all in one transaction; then, with `latest`, migrates to this code's latest.
 * Refuses a database that holds any row, and a backup made by a release this code does not know.
 */
export async function restoreDatabase(url: string, file: string, options: RestoreOptions = {}): Promise<RestoreSummary> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const reader = new BackupReader(file);
  const client = await connect(url, 'qms-restore');
  const db = createDb(url, { max: 1, applicationName: 'qms-restore' });
  try {
    const head = await header(reader);
    const unknown = head.migrations.filter((m) => !migrationNames.includes(m));
    if (unknown.length) {
      throw new BackupError(`${file} was made by a newer release (its migration ${unknown[0]} is unknown here): restore it with that release or a later one`);
    }
    if (head.migrations.join('\n') !== migrationNames.slice(0, head.migrations.length).join('\n')) {
      throw new BackupError(`${file} lists migrations out of this release's order (${head.migrations.join(', ')}): it cannot be restored by this release`);
    }
    const occupied = await tablesWithRows(client);
    if (occupied.length) {
      throw new BackupError(`the database already holds data (table ${occupied.slice(0, 3).join(', ')}${occupied.length > 3 ? ', ...' : ''} has rows): restore only into an empty database`);
    }
    const target = head.migrations.at(-1);
    await migrateTo(db, target ?? NO_MIGRATIONS);
    log(`restore: schema at ${target ?? 'no migration'}`);

    // the schema now is the backup's: the same tables and columns, or the file is not what it says
    const here = new Map((await tablesInOrder(client)).map((t) => [t.name, t.columns]));
    for (const table of head.tables) {
      const columns = here.get(table.name);
      if (!columns) throw new BackupError(`${file} holds table ${table.name}, which migration ${target} does not make: the backup does not match its migrations`);
      const missing = table.columns.filter((c) => !columns.includes(c));
      if (missing.length) throw new BackupError(`${file} holds column ${table.name}.${missing[0]}, which migration ${target} does not make: the backup does not match its migrations`);
    }

    const rows: Record<string, number> = {};
    await client.query('BEGIN');
    try {
      // the rows come back as they were: no trigger of the application fires on them (the
      // outbox's would write every event and rating again as a fact not yet relayed, the ratings'
      // would drop the report facts of their days). Those that are on are turned off, by name, in
      // this transaction only: no other session ever sees them off, and each comes back as it was.
      const tableNames = head.tables.map((t) => t.name);
      const triggers = await enabledTriggers(client, tableNames);
      for (const t of triggers) await client.query(`ALTER TABLE public.${ident(t.table)} DISABLE TRIGGER ${ident(t.name)}`);
      // Loading a year of history row by row into every index, with a foreign-key check queued
      // per key, took most of the time. So, like pg_restore (which loads the data before it makes
      // the indexes and constraints), the foreign keys and the indexes that are not unique are
      // dropped here and made again after the rows: each index in one sorted pass, each foreign key
      // checked by one query. The unique ones stay: they refuse a duplicate row as it comes, and
      // the foreign keys point at them. All in this transaction (its locks are exclusive: restore
      // into a database no server uses).
      const deferred = await deferrable(client, tableNames);
      for (const k of deferred.foreignKeys) await client.query(`ALTER TABLE public.${ident(k.table)} DROP CONSTRAINT ${ident(k.name)}`);
      for (const i of deferred.indexes) await client.query(`DROP INDEX public.${ident(i.name)}`);
      for (const table of head.tables) {
        const line = await reader.line();
        if (line !== `table ${table.name}`) throw new BackupError(`${file} is damaged: expected the rows of ${table.name}, found "${line.slice(0, 60)}"`);
        const count = { rows: 0 };
        const columns = table.columns.map(ident).join(', ');
        const began = Date.now();
        await pipeline(Readable.from(reader.section(count)), client.query(copyFrom(`COPY public.${ident(table.name)} (${columns}) FROM STDIN`)));
        rows[table.name] = count.rows;
        if (Date.now() - began >= 1000) log(`restore: ${table.name}, ${count.rows} rows in ${Date.now() - began} ms`);
      }
      // a damaged file is refused before the indexes are made
      const trailer = await reader.line();
      if (!trailer.startsWith('end ')) throw new BackupError(`${file} is damaged: no end after the last table`);
      const expected = (JSON.parse(trailer.slice(4)) as { rows: Record<string, number> }).rows;
      for (const table of head.tables) {
        if (expected[table.name] !== rows[table.name]) {
          throw new BackupError(`${file} is damaged: table ${table.name} should have ${expected[table.name]} rows, it has ${rows[table.name]}`);
        }
      }
      let began = Date.now();
      await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
      for (const i of deferred.indexes) await client.query(i.definition);
      log(`restore: ${deferred.indexes.length} indexes made in ${Date.now() - began} ms`);
      began = Date.now();
      for (const k of deferred.foreignKeys) await client.query(`ALTER TABLE public.${ident(k.table)} ADD CONSTRAINT ${ident(k.name)} ${k.definition}`);
      log(`restore: ${deferred.foreignKeys.length} foreign keys checked in ${Date.now() - began} ms`);
      for (const s of head.sequences) {
        await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [`public.${ident(s.name)}`, s.lastValue, s.isCalled]);
      }
      for (const t of triggers) await client.query(`ALTER TABLE public.${ident(t.table)} ENABLE ${t.always ? 'ALWAYS ' : ''}TRIGGER ${ident(t.name)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    log(`restore: ${Object.values(rows).reduce((a, b) => a + b, 0)} rows in ${head.tables.length} tables`);
    await client.query('ANALYZE');

    let migrated: string[] = [];
    if (options.latest) {
      const { results = [] } = await migrateToLatest(db);
      migrated = results.map((r) => r.migrationName);
      if (migrated.length) log(`restore: migrated to the latest schema (${migrated.join(', ')})`);
    }
    return { header: head, rows, migrated, ms: Date.now() - started };
  } finally {
    reader.close();
    await client.end().catch(() => {});
    await db.destroy();
  }
}

/** An instant for a file name, sorting as time does: 20261205T020000Z (UTC). */
export function timestampForFile(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(/[-:]/g, '');
}

/**
 * Before the server migrates a non-empty embedded database, it takes a backup of it into
 * `<data folder>/backups/`. Returns the file, or undefined when there was nothing to keep
 * (external database, nothing pending, no data). A backup that fails throws: do not migrate.
 */
export async function backupBeforeMigrating(opened: OpenedDatabase, options: { log?: (line: string) => void; createdBy?: string; now?: Date } = {}): Promise<string | undefined> {
  if (!opened.embedded || !opened.dataDir) return undefined;
  const db = createDb(opened.url, { max: 1, applicationName: 'qms-pre-migration' });
  let pending: string[];
  let occupied: string[];
  try {
    pending = (await migrator(db).getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
    const client = await connect(opened.url, 'qms-pre-migration');
    try {
      occupied = pending.length ? await tablesWithRows(client) : [];
    } finally {
      await client.end();
    }
  } finally {
    await db.destroy();
  }
  if (!pending.length || !occupied.length) return undefined;
  const file = path.join(opened.dataDir, 'backups', `before-${pending[0]}-${timestampForFile(options.now ?? new Date())}${BACKUP_EXTENSION}`);
  try {
    const summary = await backupDatabase(opened.url, file, { createdBy: options.createdBy });
    options.log?.(`Backed up the database before migrating it (${pending.join(', ')}): ${file} (${formatBytes(summary.bytes)}, ${summary.ms} ms)`);
  } catch (error) {
    throw new BackupError(`Could not back up the database before migrating it to ${pending.at(-1)} (${(error as Error).message}), so it was not migrated: free space in ${path.dirname(file)} (or fix what the error names) and start again`, { cause: error });
  }
  return file;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
