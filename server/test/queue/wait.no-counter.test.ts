import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { estimateWait } from '../../src/queue/wait.estimate.ts';
import { at, createSite, openCounter, TestClock } from '../support/queue-fixture.ts';

// The wait when nobody serves (wait.estimate.ts, waitEstimate): with no counter of a service
// open or paused, the ticket, the public ticket and the service's figures say so
// (noCounterOpen), and while the site is closed between sessions the estimate counts from its
// next session. The estimate stored on a ticket (what the reports' estimate error measures)
// stays estimateWait's.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

// Tuesday 24 Nov 2026 in Hà Nội (UTC+7); the site works 07:30–11:30 and 13:30–17:00
const HOURS = { 'mon-fri': [['07:30', '11:30'], ['13:30', '17:00']] as [string, string][] };
const local = (time: string) => new Date(`2026-11-24T${time}+07:00`);

async function setup() {
  const clock = new TestClock(local('10:00:00'));
  const queue = new QueueService({ db: t.db, clock: clock.now });
  const site = await createSite(t.db, { hours: HOURS });
  const issue = (code = 'HT') => queue.issue({ siteId: site.siteId, serviceId: site.service[code]! }).then((r) => r.value);
  const figures = async (code = 'HT') => (await queue.serviceStats(site.siteId, [site.service[code]!]))[0]!;
  return { clock, queue, site, issue, figures };
}

async function stored(ticketId: string) {
  return (await t.db.selectFrom('ticket').select('estimatedWaitSeconds').where('id', '=', ticketId).executeTakeFirstOrThrow()).estimatedWaitSeconds;
}

describe('the wait when no counter serves the service', () => {
  it('says nobody serves yet on the ticket, the public ticket and the figures, until a counter opens or pauses', async () => {
    const { queue, site, issue, figures } = await setup();
    const a1 = await issue();
    // nobody ahead, but nobody serving: not "under a minute" any more, it is flagged
    expect(a1).toMatchObject({ position: 0, estimatedWaitSeconds: 0, noCounterOpen: true });
    expect(await queue.publicTicket(a1.publicId)).toMatchObject({ position: 0, estimatedWaitSeconds: 0, noCounterOpen: true });
    expect(await figures()).toMatchObject({ waiting: 1, estimatedWaitSeconds: 150, servingCounters: 0, noCounterOpen: true });

    // counter 1 opens: its services' figures are counted again, and say someone serves
    const opened = await openCounter(queue, site, 1);
    expect(opened.events.map((e) => e.name)).toEqual(['counter:updated', 'queue:stats-due']);
    expect(opened.events[1]).toMatchObject({ serviceIds: [site.service.HT] });
    expect(await figures()).toMatchObject({ waiting: 1, estimatedWaitSeconds: 300, servingCounters: 1, noCounterOpen: false });
    expect(await queue.publicTicket(a1.publicId)).toMatchObject({ estimatedWaitSeconds: 0, noCounterOpen: false });
    // CT has counter 2 and 3, both closed: still nobody there
    expect(await figures('CT')).toMatchObject({ servingCounters: 0, noCounterOpen: true });

    // a paused counter has an official at the desk: service goes on after the pause
    const paused = await queue.pauseCounter({ ...at(site, 1), reason: 'break' });
    expect(paused.events.map((e) => e.name)).toEqual(['counter:updated', 'queue:stats-due']);
    expect(await figures()).toMatchObject({ servingCounters: 1, noCounterOpen: false });
    await queue.resumeCounter(at(site, 1));
    const closed = await queue.closeCounter(at(site, 1));
    expect(closed.events.map((e) => e.name)).toEqual(['counter:updated', 'queue:stats-due']);
    expect(await figures()).toMatchObject({ servingCounters: 0, noCounterOpen: true });
    expect(await queue.getTicket(a1.id)).toMatchObject({ noCounterOpen: true });
  });

  it('counts from the next session while the site is closed between sessions', async () => {
    const { clock, queue, issue, figures } = await setup();
    clock.set(local('11:00:00'));
    await issue();
    const a2 = await issue();
    expect(a2).toMatchObject({ position: 1, estimatedWaitSeconds: 150, noCounterOpen: true });

    // 12:00, lunch: the site opens again at 13:30 (5400 s), then one ahead over the 2 counters of HT
    clock.set(local('12:00:00'));
    expect(await queue.publicTicket(a2.publicId)).toMatchObject({ position: 1, estimatedWaitSeconds: 5400 + 150, noCounterOpen: true });
    expect(await figures()).toMatchObject({ waiting: 2, estimatedWaitSeconds: 5400 + 300, noCounterOpen: true });
    // a service with nobody waiting: just the time until the site opens
    expect(await figures('DD')).toMatchObject({ waiting: 0, estimatedWaitSeconds: 5400, noCounterOpen: true });

    // 13:30 the site is open again, still no counter: the queue as if HT's counters opened now
    clock.set(local('13:30:00'));
    expect(await queue.publicTicket(a2.publicId)).toMatchObject({ estimatedWaitSeconds: 150, noCounterOpen: true });
  });

  it('leaves the stored estimate (the one the reports measure) as it was, with counters open or not', async () => {
    const { clock, queue, site, issue } = await setup();
    // nobody serving: stored is the queue over HT's configured counters, not the time to an opening
    const a1 = await issue();
    const a2 = await issue();
    expect([await stored(a1.id), await stored(a2.id)]).toEqual([0, 150]);
    await openCounter(queue, site, 1);
    // one counter open, no history yet: 300 s per ticket ahead over 1 counter
    const a3 = await issue();
    expect(a3).toMatchObject({ position: 2, estimatedWaitSeconds: 600, noCounterOpen: false });
    expect(await stored(a3.id)).toBe(estimateWait({ openCounters: 1, counters: 2, recentServiceSeconds: null }, 2));
    // a paused counter: the stored estimate is still over the configured counters, as before
    clock.advance(60);
    await queue.pauseCounter(at(site, 1));
    const a4 = await issue();
    expect(a4).toMatchObject({ position: 3, noCounterOpen: false });
    expect(await stored(a4.id)).toBe(estimateWait({ openCounters: 0, counters: 2, recentServiceSeconds: null }, 3));
  });
});
