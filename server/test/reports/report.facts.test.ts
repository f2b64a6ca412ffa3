import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { ReportPace } from '../../src/reports/pace.ts';
import {
  BACKFILL_DAYS, buildReportDays, reportFactsBuilder, summaryReport, type ReportGroupBy, type SummaryQuery, type SummaryReport,
} from '../../src/reports/report.service.ts';
import type { SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures } from './expect-figures.ts';
import { expireOpen, seededRandom, twoSiteHistory } from './history.generator.ts';
import { loadHistory, referenceReport, type RawHistory } from './report.reference.ts';

// The report facts (report_stint, report_day; README "Speed") against the raw history: a random
// history at two sites (Hồ Chí Minh and Tokyo time), some site-days built into facts and others
// not (tickets still open), then random ranges (starting and ending mid-day) in every grouping
// compared figure by figure with the TypeScript reference and with the all-raw SQL statement;
// then what can change after a day was built: a late rating (given, changed, removed), a
// ticket of an unbuilt day called after midnight, transferred and served, the target wait and
// the site's timezone changed. QMS_REPORT_SEED=n replays another history.

const SEED = Number(process.env.QMS_REPORT_SEED ?? 20261206);
const START = new Date('2026-11-23T00:00:00+07:00');
const END = new Date(START.getTime() + 5 * 86_400_000);
const FAR = new Date('2100-01-01T00:00:00Z');
const GROUPS: ReportGroupBy[] = ['service', 'counter', 'staff', 'day', 'hour', 'procedure'];
const random = seededRandom(SEED);

let t: TestDatabase;
let a: SiteFixture;
let b: SiteFixture;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ a, b } = await twoSiteHistory(t.db, random, { tickets: 500, start: START, days: 4 }));
  // the day end of the first two local days of site A and the first of site B: their open
  // tickets expire (as day-end.ts does), so those days can be built; the others keep theirs
  await expire(a.siteId, new Date('2026-11-23T00:00:00+07:00'), new Date('2026-11-25T00:00:00+07:00'));
  await expire(b.siteId, new Date('2026-11-23T00:00:00+09:00'), new Date('2026-11-24T00:00:00+09:00'));
}, 60_000);
afterAll(() => t?.drop());

const expire = (siteId: string, from: Date, to: Date) => expireOpen(t.db, siteId, from, to);

/** The report through the facts, the reference over the raw rows, and the all-raw statement, figure by figure. */
async function compare(q: SummaryQuery, where: string, history?: RawHistory): Promise<SummaryReport> {
  const got = await summaryReport(t.db, q);
  const want = referenceReport(history ?? await loadHistory(t.db), q);
  expect(got.rows.map((r) => [r.key, r.label]), `${where} rows`).toEqual(want.rows.map((r) => [r.key, r.label]));
  want.rows.forEach((row, i) => expectFigures(got.rows[i]!, row, `${where} ${row.label}`));
  expectFigures(got.totals, want.totals, `${where} totals`);
  const raw = await summaryReport(t.db, q, { raw: true });
  expect(raw.rows.map((r) => r.key), `${where} raw rows`).toEqual(got.rows.map((r) => r.key));
  want.rows.forEach((row, i) => expectFigures(raw.rows[i]!, row, `${where} raw ${row.label}`));
  expectFigures(raw.totals, want.totals, `${where} raw totals`);
  return got;
}

const builtDays = async () => (await sql<{ siteId: string; localDate: string }>`
  SELECT site_id AS "siteId", to_char(local_date, 'YYYY-MM-DD') AS "localDate" FROM report_day ORDER BY 1, 2`.execute(t.db)).rows;

/** A random instant of the history, to the millisecond (mid-day, mid-second). */
const instant = () => new Date(START.getTime() - 3_600_000 + Math.floor(random() * (END.getTime() - START.getTime())));

