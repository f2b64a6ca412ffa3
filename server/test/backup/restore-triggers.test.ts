import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, restoreDatabase, type Db } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { buildReportDays } from '../../src/reports/report.service.ts';
import { at, createSite, openCounter, TestClock } from '../support/queue-fixture.ts';

// A restore loads the rows as they were backed up: none of the application's triggers fires on
// them, and the schema is the backup's again, every index and foreign key it set aside for the
// load made again and checked. The outbox's triggers would write every restored event and rating again as a fact not yet
// relayed (a site with a webhook would be sent its history again, under new ids), and the
// ratings' report trigger would drop the report facts of every day with a rating, restored
// before the ratings (report_day comes first in foreign-key order).

const DAY = '2026-12-07T02:00:00.000Z'; // Monday 09:00 in Hà Nội
let source: TestDatabase;
let target: TestDatabase;
let dir: string;
let file: string;

async function counts(db: Db) {
  const n = async (q: ReturnType<typeof sql<{ n: number }>>) => (await q.execute(db)).rows[0]!.n;
  return {
    outbox: await n(sql`SELECT count(*)::int AS n FROM outbox`),
    unrelayed: await n(sql`SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL`),
    reportDays: await n(sql`SELECT count(*)::int AS n FROM report_day`),
    reportStints: await n(sql`SELECT count(*)::int AS n FROM report_stint`),
    ratings: await n(sql`SELECT count(*)::int AS n FROM rating`),
    events: await n(sql`SELECT count(*)::int AS n FROM ticket_event`),
  };
}

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  dir = await mkdtemp(path.join(tmpdir(), 'qms-restore-triggers-'));
  const site = await createSite(source.db, { services: [{ code: 'HT', prefix: 'A' }], counters: [{ number: 1, services: ['HT'] }] });
  // a webhook: every ticket change and rating at the site is a fact for the outbox
  await source.db.insertInto('webhook').values({ siteId: site.siteId, url: 'https://example.gov.vn/hook', secret: 's'.repeat(32), events: ['ticket:issued', 'ticket:called', 'ticket:updated', 'rating:created'] }).execute();
  const queue = new QueueService({ db: source.db, clock: new TestClock(DAY).now });
  await openCounter(queue, site, 1);
  for (let i = 0; i < 3; i++) {
    const ticket = (await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! })).value;
    await queue.callNext(at(site, 1));
    await queue.finish({ ...at(site, 1), ticketId: ticket.id });
    await source.db.insertInto('rating').values({ ticketId: ticket.id, siteId: site.siteId, counterId: site.counter[1]!, staffId: site.staff[0]!, score: 3 }).execute();
  }
  // the relay has sent every fact; the day is over and its report facts are built
  await source.db.updateTable('outbox').set({ relayedAt: new Date() }).execute();
  await buildReportDays(source.db, { siteId: null, from: new Date('2026-12-06T00:00:00Z'), to: new Date('2026-12-08T00:00:00Z'), now: new Date('2026-12-09T00:00:00Z') });
  file = path.join(dir, 'site.qmsbackup');
  await backupDatabase(source.url, file);
});

/** The indexes and constraints of the public schema, by their definitions. */
const schema = async (db: Db) => (await sql<{ what: string }>`
  SELECT pg_get_indexdef(x.indexrelid) AS what FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT c.relname || ' trigger ' || g.tgname || ' ' || g.tgenabled::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT g.tgisinternal
  ORDER BY 1`.execute(db)).rows.map((r) => r.what);

afterAll(async () => {
  await source?.drop();
  await target?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('restore', () => {
  it('fires none of the application\'s triggers: the outbox and the report facts come back as they were', async () => {
    const before = await counts(source.db);
    expect(before).toMatchObject({ ratings: 3, unrelayed: 0 });
    expect(before.reportDays).toBeGreaterThan(0);
    expect(before.outbox).toBeGreaterThanOrEqual(before.events + before.ratings);
    expect(before.reportStints).toBeGreaterThan(0);

    const lines: string[] = [];
    await restoreDatabase(target.url, file, { log: (line) => lines.push(line) });
    expect(await counts(target.db)).toEqual(before);
    // it set the foreign keys and the indexes that are not unique aside, and made them again
    expect(lines.join('\n')).toMatch(/restore: [1-9]\d* indexes made in \d+ ms/);
    expect(lines.join('\n')).toMatch(/restore: [1-9]\d* foreign keys checked in \d+ ms/);

    // and the triggers are there again for what happens next
    const triggers = await sql<{ name: string; enabled: string }>`SELECT tgname AS name, tgenabled AS enabled FROM pg_trigger
      WHERE NOT tgisinternal AND tgrelid IN ('ticket_event'::regclass, 'rating'::regclass) ORDER BY tgname`.execute(target.db);
    expect(triggers.rows).toEqual([
      { name: 'rating_outbox', enabled: 'O' }, { name: 'rating_report_day', enabled: 'O' },
      { name: 'ticket_event_no_update', enabled: 'O' }, { name: 'ticket_event_outbox', enabled: 'O' },
    ]);
  });

  it('makes again every index, foreign key and trigger as it was', async () => {
    const expected = await schema(source.db);
    expect(expected.filter((d) => / FOREIGN KEY /.test(d)).length).toBeGreaterThan(10);
    expect(expected.filter((d) => / trigger .* O$/.test(d)).length).toBeGreaterThan(3);
    expect(await schema(target.db)).toEqual(expected);
  });

  it('refuses a file whose rows point at nothing, when it checks the foreign keys after the rows, and leaves the database empty', async () => {
    const other = await createTestDatabase();
    try {
      // a rating of a ticket the file does not hold
      const plain = gunzipSync(await readFile(file)).toString('utf8');
      const ticketId = (await source.db.selectFrom('rating').select('ticketId').executeTakeFirstOrThrow()).ticketId;
      const start = plain.indexOf('\ntable rating\n');
      const end = plain.indexOf('\n\\.\n', start);
      const dangling = plain.slice(0, start) + plain.slice(start, end).replaceAll(ticketId, '00000000-0000-4000-8000-000000000000') + plain.slice(end);
      const broken = path.join(dir, 'dangling.qmsbackup');
      await writeFile(broken, gzipSync(dangling));
      const schemaBefore = await schema(other.db);
      await expect(restoreDatabase(other.url, broken)).rejects.toThrow(/violates foreign key constraint "rating_ticket_id_fkey"/);
      // nothing of it stays: no row, and every index, foreign key and trigger as the migrations made them
      expect(await other.db.selectFrom('ticket').select('id').execute()).toEqual([]);
      expect(await schema(other.db)).toEqual(schemaBefore);
    } finally {
      await other.drop();
    }
  });
});
