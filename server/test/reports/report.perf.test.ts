import { sql, type RawBuilder } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { reportBounds, summaryReport, summaryStatement, type SummaryQuery } from '../../src/reports/report.service.ts';
import { batchStatement, streamTicketsCsv } from '../../src/reports/tickets.export.ts';
import { dossierReport } from '../../src/reports/dossiers.ts';
import { satisfactionReport } from '../../src/reports/satisfaction.ts';
import { createSite, type SiteFixture } from '../support/queue-fixture.ts';

// Opt-in measurement: QMS_REPORT_PERF=1 [QMS_REPORT_PERF_TICKETS=1000000] npx vitest run server/test/reports/report.perf
// Generates a year of history at three busy centres with SQL, then prints EXPLAIN ANALYZE and
// timings of the report and of the CSV export. Run it before adding an index.

const TICKETS = Number(process.env.QMS_REPORT_PERF_TICKETS ?? 1_000_000);
const YEAR_START = new Date('2026-01-01T00:00:00+07:00');
const YEAR_END = new Date('2027-01-01T00:00:00+07:00');

let t: TestDatabase;
let sites: SiteFixture[] = [];

async function explain(label: string, statement: RawBuilder<unknown>) {
  const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN (ANALYZE, BUFFERS) ${statement}`.execute(t.db);
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  console.log(`\n==== ${label}\n${plan}`);
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`${label}: ${(performance.now() - started).toFixed(0)} ms`);
  return result;
}

describe.runIf(process.env.QMS_REPORT_PERF)(`reports on ${TICKETS} tickets`, () => {
  beforeAll(async () => {
    t = await createTestDatabase();
    for (let i = 0; i < 3; i++) sites.push(await createSite(t.db));
    await timed('generate', () => generate(t, sites));
  }, 1_800_000);
  afterAll(() => t?.drop());

  const cases: [string, () => SummaryQuery][] = [
    ['one site, one month, by service', () => ({ siteId: sites[0]!.siteId, from: new Date('2026-06-01T00:00:00+07:00'), to: new Date('2026-07-01T00:00:00+07:00'), groupBy: 'service' })],
    ['one site, one year, by staff', () => ({ siteId: sites[0]!.siteId, from: YEAR_START, to: YEAR_END, groupBy: 'staff' })],
    ['all sites, one year, by day', () => ({ siteId: null, from: YEAR_START, to: YEAR_END, groupBy: 'day' })],
    ['one site, one month, by procedure', () => ({ siteId: sites[0]!.siteId, from: new Date('2026-06-01T00:00:00+07:00'), to: new Date('2026-07-01T00:00:00+07:00'), groupBy: 'procedure' })],
    ['one site, one year, by procedure', () => ({ siteId: sites[0]!.siteId, from: YEAR_START, to: YEAR_END, groupBy: 'procedure' })],
  ];
  for (const [label, query] of cases) {
    it(label, async () => {
      await explain(label, summaryStatement(query(), await reportBounds(t.db, query())));
      const report = await timed(`${label} (summaryReport)`, () => summaryReport(t.db, query()));
      expect(report.totals.issued).toBeGreaterThan(0);
    }, 600_000);
  }

  for (const [label, from, to] of [['one month', new Date('2026-06-01T00:00:00+07:00'), new Date('2026-07-01T00:00:00+07:00')], ['one year', YEAR_START, YEAR_END]] as const) {
    it(`satisfaction and visits per dossier of one site, ${label}`, async () => {
      for (const groupBy of ['staff', 'procedure'] as const) {
        const report = await timed(`satisfaction ${label} by ${groupBy}`, () => satisfactionReport(t.db, { siteId: sites[0]!.siteId, from, to, groupBy }));
        expect(report.totals.ratings).toBeGreaterThan(0);
      }
      const dossiers = await timed(`dossiers ${label}`, () => dossierReport(t.db, { siteId: sites[0]!.siteId, from, to }));
      expect(dossiers.totals.dossiers).toBeGreaterThan(0);
    }, 600_000);
  }

  it('CSV export of one site for a year', async () => {
    const mid = { issuedAt: new Date('2026-07-01T00:00:00+07:00'), id: '00000000-0000-0000-0000-000000000000' };
    await explain('one export page', batchStatement(sites[0]!.siteId, { siteId: sites[0]!.siteId, from: YEAR_START, to: YEAR_END }, mid, 1000));
    const q = { siteId: sites[0]!.siteId, from: YEAR_START, to: YEAR_END };
    await timed('export pages only (database and driver)', async () => {
      let after: { issuedAt: Date; id: string } | null = null;
      for (;;) {
        const { rows } = await batchStatement(q.siteId, q, after, 1000).execute(t.db);
        if (rows.length < 1000) break;
        after = { issuedAt: rows.at(-1)!.issuedAt, id: rows.at(-1)!.id };
      }
    });
    let lines = 0;
    let peak = 0;
    await timed('export one site, one year', async () => {
      for await (const _ of streamTicketsCsv(t.db, { siteId: sites[0]!.siteId, from: YEAR_START, to: YEAR_END })) {
        if (++lines % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    });
    console.log(`export: ${lines} lines, heap peak sampled ${(peak / 2 ** 20).toFixed(0)} MiB`);
    expect(lines).toBeGreaterThan(1);
  }, 1_800_000);
});

/** A year of tickets spread evenly over the sites: 80 % done, 5 % no-show, 5 % cancelled,
 * 5 % still waiting, 5 % transferred once then done; 40 % of the done ones rated. */
async function generate(t: TestDatabase, sites: SiteFixture[]) {
  const siteIds = sites.map((s) => s.siteId);
  await sql`
    CREATE TEMP TABLE plan AS
    SELECT g AS n, gen_random_uuid() AS id,
      (${siteIds}::uuid[])[1 + g % ${siteIds.length}] AS site_id,
      ${YEAR_START}::timestamptz + (g::float8 / ${TICKETS}) * interval '365 days' AS issued_at,
      random() AS fate, random() * 1800 AS wait, 60 + random() * 1200 AS service_time,
      floor(random() * 3)::int AS service_index, floor(random() * 4)::int AS counter_index
    FROM generate_series(1, ${TICKETS}) g`.execute(t.db);
  await sql`
    CREATE TEMP TABLE plan2 AS
    SELECT p.*,
      (SELECT array_agg(id ORDER BY position) FROM service WHERE site_id = p.site_id) AS services,
      (SELECT array_agg(c.id ORDER BY c.number) FROM counter c WHERE c.site_id = p.site_id) AS counters
    FROM plan p`.execute(t.db);
  await sql`
    INSERT INTO ticket (id, public_id, site_id, issued_service_id, service_id, local_date, number, code, status,
      issued_at, queued_at, called_at, started_at, finished_at, counter_id, estimated_wait_seconds, transfer_count)
    SELECT id, 'p' || n, site_id, services[1 + service_index],
      CASE WHEN fate >= 0.95 THEN services[1 + (service_index + 1) % 3] ELSE services[1 + service_index] END,
      (issued_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, n, 'P' || n,
      CASE WHEN fate < 0.80 THEN 'done' WHEN fate < 0.85 THEN 'no_show' WHEN fate < 0.90 THEN 'cancelled'
        WHEN fate < 0.95 THEN 'waiting' ELSE 'done' END,
      issued_at,
      CASE WHEN fate >= 0.95 THEN issued_at + make_interval(secs => wait + 60) ELSE issued_at END,
      CASE WHEN fate < 0.85 THEN issued_at + make_interval(secs => wait)
        WHEN fate >= 0.95 THEN issued_at + make_interval(secs => wait + 360) END,
      NULL,
      CASE WHEN fate < 0.80 THEN issued_at + make_interval(secs => wait + service_time)
        WHEN fate < 0.85 THEN issued_at + make_interval(secs => wait + 120)
        WHEN fate < 0.90 THEN issued_at + make_interval(secs => 300)
        WHEN fate >= 0.95 THEN issued_at + make_interval(secs => wait + 360 + service_time) END,
      CASE WHEN fate < 0.85 OR fate >= 0.95 THEN counters[1 + counter_index] END,
      wait * (0.5 + random()), CASE WHEN fate >= 0.95 THEN 1 ELSE 0 END
    FROM plan2`.execute(t.db);
  await sql`
    INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, at)
    SELECT p.id, p.site_id, e.type, e.from_status, e.to_status, e.service_id, e.counter_id, e.at
    FROM plan2 p
    CROSS JOIN LATERAL (VALUES
      (1, 'issued', NULL, 'waiting', p.services[1 + p.service_index], NULL::uuid, p.issued_at, true),
      (2, 'called', 'waiting', 'called', p.services[1 + p.service_index], p.counters[1 + p.counter_index],
        p.issued_at + make_interval(secs => p.wait), p.fate < 0.85 OR p.fate >= 0.95),
      (3, 'finished', 'called', 'done', p.services[1 + p.service_index], p.counters[1 + p.counter_index],
        p.issued_at + make_interval(secs => p.wait + p.service_time), p.fate < 0.80),
      (3, 'no_show', 'called', 'no_show', p.services[1 + p.service_index], p.counters[1 + p.counter_index],
        p.issued_at + make_interval(secs => p.wait + 120), p.fate >= 0.80 AND p.fate < 0.85),
      (3, 'cancelled', 'waiting', 'cancelled', p.services[1 + p.service_index], NULL::uuid,
        p.issued_at + make_interval(secs => 300), p.fate >= 0.85 AND p.fate < 0.90),
      (3, 'transferred', 'called', 'waiting', p.services[1 + (p.service_index + 1) % 3], p.counters[1 + p.counter_index],
        p.issued_at + make_interval(secs => p.wait + 60), p.fate >= 0.95),
      (4, 'called', 'waiting', 'called', p.services[1 + (p.service_index + 1) % 3], p.counters[1 + (p.counter_index + 1) % 4],
        p.issued_at + make_interval(secs => p.wait + 360), p.fate >= 0.95),
      (5, 'finished', 'called', 'done', p.services[1 + (p.service_index + 1) % 3], p.counters[1 + (p.counter_index + 1) % 4],
        p.issued_at + make_interval(secs => p.wait + 360 + p.service_time), p.fate >= 0.95)
    ) AS e(step, type, from_status, to_status, service_id, counter_id, at, happened)
    WHERE e.happened
    ORDER BY p.n, e.step`.execute(t.db);
  await sql`
    INSERT INTO rating (ticket_id, site_id, score)
    SELECT id, site_id, 1 + floor(random() * 3)::int FROM plan2 WHERE (fate < 0.80 OR fate >= 0.95) AND random() < 0.4`.execute(t.db);
  // procedures: 70 % of tickets one, 15 % two (of 12 codes); dossiers: every other ticket at a
  // counter receives one, a third of those come back once (a week later), some a third time
  await sql`
    INSERT INTO ticket_procedure (ticket_id, site_id, procedure_code, procedure_name, source, added_at)
    SELECT p.id, p.site_id, '1.00' || lpad(k::text, 4, '0'), jsonb_build_object('vi', 'Thủ tục ' || k, 'en', 'Procedure ' || k), 'kiosk', p.issued_at
    FROM plan2 p
    CROSS JOIN LATERAL (SELECT DISTINCT 1 + (p.n * m * 7) % 12 AS k FROM generate_series(1, CASE WHEN p.n % 20 < 14 THEN 1 WHEN p.n % 20 < 17 THEN 2 ELSE 0 END) m) x`.execute(t.db);
  await sql`
    INSERT INTO ticket_dossier (ticket_id, site_id, dossier_code, direction, recorded_at)
    SELECT p.id, p.site_id, 'HS-' || CASE WHEN p.n % 6 = 1 AND p.n > ${Math.floor(TICKETS / 52)} THEN p.n - ${Math.floor(TICKETS / 52)} ELSE p.n END,
      CASE WHEN p.n % 6 = 1 THEN 'returned' ELSE 'received' END, p.issued_at
    FROM plan2 p
    WHERE (p.fate < 0.85 OR p.fate >= 0.95) AND p.n % 2 = 1`.execute(t.db);
  await sql`
    INSERT INTO alert (site_id, kind, counter_id, created_at, case_status)
    SELECT p.site_id, 'criticism', p.counters[1 + p.counter_index], p.issued_at + interval '1 hour', (ARRAY['new', 'investigating', 'resolved'])[1 + p.n % 3]
    FROM plan2 p WHERE p.n % 100 = 0`.execute(t.db);
  await sql`
    INSERT INTO alert_case_event (alert_id, at, status)
    SELECT a.id, a.created_at + interval '3 hours', a.case_status FROM alert a WHERE a.case_status <> 'new'`.execute(t.db);
  // the calls above name no official (as when a counter device calls): the report finds the
  // official through the counter's openings, here one opening and closing per counter and day
  await sql`
    INSERT INTO counter_event (counter_id, type, staff_id, at)
    SELECT c.id, k.type, u.id, d + k.at
    FROM counter c
    JOIN app_user u ON u.display_name = 'Cán bộ ' || c.number
    JOIN site_membership m ON m.user_id = u.id AND m.site_id = c.site_id
    CROSS JOIN generate_series(${YEAR_START}::timestamptz - interval '1 day', ${YEAR_END}::timestamptz, interval '1 day') d
    CROSS JOIN (VALUES ('opened', interval '0 hours'), ('closed', interval '23 hours 59 minutes')) AS k(type, at)
    WHERE c.site_id = ANY(${siteIds}::uuid[])
    ORDER BY d, c.id, k.at`.execute(t.db);
  await sql`ANALYZE`.execute(t.db);
}
