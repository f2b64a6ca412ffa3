import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { readPlan, reportBounds, summaryStatement, type ReportGroupBy, type SummaryQuery } from '../../src/reports/report.service.ts';
import { createSite, type SiteFixture } from '../support/queue-fixture.ts';

// How PostgreSQL runs the summary by day and by hour over built facts: it hashes the stints into
// their groups. Grouped by an expression of three columns (the stint's own day, else its
// issued_at in its site's timezone), the planner took the groups for as many as the stints and
// sorted them all first: 72.5 MB on disk for an all-sites year of 1 M tickets, each time
// (docs/performance.md, h, "Where the managers' cost lands"). The figures are report.facts.test's.

const FROM = new Date('2026-01-01T00:00:00+07:00');
const DAYS = 60;
const STINTS = 42_000;

let t: TestDatabase;
let site: SiteFixture;

beforeAll(async () => {
  t = await createTestDatabase();
  site = await createSite(t.db);
  const serviceId = Object.values(site.service)[0]!;
  // built days of facts, as the day-end runner leaves them
  await sql`
    INSERT INTO report_day (site_id, local_date, from_at, to_at, timezone, tickets)
    SELECT ${site.siteId}, d::date, d::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', (d + interval '1 day')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
      'Asia/Ho_Chi_Minh', ${STINTS / DAYS}
    FROM generate_series(date '2026-01-01', date '2026-01-01' + ${DAYS - 1}::int, interval '1 day') AS d`.execute(t.db);
  await sql`
    INSERT INTO report_stint (site_id, local_date, local_hour, issued_at, ticket_id, service_id, first, transfer_in, transfer_out, final, status, wait, service_seconds)
    SELECT ${site.siteId}, date '2026-01-01' + (i % ${DAYS}::int), 8 + i % 9,
      (date '2026-01-01' + (i % ${DAYS}::int) + interval '8 hours' + (i % 9) * interval '1 hour')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
      gen_random_uuid(), ${serviceId}, true, false, false, true, 'done', 60 + i % 600, 120 + i % 300
    FROM generate_series(1, ${STINTS}::int) AS i`.execute(t.db);
  await sql`UPDATE site SET timezone = 'Asia/Ho_Chi_Minh' WHERE id = ${site.siteId}`.execute(t.db);
  await sql`ANALYZE report_stint, report_day`.execute(t.db);
}, 60_000);
afterAll(() => t?.drop());

/** The statement's aggregates that group by `column` ("HashAggregate", "GroupAggregate"), as EXPLAIN finds them with the report's own settings. */
async function groupingsBy(groupBy: ReportGroupBy, column: string): Promise<string[]> {
  const q: SummaryQuery = { siteId: null, from: FROM, to: new Date(FROM.getTime() + DAYS * 86_400_000), groupBy, now: new Date('2027-01-01T00:00:00Z') };
  const plan = await readPlan(t.db, q);
  expect(plan.builtDays, 'every day of the range built').toBe(DAYS);
  const statement = summaryStatement(q, await reportBounds(t.db, q, plan.spans), plan).compile(t.db);
  // with the statement's parameters bound, as the report runs it
  const { rows } = await t.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
    await sql`SET LOCAL enable_nestloop = off`.execute(trx);
    return trx.executeQuery<Record<string, string>>({ ...statement, sql: `EXPLAIN ${statement.sql}` });
  });
  const lines = rows.map((r) => Object.values(r)[0]!);
  // an aggregate's node, then its "Group Key: ..." line
  return lines.flatMap((line, i) => {
    const node = /(\w*Aggregate)/.exec(line)?.[1];
    const key = lines[i + 1] ?? '';
    return node && /Group Key:/.test(key) && key.includes(column) ? [node] : [];
  });
}

describe('the summary by day and by hour over built facts', () => {
  it.each([['day', 'local_date'], ['hour', 'local_hour']] as const)('by %s: the stints hashed into their groups, not sorted first', async (groupBy, column) => {
    const aggregates = await groupingsBy(groupBy, column);
    expect(aggregates.length, 'an aggregate grouping by the stint\'s local day or hour').toBeGreaterThan(0);
    expect(aggregates).toEqual(aggregates.map(() => 'HashAggregate'));
  });
});