describe(`report facts against the raw history (seed ${SEED})`, () => {
  it('builds the closed site-days and only those', async () => {
    const built = await buildReportDays(t.db, { siteId: null, from: new Date(START.getTime() - 86_400_000), to: END, now: FAR });
    const days = await builtDays();
    expect(built.days).toBe(days.length);
    expect(built.tickets).toBeGreaterThan(50);
    // A's two expired days and B's one, and every day after the history (no tickets); none
    // before a site's first ticket
    expect(days.filter((d) => d.siteId === a.siteId).map((d) => d.localDate)).toEqual(expect.arrayContaining(['2026-11-23', '2026-11-24']));
    expect(days.filter((d) => d.localDate < '2026-11-23')).toEqual([]);
    expect(days.some((d) => d.localDate > '2026-11-27')).toBe(true);
    expect(days.filter((d) => d.siteId === b.siteId).map((d) => d.localDate)).toContain('2026-11-23');
    // days with tickets still open are not built
    expect(days.some((d) => d.siteId === a.siteId && d.localDate === '2026-11-25')).toBe(false);
    const { rows: [open] } = await sql<{ n: string }>`SELECT count(*) AS n FROM ticket WHERE status IN ('waiting', 'called', 'serving')`.execute(t.db);
    expect(Number(open!.n)).toBeGreaterThan(5);
    // nothing "today": a day that has not ended by `now` stays raw
    const again = await buildReportDays(t.db, { siteId: null, from: START, to: END, now: new Date('2026-11-24T12:00:00+07:00') });
    expect(again.days).toBe(0);
  });

  it('every grouping, random ranges starting and ending mid-day, one site, all sites, a manager\'s sites: the same figures', async () => {
    const ranges = [
      { name: 'everything', from: new Date(START.getTime() - 86_400_000), to: END },
      { name: 'built days only', from: new Date('2026-11-23T00:00:00+07:00'), to: new Date('2026-11-25T00:00:00+07:00') },
      ...Array.from({ length: 4 }, (_, i) => {
        const [x, y] = [instant(), instant()].sort((p, q) => p.getTime() - q.getTime());
        return { name: `random ${i}`, from: x!, to: new Date(y!.getTime() + 1) };
      }),
    ];
    const history = await loadHistory(t.db);
    for (const range of ranges) {
      for (const groupBy of GROUPS) {
        for (const [siteName, siteId, siteIds] of [['A', a.siteId, undefined], ['B', b.siteId, undefined], ['all', null, undefined], ['A+B', null, [a.siteId, b.siteId]]] as const) {
          await compare({ siteId, ...(siteIds ? { siteIds: [...siteIds] } : {}), groupBy, from: range.from, to: range.to }, `${range.name} ${groupBy} ${siteName}:`, history);
        }
      }
    }
    const { rows: [n] } = await sql<{ n: string }>`SELECT count(*) AS n FROM report_stint`.execute(t.db);
    expect(Number(n!.n)).toBeGreaterThan(50);
  }, 180_000);

  it('read in slices while the reports are paced (the queue busy): the same report to the last digit, in every grouping', async () => {
    // a pace always busy on a clock of its own: each statement works 1 ms, a slice of 8 aims at
    // 16, so each slice is twice as long as the one before (1 hour, 2, 4...), cut mid-day
    class Counting extends ReportPace {
      statements = 0;
      override run<T>(work: () => Promise<T>): Promise<T> {
        this.statements++;
        return super.run(work);
      }
    }
    let tick = 0;
    const pace = new Counting({ share: 0.5, busy: () => true, sliceMs: 16, clock: () => tick++, wait: async (ms) => { tick += ms; } });
    const paced = createDb(t.url, { pace });
    try {
      const ranges = [
        { name: 'everything', from: new Date(START.getTime() - 86_400_000), to: END },
        ...Array.from({ length: 2 }, (_, i) => {
          const [x, y] = [instant(), instant()].sort((p, q) => p.getTime() - q.getTime());
          return { name: `random ${i}`, from: x!, to: new Date(y!.getTime() + 1) };
        }),
      ];
      for (const range of ranges) {
        for (const groupBy of GROUPS) {
          for (const [siteName, siteId, siteIds] of [['A', a.siteId, undefined], ['all', null, undefined], ['A+B', null, [a.siteId, b.siteId]]] as const) {
            const q: SummaryQuery = { siteId, ...(siteIds ? { siteIds: [...siteIds] } : {}), groupBy, from: range.from, to: range.to };
            const where = `${range.name} ${groupBy} ${siteName}`;
            const whole = await summaryReport(t.db, q);
            const before = pace.statements;
            expect(await summaryReport(paced, q, { pace }), where).toEqual(whole);
            const statements = pace.statements - before;
            // by procedure never sliced: one transaction of eight statements, and its site check
            if (groupBy === 'procedure') expect(statements, where).toBeLessThanOrEqual(10);
            else if (range.name === 'everything') expect(statements, where).toBeGreaterThanOrEqual(5 * 8);
          }
        }
      }
      // a report past its rest budget reads the rest of its range at once: here from the start
      const spent = new Counting({ share: 0.5, busy: () => true, sliceMs: 16, restBudgetMs: 0, clock: () => tick++, wait: async (ms) => { tick += ms; } });
      const once = createDb(t.url, { pace: spent });
      try {
        const q: SummaryQuery = { siteId: null, groupBy: 'service', from: ranges[0]!.from, to: ranges[0]!.to };
        expect(await summaryReport(once, q, { pace: spent })).toEqual(await summaryReport(t.db, q));
        expect(spent.statements).toBeLessThanOrEqual(10);
      } finally {
        await once.destroy();
      }
    } finally {
      await paced.destroy();
    }
  }, 180_000);

  it('a late rating, changed, removed: its day is read raw again, then rebuilt, with the same figures', async () => {
    const { rows: [done] } = await sql<{ id: string; counterId: string; staffId: string | null }>`
      SELECT t.id, t.counter_id AS "counterId", t.staff_id AS "staffId" FROM ticket t
      JOIN report_day d ON d.site_id = t.site_id AND t.issued_at >= d.from_at AND t.issued_at < d.to_at
      WHERE t.site_id = ${a.siteId} AND t.status = 'done' AND NOT EXISTS (SELECT 1 FROM rating r WHERE r.ticket_id = t.id)
      LIMIT 1`.execute(t.db);
    expect(done).toBeDefined();
    const q: SummaryQuery = { siteId: null, groupBy: 'staff', from: START, to: END };
    const before = await compare(q, 'before the rating:');
    const day = async () => (await builtDays()).length;
    const daysBefore = await day();
    await sql`INSERT INTO rating (ticket_id, site_id, counter_id, staff_id, score, created_at)
      VALUES (${done!.id}, ${a.siteId}, ${done!.counterId}, ${done!.staffId}, 1, ${FAR})`.execute(t.db);
    expect(await day()).toBe(daysBefore - 1);
    const after = await compare({ ...q, groupBy: 'service' }, 'late rating:');
    expect(after.totals.ratings).toBe(before.totals.ratings + 1);
    expect(await day()).toBe(daysBefore); // rebuilt by the report
    await sql`UPDATE rating SET score = 3 WHERE ticket_id = ${done!.id}`.execute(t.db);
    expect((await compare(q, 'rating changed:')).totals.ratings).toBe(before.totals.ratings + 1);
    await sql`DELETE FROM rating WHERE ticket_id = ${done!.id}`.execute(t.db);
    expect((await compare({ ...q, groupBy: 'counter' }, 'rating removed:')).totals.ratings).toBe(before.totals.ratings);
  });

  it('a ticket of an unbuilt day called after midnight, transferred and served: read raw until its day is built, then from facts', async () => {
    const { rows: [open] } = await sql<{ id: string; serviceId: string; issuedAt: Date }>`
      SELECT id, service_id AS "serviceId", issued_at AS "issuedAt" FROM ticket
      WHERE site_id = ${a.siteId} AND status = 'waiting' ORDER BY issued_at LIMIT 1`.execute(t.db);
    expect(open).toBeDefined();
    const local = new Date(open!.issuedAt.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    const midnight = new Date(`${local}T00:00:00+07:00`).getTime() + 86_400_000;
    const at = (minutes: number) => new Date(midnight + minutes * 60_000 + 137);
    const other = Object.values(a.service).find((s) => s !== open!.serviceId)!;
    const ev = (type: string, from: string, to: string, serviceId: string, minutes: number) => sql`
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, at)
      VALUES (${open!.id}, ${a.siteId}, ${type}, ${from}, ${to}, ${serviceId}, ${a.counter[1]}, ${a.staff[0]}, ${at(minutes)})`.execute(t.db);
    await ev('called', 'waiting', 'called', open!.serviceId, 5);
    await ev('transferred', 'called', 'waiting', other, 7);
    await compare({ siteId: a.siteId, groupBy: 'service', from: START, to: END }, 'transferred after midnight:');
    await ev('called', 'waiting', 'called', other, 12);
    await ev('started', 'called', 'serving', other, 13);
    await ev('finished', 'serving', 'done', other, 20);
    await sql`UPDATE ticket SET status = 'done', service_id = ${other}, counter_id = ${a.counter[1]}, staff_id = ${a.staff[0]},
      called_at = ${at(12)}, started_at = ${at(13)}, finished_at = ${at(20)}, transfer_count = 1 WHERE id = ${open!.id}`.execute(t.db);
    // close the rest of its day, as the day end would, and build it
    await expire(a.siteId, new Date(`${local}T00:00:00+07:00`), new Date(midnight));
    const built = await buildReportDays(t.db, { siteId: a.siteId, from: START, to: END, now: FAR });
    expect(built.days).toBeGreaterThan(0);
    expect((await builtDays()).some((d) => d.siteId === a.siteId && d.localDate === local)).toBe(true);
    for (const groupBy of GROUPS) await compare({ siteId: null, groupBy, from: START, to: END }, `after midnight, built, ${groupBy}:`);
  });

  it('the target wait and the timezone are current settings: changed after the build, the figures follow', async () => {
    await sql`UPDATE service SET target_wait_seconds = 60 WHERE site_id = ${a.siteId}`.execute(t.db);
    const q: SummaryQuery = { siteId: null, groupBy: 'service', from: START, to: END };
    await compare(q, 'target wait changed:');
    await t.db.updateTable('site').set({ timezone: 'Asia/Bangkok' }).where('id', '=', b.siteId).execute();
    for (const groupBy of ['day', 'hour'] as const) await compare({ ...q, groupBy }, `timezone changed, ${groupBy}:`);
  });

  it('the day-end runner builds the days just over, then older days newest first, a few per check, from each site\'s first ticket, then stops looking back', async () => {
    await sql`TRUNCATE report_stint, report_day`.execute(t.db);
    // "now": the morning after the history; the two days before are "just over"
    const now = new Date(END.getTime() + 9 * 3_600_000);
    const PER_CHECK = 2;
    const builder = reportFactsBuilder(t.db, PER_CHECK);
    const key = (d: { siteId: string; localDate: string }) => `${d.siteId} ${d.localDate}`;
    const first = await builder.build(now);
    const afterFirst = await builtDays();
    expect(first.days).toBe(afterFirst.length);
    // the days just over (both sites' last two) and PER_CHECK older site-days
    expect(afterFirst.length).toBeGreaterThan(PER_CHECK);
    expect(afterFirst.length).toBeLessThanOrEqual(PER_CHECK + 6);
    let seen = new Set(afterFirst.map(key));
    let oldest = afterFirst.map((d) => d.localDate).sort()[0]!;
    let checks = 1;
    for (;;) {
      const r = await builder.build(now);
      checks++;
      const days = await builtDays();
      const added = days.filter((d) => !seen.has(key(d)));
      expect(added.length).toBe(r.days);
      expect(r.days).toBeLessThanOrEqual(PER_CHECK);
      // newest first: nothing built now is later than what an earlier check built
      for (const d of added) expect(d.localDate <= oldest, `${d.localDate} after ${oldest}`).toBe(true);
      if (added.length) oldest = added.map((d) => d.localDate).sort()[0]!;
      seen = new Set(days.map(key));
      if (!r.days) break;
      expect(checks).toBeLessThan(100);
    }
    expect(checks).toBeGreaterThan(2);
    // each site's days from its first ticket's to the last one over, less those with tickets
    // still open; none before it: a site opened today has no year of empty days to build
    const { rows: spans } = await sql<{ siteId: string; timezone: string; first: string; open: string[] }>`
      SELECT s.id AS "siteId", s.timezone, to_char(min(t.issued_at AT TIME ZONE s.timezone), 'YYYY-MM-DD') AS first,
        coalesce(array_agg(DISTINCT to_char(t.issued_at AT TIME ZONE s.timezone, 'YYYY-MM-DD'))
          FILTER (WHERE t.status IN ('waiting', 'called', 'serving')), '{}') AS open
      FROM site s JOIN ticket t ON t.site_id = s.id GROUP BY s.id, s.timezone`.execute(t.db);
    expect(spans).toHaveLength(2);
    const days = await builtDays();
    for (const site of spans) {
      const own = days.filter((d) => d.siteId === site.siteId).map((d) => d.localDate);
      const lastOver = new Date(now.getTime() - 86_400_000).toLocaleDateString('en-CA', { timeZone: site.timezone });
      const want: string[] = [];
      for (let d = new Date(`${site.first}T00:00:00Z`); d.toISOString().slice(0, 10) <= lastOver; d = new Date(d.getTime() + 86_400_000)) {
        if (!site.open.includes(d.toISOString().slice(0, 10))) want.push(d.toISOString().slice(0, 10));
      }
      expect(own, `the days built at ${site.siteId === a.siteId ? 'A' : 'B'}`).toEqual(want);
    }
    // once a look back found nothing, a check looks no further back: a day dropped by a rating
    // long ago stays for a report (or a restart) to rebuild
    const oldDay = (await builtDays()).sort((x, y) => x.localDate.localeCompare(y.localDate))[0]!;
    expect(oldDay.localDate < '2026-11-26', oldDay.localDate).toBe(true);
    await sql`DELETE FROM report_day WHERE site_id = ${oldDay.siteId} AND local_date = ${oldDay.localDate}::date`.execute(t.db);
    expect((await builder.build(now)).days).toBe(0);
    expect((await reportFactsBuilder(t.db, PER_CHECK).build(now)).days).toBe(1);
    // what the runner built is what a build of the whole range builds: nothing is left
    expect((await buildReportDays(t.db, { siteId: null, from: new Date(now.getTime() - BACKFILL_DAYS * 86_400_000), to: now, now })).days).toBe(0);
    // and the figures are still the raw history's
    await compare({ siteId: null, groupBy: 'service', from: START, to: END }, 'after the runner:');
  });
});
