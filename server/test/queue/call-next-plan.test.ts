import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { createSite, openCounter, TestClock } from '../support/queue-fixture.ts';

// call-next's pick (qms_call_next) must read the waiting tickets of its own counter's services,
// not every live ticket of the province: a province's server calls hundreds of times a minute.
// The plan is read with auto_explain, which logs the plans of the function's own statements.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

interface PlanNode { 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; 'Rows Removed by Filter'?: number; 'Rows Removed by Index Recheck'?: number; Plans?: PlanNode[] }

/** Rows of `relation` that the plan's scans read (returned or filtered out), over all loops. */
function rowsRead(node: PlanNode, relation: string): number {
  const own = node['Relation Name'] === relation
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child, relation), 0);
}

describe('call-next', () => {
  it("reads the waiting tickets of its counter's site, not those of every site", async () => {
    const clock = new TestClock('2026-11-24T02:00:00.000Z'); // Tuesday 09:00 in Hà Nội
    const queue = new QueueService({ db: t.db, clock: clock.now });
    const busy = await createSite(t.db);
    for (let i = 0; i < 150; i++) await queue.issue({ siteId: busy.siteId, serviceId: busy.service[['HT', 'CT', 'DD'][i % 3]!]! });
    const quiet = await createSite(t.db);
    await openCounter(queue, quiet, 1);
    for (let i = 0; i < 3; i++) await queue.issue({ siteId: quiet.siteId, serviceId: quiet.service.HT! });

    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      const plans: { 'Query Text': string; Plan: PlanNode }[] = [];
      client.on('notice', (n) => {
        const text = String(n.message);
        const json = text.slice(text.indexOf('{'));
        if (text.includes('plan:')) plans.push(JSON.parse(json) as { 'Query Text': string; Plan: PlanNode });
      });
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_nested_statements = on;
        SET auto_explain.log_format = json; SET auto_explain.log_level = notice`);
      // plpgsql plans a statement for good after a few runs: call (and put back) more than that
      for (let i = 0; i < 8; i++) {
        await client.query('BEGIN');
        const { rows } = await client.query('SELECT code FROM qms_call_next($1::uuid, $2::uuid, NULL, $3::timestamptz)', [quiet.counter[1], quiet.staff[0], clock.now()]);
        expect(rows.map((r: { code: string }) => r.code)).toEqual(['A001']);
        await client.query('ROLLBACK');
      }
      const picks = plans.filter((p) => p['Query Text'].includes('SKIP LOCKED'));
      expect(picks).toHaveLength(8);
      // the quiet site has 3 live tickets; the busy one 150
      for (const pick of picks) expect(rowsRead(pick.Plan, 'ticket')).toBeLessThanOrEqual(3);
    } finally {
      await client.end();
    }
  });
});
