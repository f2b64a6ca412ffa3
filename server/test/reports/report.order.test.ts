import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { bookingReport } from '../../src/reports/bookings.ts';
import { dossierReport } from '../../src/reports/dossiers.ts';
import { summaryReport, type ReportGroupBy } from '../../src/reports/report.service.ts';
import { satisfactionReport } from '../../src/reports/satisfaction.ts';
import type { SiteFixture } from '../support/queue-fixture.ts';
import { expireOpen, seededRandom, twoSiteHistory } from './history.generator.ts';

// The same history gives the same report, to the last digit, whatever order PostgreSQL reads its
// rows in. A plan changes with the statistics (an autovacuum's ANALYZE between two pulls, or
// between the main thread's report and the report thread's) and with it the order of the rows;
// a float8 sum's last digits follow that order. Here the tables are rewritten in another order
// (CLUSTER by a random key) and every report is asked again.

const START = new Date('2026-11-16T17:00:00Z'); // 17 November, 00:00 in Hồ Chí Minh City
const RANGE = { from: START, to: new Date('2026-11-24T17:00:00Z') };
const BUILT_BY = new Date('2026-11-30T00:00:00Z'); // every day of the range over: the facts built

let t: TestDatabase;
let a: SiteFixture;

/** Every report over the history, as the bytes a client would get. */
async function everyReport(): Promise<string[]> {
  const out: string[] = [];
  for (const groupBy of ['service', 'counter', 'staff', 'day', 'hour', 'procedure'] as ReportGroupBy[]) {
    out.push(JSON.stringify(await summaryReport(t.db, { siteId: null, ...RANGE, groupBy }, { raw: true })));
    out.push(JSON.stringify(await summaryReport(t.db, { siteId: a.siteId, ...RANGE, groupBy, now: BUILT_BY })));
  }
  out.push(JSON.stringify(await bookingReport(t.db, { siteId: a.siteId, ...RANGE, withinMinutes: 10 })));
  out.push(JSON.stringify(await satisfactionReport(t.db, { siteId: a.siteId, ...RANGE, groupBy: 'staff' })));
  out.push(JSON.stringify(await dossierReport(t.db, { siteId: a.siteId, ...RANGE })));
  return out;
}

/** Rewrites a table in the order of a random key (a uuid), as CLUSTER does, and analyses it. */
async function reorder(table: string, column: string) {
  await sql`CREATE INDEX reorder_idx ON ${sql.table(table)} (${sql.ref(column)})`.execute(t.db);
  await sql`CLUSTER ${sql.table(table)} USING reorder_idx`.execute(t.db);
  await sql`DROP INDEX reorder_idx`.execute(t.db);
  await sql`ANALYZE ${sql.table(table)}`.execute(t.db);
}

beforeAll(async () => {
  t = await createTestDatabase();
  let b: SiteFixture;
  ({ a, b } = await twoSiteHistory(t.db, seededRandom(20), { tickets: 1_500, start: START, days: 8 }));
  // the days' ends: every day of the range can be built into facts
  for (const site of [a, b]) await expireOpen(t.db, site.siteId, new Date(START.getTime() - 86_400_000), RANGE.to);
}, 120_000);
afterAll(async () => t?.drop());

describe('the reports and the order rows are read in', () => {
  it('give the same figures, to the last digit, once the tables are rewritten in another order', async () => {
    const before = await everyReport();
    // the facts exist now (the site's summaries built them): reorder them too
    expect(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM report_stint`.execute(t.db)).rows[0]!.n)).toBeGreaterThan(500);
    await reorder('ticket', 'id');
    await reorder('ticket_event', 'ticket_id');
    await reorder('report_stint', 'ticket_id');
    await reorder('rating', 'ticket_id');
    const after = await everyReport();
    for (const [i, report] of before.entries()) expect(after[i], `report ${i}`).toBe(report);
  }, 120_000);
});
