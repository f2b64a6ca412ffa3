import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { dossierReport } from '../../src/reports/dossiers.ts';
import { percentiles, summaryReport, type ReportGroupBy, type SummaryQuery } from '../../src/reports/report.service.ts';
import { SATISFACTION_GROUPS, satisfactionReport } from '../../src/reports/satisfaction.ts';
import { referenceDossiers, referenceSatisfaction, resolvedAt } from './indicators.reference.ts';
import type { SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures } from './expect-figures.ts';
import { seededRandom, twoSiteHistory } from './history.generator.ts';
import { loadHistory, percentileCont, referenceReport, type RawHistory } from './report.reference.ts';

// A random history of a few hundred tickets at two sites (different timezones and rating
// scales), and the SQL report compared figure by figure with a plain TypeScript computation
// over the raw rows. QMS_REPORT_SEED=n replays one history.

const SEED = Number(process.env.QMS_REPORT_SEED ?? 20261124);
const START = new Date('2026-11-23T00:00:00+07:00');
const GROUPS: ReportGroupBy[] = ['service', 'counter', 'staff', 'day', 'hour', 'procedure'];

let t: TestDatabase;
let a: SiteFixture;
let b: SiteFixture;
let history: RawHistory;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ a, b } = await twoSiteHistory(t.db, seededRandom(SEED), { tickets: 400, start: START, days: 3 }));
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

  it('has procedures, dossiers and criticisms varied enough to mean something', () => {
    const perTicket = new Map<string, number>();
    for (const p of history.procedures) perTicket.set(p.ticketId, (perTicket.get(p.ticketId) ?? 0) + 1);
    expect(history.tickets.length - perTicket.size, 'tickets without a procedure').toBeGreaterThan(20);
    expect([...perTicket.values()].filter((n) => n === 2).length, 'tickets with two').toBeGreaterThan(20);
    // the renamed procedure: two names for one code
    expect(new Set(history.procedures.filter((p) => p.procedureCode === '1.001193').map((p) => p.procedureName.vi)).size).toBe(2);
    const visits = new Map<string, Set<string>>();
    for (const d of history.dossiers) visits.set(`${d.siteId}|${d.dossierCode}`, (visits.get(`${d.siteId}|${d.dossierCode}`) ?? new Set()).add(d.ticketId));
    const sizes = [...visits.values()].map((v) => v.size);
    for (const n of [1, 2, 3]) expect(sizes.filter((s) => s === n).length, `dossiers with ${n} visits`).toBeGreaterThan(3);
    expect(sizes.filter((s) => s >= 4).length, 'dossiers with 4+ visits').toBeGreaterThan(0);
    expect(history.dossiers.length, 'a ticket carrying a code twice').toBeGreaterThan([...visits.values()].reduce((a, v) => a + v.size, 0));
    const criticisms = history.alerts.filter((x) => x.kind === 'criticism');
    expect(criticisms.filter((x) => x.ticketId).length).toBeGreaterThan(10);
    expect(criticisms.filter((x) => !x.ticketId).length).toBeGreaterThan(10);
    for (const status of [null, 'new', 'investigating', 'resolved']) expect(criticisms.filter((x) => x.caseStatus === status).length, String(status)).toBeGreaterThan(2);
    // a reopened case: resolved, then not, then resolved again (its resolution is the later one)
    const reopened = criticisms.filter((x) => {
      const events = history.caseEvents.filter((e) => e.alertId === x.id).sort((p, q) => p.at.getTime() - q.at.getTime()).map((e) => e.status);
      return events.join(',').includes('resolved,investigating,resolved');
    });
    expect(reopened.length).toBeGreaterThan(0);
    expect(resolvedAt(history, reopened[0]!.id)!.getTime()).toBeGreaterThan(Math.min(
      ...history.caseEvents.filter((e) => e.alertId === reopened[0]!.id && e.status === 'resolved').map((e) => e.at.getTime())));
    expect(history.alerts.filter((x) => x.kind === 'low_rating').length).toBeGreaterThan(0);
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

  it('the report\'s percentiles (selection over float8 bytes) are PostgreSQL\'s percentile_cont, to the bit', async () => {
    // random sizes from 1, with ties, sorted and reversed runs, millisecond waits: the cases
    // where a selection's pivot or its "next rank up" could go wrong
    const cases: number[][] = [[42], [5, 5], [3, 1, 2], Array.from({ length: 1000 }, (_, i) => i), Array.from({ length: 999 }, (_, i) => 999 - i)];
    const random = seededRandom(SEED + 1);
    for (let i = 0; i < 40; i++) {
      const n = 1 + Math.floor(random() * (i < 20 ? 12 : 5000));
      cases.push(Array.from({ length: n }, () => (random() < 0.3 ? 60 : Math.round(random() * 3_600_000) / 1000)));
    }
    const fractions = [0.5, 0.9, 0.33, 0, 1];
    for (const values of cases) {
      const bytes = Buffer.alloc(values.length * 8);
      values.forEach((v, i) => bytes.writeDoubleBE(v, i * 8));
      const { rows: [want] } = await sql<{ p: number[] }>`
        SELECT percentile_cont(${fractions}::float8[]) WITHIN GROUP (ORDER BY v) AS p FROM unnest(${values}::float8[]) v`.execute(t.db);
      expect(percentiles(bytes, fractions), `${values.length} values`).toEqual(want!.p);
    }
    expect(percentiles(null, [0.5])).toEqual([null]);
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

  it('by procedure: a ticket with two procedures is in both rows and once in the totals', async () => {
    const q: SummaryQuery = { siteId: a.siteId, groupBy: 'procedure', from: START, to: new Date(START.getTime() + 5 * 86_400_000) };
    const got = await summaryReport(t.db, q);
    expect(got.rows.reduce((n, r) => n + r.issued, 0)).toBeGreaterThan(got.totals.issued);
    expect(got.rows.at(-1)).toMatchObject({ key: '', label: '(không ghi thủ tục)' });
    expect(got.rows.find((r) => r.key === '1.001193')?.label).toBe('Đăng ký khai sinh (trong nước)');
    const service = await summaryReport(t.db, { ...q, groupBy: 'service' });
    expectFigures(got.totals, service.totals, 'procedure totals = service totals');
  });

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

describe(`satisfaction and visits per dossier on the random history (seed ${SEED})`, () => {
  const ranges = () => [
    { name: 'everything', from: new Date(START.getTime() - 86_400_000), to: new Date(START.getTime() + 5 * 86_400_000) },
    { name: 'one local day', from: new Date('2026-11-24T00:00:00+07:00'), to: new Date('2026-11-25T00:00:00+07:00') },
    { name: 'an afternoon', from: new Date('2026-11-23T13:00:00+07:00'), to: new Date('2026-11-24T17:30:00+07:00') },
  ];

  for (const groupBy of SATISFACTION_GROUPS) {
    it(`satisfaction by ${groupBy}: every figure equals the reference`, async () => {
      for (const range of ranges()) {
        for (const [siteName, siteId] of [['A', a.siteId], ['B', b.siteId]] as const) {
          const q = { siteId, groupBy, from: range.from, to: range.to };
          const where = `${groupBy} ${range.name} site ${siteName}`;
          const got = await satisfactionReport(t.db, q);
          const want = referenceSatisfaction(history, q);
          expect(got.scale, where).toEqual(want.scale);
          expect(got.rows.map((r) => [r.key, r.label]), `${where} rows`).toEqual(want.rows.map((r) => [r.key, r.label]));
          want.rows.forEach((row, i) => expectSatisfaction(got.rows[i]!, row, `${where} ${row.label}`));
          expectSatisfaction(got.totals, want.totals, `${where} totals`);
          if (range.name === 'everything') {
            expect(got.totals.ratings, where).toBeGreaterThan(10);
            expect(got.totals.criticisms, where).toBeGreaterThan(10);
            expect(got.totals.resolutionsTimed, where).toBeGreaterThan(2);
          }
        }
      }
    });
  }

  it('satisfaction counts the same ratings per official, counter and service as the summary', async () => {
    for (const groupBy of ['staff', 'counter', 'service'] as const) {
      const range = ranges()[0]!;
      const sat = await satisfactionReport(t.db, { siteId: a.siteId, groupBy, ...range });
      const sum = await summaryReport(t.db, { siteId: a.siteId, groupBy, ...range });
      const ratings = (rows: { key: string; ratings: number }[]) => rows.filter((r) => r.ratings).map((r) => [r.key, r.ratings]);
      expect(ratings(sat.rows), groupBy).toEqual(ratings(sum.rows));
      expect(sat.totals.ratings).toBe(sum.totals.ratings);
    }
  });

  it('visits per dossier: every figure equals the reference', async () => {
    for (const range of ranges()) {
      for (const [siteName, siteId] of [['A', a.siteId], ['B', b.siteId]] as const) {
        const q = { siteId, from: range.from, to: range.to };
        const where = `${range.name} site ${siteName}`;
        const got = await dossierReport(t.db, q);
        const want = referenceDossiers(history, q);
        expect(got.rows.map((r) => [r.key, r.label]), `${where} rows`).toEqual(want.rows.map((r) => [r.key, r.label]));
        want.rows.forEach((row, i) => expectClose(got.rows[i]!, row, `${where} ${row.label}`));
        expectClose(got.totals, want.totals, `${where} totals`);
        if (range.name === 'everything') expect(got.totals.fourOrMoreVisits + got.totals.threeVisits, where).toBeGreaterThan(0);
      }
    }
  });
});

/** Counts exactly, averages, shares and medians to 1e-6, nulls as nulls, every field present. */
function expectClose(actual: object, expected: object, where: string) {
  expect(Object.keys(actual).sort(), `${where} fields`).toEqual(Object.keys(expected).sort());
  for (const [field, want] of Object.entries(expected)) {
    if (field === 'key' || field === 'label' || field === 'levels') continue;
    const got = (actual as Record<string, unknown>)[field];
    if (want === null) expect(got, `${where} ${field}`).toBeNull();
    else expect(got as number, `${where} ${field}`).toBeCloseTo(want as number, 6);
  }
}

function expectSatisfaction(actual: import('../../src/reports/satisfaction.ts').SatisfactionFigures, expected: typeof actual, where: string) {
  expectClose(actual, expected, where);
  expect(actual.levels.map((l) => [l.score, l.count]), `${where} levels`).toEqual(expected.levels.map((l) => [l.score, l.count]));
  expected.levels.forEach((l, i) => {
    if (l.share === null) expect(actual.levels[i]!.share, `${where} share ${l.score}`).toBeNull();
    else expect(actual.levels[i]!.share!, `${where} share ${l.score}`).toBeCloseTo(l.share, 6);
  });
}
