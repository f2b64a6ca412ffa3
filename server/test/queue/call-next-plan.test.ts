import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { explainedDb, explainPlans, indexesRead, rowsRead, type LoggedPlan } from '../support/plans.ts';
import { busyMorning, createSite, openCounter, TestClock } from '../support/queue-fixture.ts';

// call-next's pick (qms_call_next) must read the waiting tickets of its own counter's services,
// not every live ticket of the province: a province's server calls hundreds of times a minute.
// The plan is read with auto_explain, which logs the plans of the function's own statements.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

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
      const plans: LoggedPlan[] = [];
      await explainPlans(client, plans);
      // plpgsql plans a statement for good after a few runs: call (and put back) more than that
      for (let i = 0; i < 8; i++) {
        await client.query('BEGIN');
        const { rows } = await client.query('SELECT (f.called).code FROM qms_call_next($1::uuid, $2::uuid, NULL, $3::timestamptz, NULL) f', [quiet.counter[1], quiet.staff[0], clock.now()]);
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

  it("reads only the waiting tickets' index, with the plan PostgreSQL keeps for the parameters", async () => {
    const clock = new TestClock('2026-11-24T02:00:00.000Z'); // Tuesday 09:00 in Hà Nội
    const queue = new QueueService({ db: t.db, clock: clock.now });
    const sites = [];
    for (let i = 0; i < 5; i++) sites.push(await createSite(t.db));
    const site = sites[0]!;
    await openCounter(queue, site, 2);
    // a province's morning: 30,000 tickets served or cancelled at 5 sites, then 30 waiting at each
    await busyMorning(t.db, sites.flatMap((s) => Object.values(s.service)), clock.now());
    for (const s of sites) for (let i = 0; i < 30; i++) await queue.issue({ siteId: s.siteId, serviceId: Object.values(s.service)[i % 3]! });
    await sql`ANALYZE ticket`.execute(t.db);

    const { db, plans } = explainedDb(t.url);
    try {
      // PL/pgSQL's cached plan after five calls: one for the parameters, which knows no site or day
      await sql`SET plan_cache_mode = force_generic_plan`.execute(db);
      const called = await new QueueService({ db, clock: clock.now }).callNext({ counterId: site.counter[2]!, staffId: site.staff[1]! });
      expect(called.value?.code).toBe('A001');
      const pick = plans.filter((p) => p['Query Text'].includes('SKIP LOCKED'));
      expect(pick).toHaveLength(1);
      // counter 2 serves HT and CT: 20 of the site's 30 waiting tickets. With the site in the pick,
      // the plan also read the site's live tickets of the day (ticket_live_day_idx) and intersected
      expect(indexesRead(pick[0]!.Plan)).toEqual(['ticket_waiting_idx']);
      expect(rowsRead(pick[0]!.Plan, 'ticket')).toBeLessThanOrEqual(20);
    } finally {
      await db.destroy();
    }
  });
  it('reads its counter once, in one function', async () => {
    // The server's statement used to join the counter and its site for their number, name and
    // zone around a function that checked the official's site and then ran another function,
    // which read the counter and its site again, under the lock (migration 2026-12-07T04-00-00).
    const clock = new TestClock('2026-11-24T02:00:00.000Z'); // Tuesday 09:00 in Hà Nội
    const queue = new QueueService({ db: t.db, clock: clock.now });
    const site = await createSite(t.db);
    await openCounter(queue, site, 1);
    await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });

    const { db, plans } = explainedDb(t.url);
    try {
      const called = await new QueueService({ db, clock: clock.now }).callNext({ counterId: site.counter[1]!, staffId: site.staff[0]!, staffSiteIds: [site.siteId] });
      expect(called.value?.code).toBe('A001');
      const texts = plans.map((p) => p['Query Text'].replace(/\s+/g, ' '));
      expect(texts.filter((q) => q.includes('qms_call_next('))).toHaveLength(1);
      expect(texts.filter((q) => /FROM counter k JOIN site s/.test(q))).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });
});

describe('a screen\'s snapshot', () => {
  it("reads the site's last calls from the newest back, not the site's whole history", async () => {
    const clock = new TestClock('2026-11-17T02:00:00.000Z'); // a Tuesday, 09:00 in Hà Nội
    const queue = new QueueService({ db: t.db, clock: clock.now });
    const site = await createSite(t.db);
    await openCounter(queue, site, 1);
    const serve = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });
        clock.advance(60);
        const called = await queue.callNext({ counterId: site.counter[1]!, staffId: site.staff[0]! });
        clock.advance(60);
        await queue.finish({ ticketId: called!.value!.id, staffId: site.staff[0]! });
      }
    };
    // a week of history, 20 calls a day, then two calls this morning
    for (let day = 0; day < 7; day++) {
      await serve(20);
      clock.set(new Date(Date.parse('2026-11-17T02:00:00.000Z') + (day + 1) * 86_400_000));
    }
    await serve(2);
    // and one at its counter now, called then recalled
    await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });
    const now = (await queue.callNext({ counterId: site.counter[1]!, staffId: site.staff[0]! })).value!;
    clock.advance(30);
    await queue.recall({ counterId: site.counter[1]!, staffId: site.staff[0]!, ticketId: now.id });

    const { db, plans } = explainedDb(t.url);
    try {
      const snapshot = await new QueueService({ db, clock: clock.now }).snapshot(site.siteId);
      expect(snapshot.recentCalls).toHaveLength(4);
      const reading = (text: string) => plans.filter((p) => p['Query Text'].includes('"ticket_event"') && p['Query Text'].includes(text));
      const recent = reading('limit');
      expect(recent).toHaveLength(1);
      // this morning's 4 calls and at most the 20 of the day before; the site has 145 calls, 431 events
      expect(rowsRead(recent[0]!.Plan, 'ticket_event')).toBeLessThanOrEqual(24);
      // the latest call of the ticket at the counter (lastCallAt) reads that ticket's events only
      const atCounters = reading('"last_call_at"');
      expect(atCounters).toHaveLength(1);
      expect(rowsRead(atCounters[0]!.Plan, 'ticket_event')).toBeLessThanOrEqual(3);
      expect(snapshot.counters.find((c) => c.number === 1)!.lastCallAt).toBe(snapshot.recentCalls[0]!.at);
    } finally {
      await db.destroy();
    }
  });
});
