import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { serviceLoads } from '../../src/queue/queue.repository.ts';
import { estimateWait } from '../../src/queue/wait.estimate.ts';
import { explainedDb, indexesRead, rowsRead } from '../support/plans.ts';
import { at, busyMorning, createSite, openCounter, TestClock } from '../support/queue-fixture.ts';

// A walk-in is issued by the database function qms_issue (db/src/functions/qms_issue.ts) in one
// round trip. What it computes in SQL must be what the engine computes in TypeScript, and taking
// the number under a lock held only inside the function must keep arrival order = number order.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

// Tuesday 24 Nov 2026, 09:00 in Hà Nội (UTC+7)
const TUESDAY_9AM = '2026-11-24T02:00:00.000Z';

describe('qms_issue', () => {
  it('stores the estimate estimateWait gives for the load and position read just before, on random histories', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 0, maxLength: 6 }), // service times (ms) of the history
      fc.integer({ min: 0, max: 5 }), // tickets waiting
      fc.subarray([1, 2]), // the HT counters open at the issue
      async (serviceMs, waiting, open) => {
        const clock = new TestClock(TUESDAY_9AM);
        const queue = new QueueService({ db: t.db, clock: clock.now });
        const site = await createSite(t.db);
        const issue = () => queue.issue({ siteId: site.siteId, serviceId: site.service.HT! }).then((r) => r.value);
        await openCounter(queue, site, 1);
        for (const ms of serviceMs) {
          await issue();
          const called = (await queue.callNext(at(site, 1))).value!;
          clock.advance(ms / 1000);
          await queue.finish({ ...at(site, 1), ticketId: called.id });
        }
        for (const n of [1, 2]) if (!open.includes(n)) await queue.closeCounter(at(site, n)).catch(() => undefined);
        for (const n of open) if (n !== 1) await openCounter(queue, site, n);
        for (let i = 0; i < waiting; i++) await issue();

        const [load] = await serviceLoads(t.db, site.siteId, clock.now(), [site.service.HT!]);
        const ticket = await issue();
        expect(ticket.position).toBe(waiting);
        expect(ticket.estimatedWaitSeconds).toBe(estimateWait(load!, waiting));
        const stored = await t.db.selectFrom('ticket').select(['estimatedWaitSeconds', 'positionAtIssue']).where('id', '=', ticket.id).executeTakeFirstOrThrow();
        expect(stored).toEqual({ estimatedWaitSeconds: estimateWait(load!, waiting), positionAtIssue: waiting });
      }), { numRuns: 25 });
  });

  it('keeps arrival order = number order when kiosks race, even if their clocks were read in the other order', async () => {
    // each read of this clock is 5 ms before the previous one: the later a kiosk reads it, the
    // earlier its instant, so a number taken later would otherwise carry an earlier instant
    let ms = new Date(TUESDAY_9AM).getTime() + 60_000;
    const queue = new QueueService({ db: t.db, clock: () => new Date(ms -= 5) });
    const site = await createSite(t.db);
    const tickets = await Promise.all(Array.from({ length: 12 }, () => queue.issue({ siteId: site.siteId, serviceId: site.service.HT! }).then((r) => r.value)));
    const byNumber = tickets.sort((a, b) => a.number - b.number);
    expect(byNumber.map((x) => x.number)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(byNumber.map((x) => x.position)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const instants = byNumber.map((x) => Date.parse(x.issuedAt));
    expect(instants).toEqual([...instants].sort((a, b) => a - b));

    ms = new Date(TUESDAY_9AM).getTime() + 120_000;
    await openCounter(queue, site, 1);
    const called: string[] = [];
    for (let i = 0; i < 12; i++) {
      const next = (await queue.callNext(at(site, 1))).value!;
      called.push(next.code);
      await queue.finish({ ...at(site, 1), ticketId: next.id });
    }
    expect(called).toEqual(byNumber.map((x) => x.code));
  });

  it('keeps an instant more than a second before the previous number as it is (a scripted history)', async () => {
    const clock = new TestClock(TUESDAY_9AM);
    const queue = new QueueService({ db: t.db, clock: clock.now });
    const site = await createSite(t.db);
    const issue = () => queue.issue({ siteId: site.siteId, serviceId: site.service.HT! }).then((r) => r.value);
    clock.set('2026-11-24T02:30:00.000Z');
    const first = await issue();
    clock.set('2026-11-24T02:29:59.600Z'); // 0.4 s before: a race, takes the previous instant
    const second = await issue();
    clock.set('2026-11-24T02:10:00.000Z'); // 20 min before: kept
    const third = await issue();
    expect([first, second, third].map((x) => x.issuedAt)).toEqual([
      expect.stringMatching(/^2026-11-24T09:30:00\.00\d\+07:00$/), first.issuedAt, expect.stringMatching(/^2026-11-24T09:10:00\.00\d\+07:00$/),
    ]);
  });

  it("reads the service's waiting tickets once (the people ahead), and the booked check only the booked ones", async () => {
    const clock = new TestClock(TUESDAY_9AM);
    const site = await createSite(t.db);
    const queue = new QueueService({ db: t.db, clock: clock.now });
    await openCounter(queue, site, 1);
    const services = Object.values(site.service);
    for (let i = 0; i < 4; i++) services.push(...Object.values((await createSite(t.db)).service));
    await busyMorning(t.db, services, clock.now());
    const waiting = 40;
    for (let i = 0; i < waiting; i++) await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });
    await sql`ANALYZE ticket`.execute(t.db); // as autovacuum leaves a server's tables

    // the engine's own issue, every plan logged, nested ones too
    const { db, plans } = explainedDb(t.url);
    try {
      const logged = new QueueService({ db, clock: clock.now });
      plans.length = 0;
      await logged.issue({ siteId: site.siteId, serviceId: site.service.HT! });
      const nested = plans.filter((p) => !p['Query Text'].includes('qms_issue('));
      expect(nested.length).toBeGreaterThan(3);
      // the waiting tickets of the service read by the issue's statements, over all their scans:
      // four times before the function, twice with the booked check reading them too
      expect(nested.reduce((sum, p) => sum + rowsRead(p.Plan, 'ticket', 'ticket_waiting_idx'), 0)).toBeLessThanOrEqual(waiting + 1);
      expect(nested.some((p) => indexesRead(p.Plan).includes('ticket_waiting_booked_idx'))).toBe(true);
    } finally {
      await db.destroy();
    }
  });

  it("reads the service's last 20 served tickets for its recent service time, not all it served today, with the plan PostgreSQL keeps", async () => {
    const clock = new TestClock(TUESDAY_9AM);
    const site = await createSite(t.db);
    const queue = new QueueService({ db: t.db, clock: clock.now });
    await openCounter(queue, site, 1);
    // a province's busy morning: 30,000 tickets of 8 sites over the last two hours
    const services = [site.service.HT!];
    for (let i = 0; i < 7; i++) services.push(...Object.values((await createSite(t.db)).service));
    await busyMorning(t.db, services, clock.now());
    await sql`ANALYZE ticket`.execute(t.db);

    // a plan cached for the function's parameters (PL/pgSQL's after five runs, a prepared
    // statement's): it knows no dates, and reading every served ticket of the service and sorting
    // them looked cheaper to it than the index's last 20 (docs/performance.md, g)
    const { db, plans } = explainedDb(t.url);
    try {
      await sql`SET plan_cache_mode = force_generic_plan`.execute(db);
      const logged = new QueueService({ db, clock: clock.now });
      plans.length = 0;
      expect((await logged.issue({ siteId: site.siteId, serviceId: site.service.HT! })).value.code).toBe('A001');
      const capacity = plans.filter((p) => p['Query Text'].includes('qms_service_capacity('));
      expect(capacity).toHaveLength(1);
      expect(rowsRead(capacity[0]!.Plan, 'ticket')).toBeLessThanOrEqual(20);

      plans.length = 0;
      const [load] = await serviceLoads(db, site.siteId, clock.now(), [site.service.HT!]);
      expect(load!.recentServiceSeconds).toBe(300);
      // the last 20 served, and the one waiting ticket (A001)
      expect(plans.reduce((sum, p) => sum + rowsRead(p.Plan, 'ticket'), 0)).toBeLessThanOrEqual(20 + 1);
    } finally {
      await db.destroy();
    }
  });
});
