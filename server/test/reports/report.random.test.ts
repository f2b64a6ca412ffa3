import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { summaryReport, type ReportGroupBy, type SummaryQuery } from '../../src/reports/report.service.ts';
import { createSite, type SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures } from './expect-figures.ts';
import { generateHistory, seededRandom } from './history.generator.ts';
import { loadHistory, percentileCont, referenceReport, type RawHistory } from './report.reference.ts';

// A random history of a few hundred tickets at two sites (different timezones and rating
// scales), and the SQL report compared figure by figure with a plain TypeScript computation
// over the raw rows. QMS_REPORT_SEED=n replays one history.

const SEED = Number(process.env.QMS_REPORT_SEED ?? 20261124);
const START = new Date('2026-11-23T00:00:00+07:00');
const GROUPS: ReportGroupBy[] = ['service', 'counter', 'staff', 'day', 'hour'];

let t: TestDatabase;
let a: SiteFixture;
let b: SiteFixture;
let history: RawHistory;

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createSite(t.db);
  b = await createSite(t.db, {
    services: [{ code: 'HT', prefix: 'A' }, { code: 'KD', prefix: 'K' }],
    counters: [{ number: 1, services: ['HT'] }, { number: 2, services: ['HT', 'KD'] }, { number: 3, services: ['KD'] }],
  });
  // site B: Tokyo time, and a 4-level scale whose lowest score is 2
  const scaleB = [5, 4, 3, 2];
  await t.db.updateTable('site').set({
    timezone: 'Asia/Tokyo',
    settings: JSON.stringify({ ratingScale: scaleB.map((score) => ({ score, label: { vi: String(score), en: String(score) } })) }),
  }).where('id', '=', b.siteId).execute();
  await generateHistory(t.db, [
    { fixture: a, timezone: 'Asia/Ho_Chi_Minh', scale: [3, 2, 1] },
    { fixture: b, timezone: 'Asia/Tokyo', scale: scaleB },
  ], seededRandom(SEED), { tickets: 400, start: START, days: 3 });
  history = await loadHistory(t.db);
}, 60_000);
afterAll(() => t?.drop());

describe(`a random history (seed ${SEED})`, () => {
  it('is varied enough to mean something', () => {
    const statuses = new Set(history.tickets.map((x) => x.status));
    expect([...statuses].sort()).toEqual(['called', 'cancelled', 'done', 'no_show', 'serving', 'waiting']);
    expect(history.events.filter((e) => e.type === 'transferred').length).toBeGreaterThan(20);
    expect(history.events.filter((e) => e.type === 'called' && e.staffId === null).length).toBeGreaterThan(10);
    expect(history.ratings.length).toBeGreaterThan(50);
  });

  it('percentile_cont in the reference is PostgreSQL\'s', async () => {
    const values = [7, 1, 3, 10, 4.5];
    const pg = await sql<{ p50: number; p90: number; p33: number }>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90,
        percentile_cont(0.33) WITHIN GROUP (ORDER BY v) AS p33
      FROM unnest(${values}::float8[]) v`.execute(t.db);
    const got = pg.rows[0]!;
    expect(percentileCont(values, 0.5)).toBeCloseTo(got.p50, 9);
    expect(percentileCont(values, 0.9)).toBeCloseTo(got.p90, 9);
    expect(percentileCont(values, 0.33)).toBeCloseTo(got.p33, 9);
  });

  const ranges = (): { name: string; from: Date; to: Date }[] => {
    const sorted = [...history.tickets].sort((x, y) => x.issuedAt.getTime() - y.issuedAt.getTime());
    return [
      { name: 'everything', from: new Date(START.getTime() - 86_400_000), to: new Date(START.getTime() + 5 * 86_400_000) },
      // bounds on tickets' own issue instants: the first in, the last out
      { name: 'a slice', from: sorted[57]!.issuedAt, to: sorted[301]!.issuedAt },
      { name: 'one local day', from: new Date('2026-11-24T00:00:00+07:00'), to: new Date('2026-11-25T00:00:00+07:00') },
    ];
  };

  for (const groupBy of GROUPS) {
    it(`by ${groupBy}: every figure equals the reference`, async () => {
      for (const range of ranges()) {
        for (const [siteName, siteId] of [['A', a.siteId], ['B', b.siteId], ['all', null]] as const) {
          const q: SummaryQuery = { siteId, groupBy, from: range.from, to: range.to };
          const where = `${groupBy} ${range.name} site ${siteName}:`;
          const got = await summaryReport(t.db, q);
          const want = referenceReport(history, q);
          expect(got.rows.map((r) => [r.key, r.label]), `${where} rows`).toEqual(want.rows.map((r) => [r.key, r.label]));
          want.rows.forEach((row, i) => expectFigures(got.rows[i]!, row, `${where} ${row.label}`));
          expectFigures(got.totals, want.totals, `${where} totals`);
          expect(got.totals.issued).toBeGreaterThan(0);
        }
      }
    });
  }
});
