import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, readBackupHeader, startEmbeddedPostgres, type Db, type EmbeddedPostgresHandle } from '@qms/db';
import { createTestDatabase, TEST_ADMIN_URL_ENV, withDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// npm run backup while the server runs, then stop, wipe, npm run restore, start: exactly the
// tickets of the backup's instant are back, consistent with their numbering and events, and the
// next ticket gets the next number. The CLIs run as child processes, as a user runs them.
//
// The backup is made to wait in the middle (the test holds a lock on `rating`, which the backup
// reads after `ticket` and `daily_sequence` and before `ticket_event`) while tickets are issued:
// a backup that did not read one snapshot would hold them, or their events without them.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-backup-'));
  await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a CLI of db/ as `npm run backup` does (tsx), with only the environment given. */
function cli(name: 'backup' | 'restore', args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && k !== 'QMS_DATA_DIR')) as Record<string, string>;
  const child = spawn(process.execPath, ['--import', 'tsx', `db/src/cli/${name}.ts`, ...args], { cwd: root, env: { ...base, ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

interface Live {
  db: Db;
  url: string;
  queue: QueueService;
  site: SiteFixture;
}

const START = '2026-12-07T02:00:00.000Z'; // Monday 09:00 in Hà Nội

async function prepare(db: Db, url: string): Promise<Live> {
  const site = await createSite(db, { services: [{ code: 'HT', prefix: 'A' }, { code: 'CT', prefix: 'B' }], counters: [{ number: 1, services: ['HT', 'CT'] }] });
  const queue = new QueueService({ db, clock: new TestClock(START).now });
  return { db, url, queue, site };
}

const issue = async (live: Live, n: number) => (await live.queue.issue({ siteId: live.site.siteId, serviceId: live.site.service[n % 2 ? 'CT' : 'HT']! })).value.id;

/** Until the backup is waiting for the test's lock: it has taken its snapshot and read part of the tables. */
async function backupWaiting(db: Db): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE application_name = 'qms-backup' AND datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
    if (rows[0]!.n > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the backup never reached the locked table');
}

/**
 * Issues tickets, backs up (held half-way by a lock while more are issued, and others issued
 * all along), issues more; returns what is known of each ticket's side of the snapshot.
 */
async function issueAndBackUp(live: Live, backup: () => Promise<{ code: number | null; out: string }>) {
  const before: string[] = [];
  for (let i = 0; i < 8; i++) before.push(await issue(live, i));
  await openCounter(live.queue, live.site, 1);
  const served = (await live.queue.callNext(at(live.site, 1))).value!;
  await live.queue.finish({ ...at(live.site, 1), ticketId: served.id });

  // the backup's order is the one this test's lock relies on
  const blocker = new pg.Client({ connectionString: live.url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE rating IN ACCESS EXCLUSIVE MODE');

  const concurrent: string[] = [];
  let stop = false;
  const issuer = (async () => {
    for (let i = 0; !stop && i < 150; i++) {
      concurrent.push(await issue(live, i));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const run = backup();
  const during: string[] = [];
  try {
    await backupWaiting(live.db);
    for (let i = 0; i < 6; i++) during.push(await issue(live, i));
  } finally {
    await blocker.query('COMMIT');
    await blocker.end();
  }
  const result = await run;
  stop = true;
  await issuer;
  expect(result.out).toMatch(/Backed up .* to .*: [\d.]+ KB, \d+ rows in \d+ tables/);
  expect(result.code).toBe(0);
  const after: string[] = [];
  for (let i = 0; i < 4; i++) after.push(await issue(live, i));
  return { before, served: served.id, concurrent, during, after };
}

/** The restored database holds the tickets of one instant, whole, and numbers on from them. */
async function checkRestored(db: Db, issued: Awaited<ReturnType<typeof issueAndBackUp>>, site: SiteFixture) {
  const tickets = await db.selectFrom('ticket').select(['id', 'serviceId', 'number', 'status']).execute();
  const ids = new Set(tickets.map((t) => t.id));
  // every ticket issued before the backup began, none of those issued while it ran past its snapshot or after it
  expect(issued.before.filter((id) => !ids.has(id))).toEqual([]);
  expect(issued.during.filter((id) => ids.has(id))).toEqual([]);
  expect(issued.after.filter((id) => ids.has(id))).toEqual([]);
  const known = new Set([...issued.before, ...issued.concurrent]);
  expect(tickets.filter((t) => !known.has(t.id))).toEqual([]);
  // the tickets issued concurrently that it holds are the first ones: one instant
  const held = issued.concurrent.map((id) => ids.has(id));
  // (they did run across its snapshot: some are in it, some not)
  expect(held.includes(true) && held.includes(false)).toBe(true);
  expect(held.indexOf(false) === -1 ? held.length : held.indexOf(false)).toBe(held.filter(Boolean).length);
  expect(tickets.find((t) => t.id === issued.served)?.status).toBe('done');

  // numbering and history agree with the tickets: 1..n per service, n in daily_sequence, one issue event each
  for (const serviceId of Object.values(site.service)) {
    const numbers = tickets.filter((t) => t.serviceId === serviceId).map((t) => t.number).sort((a, b) => a - b);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    const sequence = await db.selectFrom('dailySequence').select('lastNumber').where('serviceId', '=', serviceId).executeTakeFirst();
    expect(sequence?.lastNumber).toBe(numbers.length);
  }
  const issuedEvents = await db.selectFrom('ticketEvent').select('ticketId').where('type', '=', 'issued').execute();
  expect(issuedEvents.map((e) => e.ticketId).sort()).toEqual([...ids].sort());

  // the next ticket: the next number, and its event's id after every restored one (the sequences are set)
  const queue = new QueueService({ db, clock: new TestClock('2026-12-07T06:00:00.000Z').now });
  const count = tickets.filter((t) => t.serviceId === site.service.HT).length;
  const next = (await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! })).value;
  expect(next.code).toBe(`A${String(count + 1).padStart(3, '0')}`);
  await openCounter(queue, site, 1);
  expect((await queue.callNext(at(site, 1))).value).not.toBeNull();
}

describe('backup and restore while the server runs', () => {
  it('embedded: npm run backup beside the running server, wipe, npm run restore into the empty data folder', async () => {
    const dataDir = await folder();
    let server: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), fast: true });
    cleanups.push(() => server!.stop());
    const db = createDb(server.url, { max: 10 });
    await migrateToLatest(db);
    const live = await prepare(db, server.url);
    const file = path.join(await folder(), 'site.qmsbackup');

    // the backup connects to the cluster this process (the server) runs: it cannot start it itself
    const issued = await issueAndBackUp(live, () => cli('backup', [file], { QMS_DATA_DIR: dataDir }));
    expect((await readBackupHeader(file)).tables.map((t) => t.name).join(' ')).toMatch(/\bticket\b.*\brating\b.*\bticket_event\b/);

    // stop, wipe, restore (a new cluster), start
    await db.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    const restored = await cli('restore', [file], { QMS_DATA_DIR: dataDir });
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true); // a new cluster in the wiped folder
    expect(restored.out).toMatch(/Restored .* into embedded PostgreSQL/);
    expect(restored.code).toBe(0);
    server = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), fast: true });
    const db2 = createDb(server.url, { max: 4 });
    cleanups.push(() => db2.destroy());
    await checkRestored(db2, issued, live.site);

    // a folder holding data is refused, as is a running server's
    await db2.destroy();
    const refused = await cli('restore', [file], { QMS_DATA_DIR: dataDir });
    expect(refused.out).toMatch(/Restore refused: a server runs on embedded PostgreSQL in .*pid \d+.*Stop the server/);
    expect(refused.code).toBe(1);
    await server.stop();
    const again = await cli('restore', [file], { QMS_DATA_DIR: dataDir });
    expect(again.out).toMatch(/Restore failed: the database already holds data \(table .* has rows\): restore only into an empty database/);
    expect(again.code).toBe(1);
  }, 60_000);

  it('DATABASE_URL: npm run backup while tickets are issued, drop, npm run restore into an empty database', async () => {
    const t = await createTestDatabase();
    cleanups.push(() => t.drop());
    const live = await prepare(t.db, t.url);
    const file = path.join(await folder(), 'external.qmsbackup');
    const issued = await issueAndBackUp(live, () => cli('backup', [file], { DATABASE_URL: t.url }));
    await t.drop();

    // an empty database, never migrated: the restore makes the backup's schema itself
    const name = `${t.name}_restored`;
    const admin = new pg.Client({ connectionString: process.env[TEST_ADMIN_URL_ENV] });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });
    const url = withDatabase(process.env[TEST_ADMIN_URL_ENV]!, name);
    const restored = await cli('restore', [file, '--latest'], { DATABASE_URL: url });
    expect(restored.out).toMatch(/Restored .* into PostgreSQL at /);
    expect(restored.code).toBe(0);
    const db = createDb(url, { max: 4 });
    cleanups.push(() => db.destroy());
    await checkRestored(db, issued, live.site);
  }, 60_000);
});
