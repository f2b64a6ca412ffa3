import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService, RECENT_CALLS } from '../../src/queue/queue.service.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;

// Tuesday 24 Nov 2026, 09:00 in Hà Nội (UTC+7)
const TUESDAY_9AM = '2026-11-24T02:00:00.000Z';

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

beforeEach(async () => {
  clock = new TestClock(TUESDAY_9AM);
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
});

const issue = (serviceCode: string, priority?: string) =>
  queue.issue({ siteId: site.siteId, serviceId: site.service[serviceCode]!, priority }).then((r) => r.value);

async function callAndFinish(n: number) {
  const { value } = await queue.callNext(at(site, n));
  if (value) await queue.finish({ ...at(site, n), ticketId: value.id });
  return value?.code ?? null;
}

describe('issuing', () => {
  it('numbers each service from 1 with its prefix, and reports position and estimate', async () => {
    const a1 = await issue('HT');
    const a2 = await issue('HT');
    const b1 = await issue('CT');
    expect([a1.code, a2.code, b1.code]).toEqual(['A001', 'A002', 'B001']);
    expect(a1).toMatchObject({ status: 'waiting', number: 1, priority: 'none', position: 0, estimatedWaitSeconds: 0 });
    expect(a2.position).toBe(1);
    // no history: 300 s per ticket, shared by the 2 counters configured for HT
    expect(a2.estimatedWaitSeconds).toBe(150);
    expect(a1.issuedAt).toMatch(/^2026-11-24T09:00:00\.\d{3}\+07:00$/);
    expect(a1.publicId.length).toBeGreaterThanOrEqual(16);

    const stored = await t.db.selectFrom('ticket').select(['estimatedWaitSeconds', 'positionAtIssue']).where('id', '=', a2.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ estimatedWaitSeconds: 150, positionAtIssue: 1 });
  });

  it('returns the events to publish: the ticket, then the service whose waiting figures changed (counted after commit)', async () => {
    const result = await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });
    expect(result.events.map((e) => e.name)).toEqual(['ticket:issued', 'queue:stats-due']);
    expect(result.events[1]).toEqual({ name: 'queue:stats-due', siteId: site.siteId, serviceIds: [site.service.HT], at: expect.any(Date) });
    expect(await queue.serviceStats(site.siteId, [site.service.HT!])).toMatchObject([{ serviceId: site.service.HT, waiting: 1, targetWaitSeconds: expect.any(Number) }]);
  });

  it('restarts numbering at local midnight, not UTC midnight', async () => {
    clock.set('2026-11-24T16:59:59.000Z'); // 23:59:59 in Hà Nội
    expect((await issue('HT')).code).toBe('A001');
    expect((await issue('HT')).code).toBe('A002');
    clock.set('2026-11-24T17:00:01.000Z'); // 00:00:01 the next local day
    const next = await issue('HT');
    expect(next.code).toBe('A001');
    expect(next.issuedAt).toMatch(/^2026-11-25T00:00:01/);
  });

  it('refuses an unknown priority group or a service of another site, changing nothing', async () => {
    const other = await createSite(t.db);
    await expect(queue.issue({ siteId: site.siteId, serviceId: site.service.HT!, priority: 'vip' }))
      .rejects.toMatchObject({ code: 'UNKNOWN_PRIORITY', status: 400 });
    await expect(queue.issue({ siteId: site.siteId, serviceId: other.service.HT! }))
      .rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND', status: 404 });
    const count = await t.db.selectFrom('ticket').select((eb) => eb.fn.countAll().as('n')).where('siteId', '=', site.siteId).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
    // the refused issue gave its number back
    expect((await issue('HT')).code).toBe('A001');
  });
});

describe('opening hours', () => {
  beforeEach(async () => {
    site = await createSite(t.db, { hours: { 'mon-fri': [['07:30', '11:30'], ['13:30', '17:00']], sat: [['07:30', '11:30']] } });
  });

  it('issues during a session and refuses at lunch, at night and on Sunday with the next opening', async () => {
    expect((await issue('HT')).code).toBe('A001');
    clock.set('2026-11-24T05:00:00Z'); // 12:00 lunch
    await expect(issue('HT')).rejects.toMatchObject({ code: 'SITE_CLOSED', details: { opensAt: expect.stringMatching(/^2026-11-24T13:30:00\.000\+07:00$/) } });
    clock.set('2026-11-29T03:00:00Z'); // Sunday 10:00
    await expect(issue('HT')).rejects.toMatchObject({ code: 'SITE_CLOSED', details: { opensAt: expect.stringMatching(/^2026-11-30T07:30/) } });
    clock.set('2026-11-28T03:00:00Z'); // Saturday 10:00: the Saturday session
    expect((await issue('HT')).code).toBe('A001');
  });

  it('refuses on a holiday', async () => {
    await t.db.insertInto('holiday').values({ siteId: site.siteId, date: '2026-11-24', name: 'Test' }).execute();
    await expect(issue('HT')).rejects.toMatchObject({ code: 'SITE_CLOSED' });
  });

  it('refuses a service whose estimated wait runs past closing, with the reason', async () => {
    clock.set('2026-11-24T04:20:00Z'); // 11:20, closing at 11:30; 300 s per ticket over 2 counters
    for (let i = 0; i < 4; i++) await issue('HT'); // 4th waits 450 s: 11:27:30, still fine
    await expect(issue('HT')).rejects.toMatchObject({
      code: 'SERVICE_CLOSING', details: { estimatedWaitSeconds: 600, closesAt: expect.stringMatching(/T11:30:00\.000\+07:00$/) },
    });
    // another service with nobody waiting still issues
    expect((await issue('DD')).code).toBe('C001');
  });
});

describe('calling', () => {
  it('calls priority groups by rank first, then arrival', async () => {
    await openCounter(queue, site, 1);
    await issue('HT'); // A001
    await issue('HT'); // A002
    await issue('HT', 'child_under_6'); // A003 rank 2
    await issue('HT', 'elderly'); // A004 rank 1
    const order = [];
    for (let i = 0; i < 5; i++) order.push(await callAndFinish(1));
    expect(order).toEqual(['A004', 'A003', 'A001', 'A002', null]);
  });

  it('takes the longest-waiting ticket across a counter\'s services, or their listed order when strict', async () => {
    await openCounter(queue, site, 2); // serves HT then CT
    await issue('CT'); // B001 first
    await issue('HT'); // A001
    await issue('CT'); // B002
    expect([await callAndFinish(2), await callAndFinish(2), await callAndFinish(2)]).toEqual(['B001', 'A001', 'B002']);

    const strict = await createSite(t.db, { serviceOrder: 'strict' });
    await openCounter(queue, strict, 2);
    for (const s of ['CT', 'HT', 'CT']) await queue.issue({ siteId: strict.siteId, serviceId: strict.service[s]! });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const { value } = await queue.callNext(at(strict, 2));
      codes.push(value!.code);
      await queue.finish({ ...at(strict, 2), ticketId: value!.id });
    }
    expect(codes).toEqual(['A001', 'B001', 'B002']);
  });

  it('with a ratio of 2, calls 1 priority ticket per 2 normal ones so nobody starves', async () => {
    site = await createSite(t.db, { priorityRatio: 2 });
    await openCounter(queue, site, 1);
    for (let i = 0; i < 4; i++) await issue('HT', 'elderly'); // A001..A004
    for (let i = 0; i < 4; i++) await issue('HT'); // A005..A008
    const order = [];
    for (let i = 0; i < 8; i++) order.push(await callAndFinish(1));
    expect(order).toEqual(['A001', 'A005', 'A006', 'A002', 'A007', 'A008', 'A003', 'A004']);
  });

  it('answers null when nothing waits, and refuses a closed, paused or busy counter', async () => {
    await expect(queue.callNext(at(site, 1))).rejects.toMatchObject({ code: 'COUNTER_NOT_OPEN', status: 409 });
    await openCounter(queue, site, 1);
    expect((await queue.callNext(at(site, 1))).value).toBeNull();
    await issue('HT');
    await issue('HT');
    const first = (await queue.callNext(at(site, 1))).value!;
    await expect(queue.callNext(at(site, 1))).rejects.toMatchObject({ code: 'COUNTER_BUSY', details: { code: first.code } });
    await queue.finish({ ...at(site, 1), ticketId: first.id });
    await queue.pauseCounter({ ...at(site, 1), reason: 'lunch' });
    await expect(queue.callNext(at(site, 1))).rejects.toMatchObject({ code: 'COUNTER_PAUSED' });
    await queue.resumeCounter(at(site, 1));
    expect((await queue.callNext(at(site, 1))).value!.code).toBe('A002');
  });

  it('refuses with the same codes, sentences and statuses as before the one-statement call, and changes nothing', async () => {
    await openCounter(queue, site, 1);
    await issue('HT');
    const events = async () => (await t.db.selectFrom('ticketEvent').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await events();
    // another official at this counter
    await expect(queue.callNext({ counterId: site.counter[1]!, staffId: site.staff[1]! }))
      .rejects.toMatchObject({ code: 'NOT_COUNTER_OFFICIAL', status: 403, message: 'Counter 1 is worked by another official' });
    await expect(queue.callNext({ counterId: '00000000-0000-4000-8000-000000000000', staffId: site.staff[0]! }))
      .rejects.toMatchObject({ code: 'COUNTER_NOT_FOUND', status: 404 });
    await t.db.updateTable('counter').set({ active: false }).where('id', '=', site.counter[2]!).execute();
    await expect(queue.callNext(at(site, 2))).rejects.toMatchObject({ code: 'COUNTER_NOT_FOUND', status: 404 });
    await expect(queue.callNext(at(site, 3))).rejects.toMatchObject({ code: 'COUNTER_NOT_OPEN', status: 409, message: 'Counter 3 is not open' });
    expect(await events()).toBe(before);
    expect((await t.db.selectFrom('ticket').select('status').where('siteId', '=', site.siteId).execute()).map((r) => r.status)).toEqual(['waiting']);
    // a counter device (no official) calls for the official working the counter
    const { value, events: published } = await queue.callNext({ counterId: site.counter[1]!, deviceId: null });
    expect(value).toMatchObject({ code: 'A001', status: 'called', counterId: site.counter[1] });
    expect(await t.db.selectFrom('ticket').select('staffId').where('id', '=', value!.id).executeTakeFirstOrThrow()).toEqual({ staffId: site.staff[0] });
    expect(published[0]).toMatchObject({ name: 'ticket:called', siteId: site.siteId, payload: { counter: { id: site.counter[1], number: 1 }, recall: false } });
    await expect(queue.callNext(at(site, 1))).rejects.toMatchObject({
      code: 'COUNTER_BUSY', status: 409, message: 'Counter 1 is still with A001: finish it or mark it no-show first', details: { ticketId: value!.id, code: 'A001' },
    });
  });

  it('gives one ticket to a counter pressed several times at once; the others are told it is busy', async () => {
    await openCounter(queue, site, 2);
    for (let i = 0; i < 4; i++) await issue(i % 2 ? 'CT' : 'HT');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => queue.callNext(at(site, 2))));
    const called = results.flatMap((r) => (r.status === 'fulfilled' && r.value.value ? [r.value.value.code] : []));
    expect(called).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code))
      .toEqual(Array(5).fill('COUNTER_BUSY'));
    const active = await t.db.selectFrom('ticket').select('code').where('counterId', '=', site.counter[2]!).where('status', 'in', ['called', 'serving']).execute();
    expect(active.map((r) => r.code)).toEqual(called);
  });

  it('records the call in one go: ticket, its history event and the counter\'s streak', async () => {
    site = await createSite(t.db, { priorityRatio: 3 });
    await openCounter(queue, site, 1);
    await issue('HT');
    await issue('HT', 'elderly');
    const first = await queue.callNext(at(site, 1));
    expect(first.value).toMatchObject({ code: 'A002', status: 'called', counterId: site.counter[1], priority: 'elderly' });
    const row = await t.db.selectFrom('ticket').select(['staffId', 'calledAt']).where('id', '=', first.value!.id).executeTakeFirstOrThrow();
    expect(row.staffId).toBe(site.staff[0]);
    expect(first.events).toEqual([
      // at: the instant of the call, as its history event and a later snapshot have it
      { name: 'ticket:called', siteId: site.siteId, payload: { ticket: first.value, counter: { id: site.counter[1], number: 1, name: 'Quầy 1' }, recall: false, at: first.value!.calledAt } },
      { name: 'queue:stats-due', siteId: site.siteId, serviceIds: [site.service.HT], at: new Date(first.value!.calledAt!) },
    ]);
    const streak = async () => (await t.db.selectFrom('counter').select('normalStreak').where('id', '=', site.counter[1]!).executeTakeFirstOrThrow()).normalStreak;
    expect(await streak()).toBe(0); // a priority ticket resets it
    const history = await t.db.selectFrom('ticketEvent').selectAll().where('ticketId', '=', first.value!.id).orderBy('id').execute();
    expect(history.map((e) => [e.type, e.fromStatus, e.toStatus, e.counterId, e.staffId, e.deviceId, e.serviceId]))
      .toEqual([['issued', null, 'waiting', null, null, null, site.service.HT], ['called', 'waiting', 'called', site.counter[1], site.staff[0], null, site.service.HT]]);
    expect(history[1]!.at.toISOString()).toBe(new Date(first.value!.calledAt!).toISOString());
    await queue.finish({ ...at(site, 1), ticketId: first.value!.id });
    await queue.callNext(at(site, 1));
    expect(await streak()).toBe(1);
  });

  it('calls a chosen ticket, and explains when another counter already has it', async () => {
    await openCounter(queue, site, 1);
    await openCounter(queue, site, 2);
    await issue('HT');
    const second = await issue('HT');
    const called = await queue.callTicket({ ...at(site, 2), ticketId: second.id });
    expect(called.value).toMatchObject({ code: 'A002', status: 'called', counterId: site.counter[2] });
    expect(called.events[0]).toMatchObject({ name: 'ticket:called', payload: { counter: { number: 2 }, recall: false } });
    await expect(queue.callTicket({ ...at(site, 1), ticketId: second.id }))
      .rejects.toMatchObject({ code: 'TICKET_NOT_WAITING', message: 'A002 was already called by counter 2', details: { code: 'A002', status: 'called', counterNumber: 2 } });
    const b = await issue('CT');
    await expect(queue.callTicket({ ...at(site, 1), ticketId: b.id })).rejects.toMatchObject({ code: 'SERVICE_NOT_SERVED' });
  });

  it('lets only the official working the counter act on it', async () => {
    await openCounter(queue, site, 1);
    await issue('HT');
    await expect(queue.callNext({ counterId: site.counter[1]!, staffId: site.staff[1]! }))
      .rejects.toMatchObject({ code: 'NOT_COUNTER_OFFICIAL', status: 403 });
    await expect(queue.openCounter({ counterId: site.counter[1]!, staffId: site.staff[1]! }))
      .rejects.toMatchObject({ code: 'COUNTER_TAKEN', message: 'Counter 1 is already open by Cán bộ 1', details: { number: 1, staffName: 'Cán bộ 1' } });
  });
});

describe('serving a ticket', () => {
  it('walks called -> serving -> done, writing one event per step with who, where and when', async () => {
    await openCounter(queue, site, 1);
    const ticket = await issue('HT');
    clock.advance(60);
    await queue.callNext(at(site, 1));
    clock.advance(5);
    const recalled = await queue.recall({ ...at(site, 1), ticketId: ticket.id });
    expect(recalled.events[0]).toMatchObject({ name: 'ticket:called', payload: { recall: true } });
    clock.advance(30);
    await queue.start({ ...at(site, 1), ticketId: ticket.id });
    clock.advance(240);
    const done = await queue.finish({ ...at(site, 1), ticketId: ticket.id });
    expect(done.value.status).toBe('done');
    expect(done.events.map((e) => e.name)).toEqual(['ticket:updated', 'rating:requested']);
    expect(done.events[1]).toMatchObject({ counterId: site.counter[1], payload: { ticketId: ticket.id, staff: { displayName: 'Cán bộ 1' } } });

    const events = await t.db.selectFrom('ticketEvent').selectAll().where('ticketId', '=', ticket.id).orderBy('id').execute();
    expect(events.map((e) => [e.type, e.fromStatus, e.toStatus])).toEqual([
      ['issued', null, 'waiting'], ['called', 'waiting', 'called'], ['recalled', 'called', 'called'],
      ['started', 'called', 'serving'], ['finished', 'serving', 'done'],
    ]);
    expect(events.slice(1).every((e) => e.counterId === site.counter[1] && e.staffId === site.staff[0])).toBe(true);
    const secondsBetween = (a: number, b: number) => (events[b]!.at.getTime() - events[a]!.at.getTime()) / 1000;
    expect(Math.round(secondsBetween(0, 1))).toBe(60); // wait
    expect(Math.round(secondsBetween(1, 3))).toBe(35); // walk
    expect(Math.round(secondsBetween(3, 4))).toBe(240); // service

    // the next estimate learns from this service time: 275 s from call to finish
    await issue('HT');
    const third = await issue('HT');
    expect(third.estimatedWaitSeconds).toBe(275); // 1 ahead, 1 open counter
  });

  it('refuses illegal moves with a typed error and changes nothing', async () => {
    await openCounter(queue, site, 1);
    const ticket = await issue('HT');
    await expect(queue.finish({ ...at(site, 1), ticketId: ticket.id })).rejects.toMatchObject({ code: 'TICKET_NOT_IN_SERVICE' });
    await expect(queue.start({ ...at(site, 1), ticketId: ticket.id })).rejects.toMatchObject({ code: 'TICKET_NOT_CALLED' });
    await queue.callNext(at(site, 1));
    await queue.noShow({ ...at(site, 1), ticketId: ticket.id });
    await expect(queue.finish({ ...at(site, 1), ticketId: ticket.id })).rejects.toMatchObject({ code: 'TICKET_NOT_IN_SERVICE' });
    const row = await t.db.selectFrom('ticket').select('status').where('id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('no_show');
    expect(await t.db.selectFrom('ticketEvent').select('type').where('ticketId', '=', ticket.id).execute()).toHaveLength(3);
  });

  it('refuses to act on a ticket another counter is serving', async () => {
    await openCounter(queue, site, 1);
    await openCounter(queue, site, 2);
    const ticket = await issue('HT');
    await queue.callNext(at(site, 1));
    await expect(queue.finish({ ...at(site, 2), ticketId: ticket.id }))
      .rejects.toMatchObject({ code: 'TICKET_AT_OTHER_COUNTER', message: 'A001 is being served at counter 1' });
  });

  it('cancels only waiting tickets', async () => {
    const ticket = await issue('HT');
    expect((await queue.cancel({ ticketId: ticket.id })).value.status).toBe('cancelled');
    await expect(queue.cancel({ ticketId: ticket.id })).rejects.toMatchObject({ code: 'TICKET_NOT_WAITING' });
  });
});

describe('transfer', () => {
  it('keeps the code, waits again in the other service by the time of transfer, and times each stint', async () => {
    await openCounter(queue, site, 1); // HT
    await openCounter(queue, site, 3); // CT
    const ticket = await issue('HT'); // A001
    await issue('CT'); // B001, waiting before the transfer
    clock.advance(100);
    await queue.callNext(at(site, 1));
    await queue.start({ ...at(site, 1), ticketId: ticket.id });
    clock.advance(120);
    const moved = await queue.transfer({ ...at(site, 1), ticketId: ticket.id, serviceId: site.service.CT! });
    expect(moved.value).toMatchObject({ code: 'A001', status: 'waiting', serviceId: site.service.CT, position: 1, transferCount: 1 });
    expect(moved.value.counterId).toBeUndefined();
    expect(moved.events.map((e) => e.name)).toEqual(['ticket:updated', 'queue:stats-due']);
    expect(moved.events[1]).toMatchObject({ serviceIds: [site.service.HT, site.service.CT] });

    // counter 1 is free again; counter 3 takes B001 first (it queued earlier)
    expect((await queue.callNext(at(site, 1))).value).toBeNull();
    clock.advance(50);
    expect(await callAndFinish(3)).toBe('B001');
    clock.advance(10);
    expect(await callAndFinish(3)).toBe('A001');

    const events = await t.db.selectFrom('ticketEvent').selectAll().where('ticketId', '=', ticket.id).orderBy('id').execute();
    expect(events.map((e) => e.type)).toEqual(['issued', 'called', 'started', 'transferred', 'called', 'finished']);
    expect(events[3]).toMatchObject({ fromStatus: 'serving', toStatus: 'waiting', serviceId: site.service.CT, data: { fromServiceId: site.service.HT, toServiceId: site.service.CT } });
    // second stint: from transfer to the second call
    expect(Math.round((events[4]!.at.getTime() - events[3]!.at.getTime()) / 1000)).toBe(60);
  });

  it('goes to the front of the target queue when the site says so', async () => {
    site = await createSite(t.db, { transferToFront: true });
    await openCounter(queue, site, 1);
    await openCounter(queue, site, 3);
    const ticket = await issue('HT');
    await issue('CT'); // B001
    await issue('CT'); // B002
    await queue.callNext(at(site, 1));
    await queue.transfer({ ...at(site, 1), ticketId: ticket.id, serviceId: site.service.CT! });
    expect(await callAndFinish(3)).toBe('A001');
    expect(await callAndFinish(3)).toBe('B001');
  });
});

describe('counters', () => {
  it('opens, pauses with a reason, resumes and closes, one official per counter', async () => {
    const opened = await openCounter(queue, site, 1);
    expect(opened.value).toMatchObject({ number: 1, status: 'open', staff: { displayName: 'Cán bộ 1' }, serviceIds: [site.service.HT] });
    const paused = await queue.pauseCounter({ ...at(site, 1), reason: 'Họp' });
    expect(paused.value).toMatchObject({ status: 'paused', pauseReason: 'Họp' });
    await expect(queue.pauseCounter(at(site, 1))).rejects.toMatchObject({ code: 'COUNTER_NOT_OPEN' });
    expect((await queue.resumeCounter(at(site, 1))).value.status).toBe('open');
    expect((await queue.closeCounter(at(site, 1))).value).toMatchObject({ status: 'closed' });
    expect((await queue.getCounter(site.counter[1]!)).staff).toBeUndefined();
    const log = await t.db.selectFrom('counterEvent').select(['type', 'reason']).where('counterId', '=', site.counter[1]!).orderBy('id').execute();
    expect(log).toEqual([
      { type: 'opened', reason: null }, { type: 'paused', reason: 'Họp' }, { type: 'resumed', reason: null }, { type: 'closed', reason: null },
    ]);
  });

  it('moves an official who opens another counter, but not away from a ticket', async () => {
    await openCounter(queue, site, 1);
    const moved = await queue.openCounter({ counterId: site.counter[2]!, staffId: site.staff[0]! });
    expect(moved.events.filter((e) => e.name === 'counter:updated').map((e) => (e.payload as { counter: { number: number; status: string } }).counter))
      .toMatchObject([{ number: 1, status: 'closed' }, { number: 2, status: 'open' }]);
    // and the figures of both counters' services are counted again (who serves them changed)
    expect(moved.events.at(-1)).toMatchObject({ name: 'queue:stats-due', serviceIds: [site.service.HT, site.service.CT] });
    await issue('HT');
    await queue.callNext({ counterId: site.counter[2]!, staffId: site.staff[0]! });
    await expect(queue.openCounter({ counterId: site.counter[1]!, staffId: site.staff[0]! })).rejects.toMatchObject({ code: 'COUNTER_BUSY' });
    await expect(queue.closeCounter({ counterId: site.counter[2]!, staffId: site.staff[0]! })).rejects.toMatchObject({ code: 'COUNTER_BUSY' });
  });
});

describe('snapshot and public view', () => {
  it('describes services, counters with their current ticket, and recent calls', async () => {
    await openCounter(queue, site, 1);
    const first = await issue('HT');
    await issue('HT');
    clock.advance(90);
    await queue.callNext(at(site, 1));
    const snapshot = await queue.snapshot(site.siteId);
    const ht = snapshot.services.find((s) => s.serviceId === site.service.HT)!;
    expect(ht).toMatchObject({ waiting: 1, targetWaitSeconds: 900 });
    expect(ht.longestWaitSeconds).toBeGreaterThanOrEqual(90);
    expect(snapshot.counters.find((c) => c.number === 1)).toMatchObject({ status: 'open', staff: { displayName: 'Cán bộ 1' }, ticket: { code: 'A001' } });
    expect(snapshot.counters.find((c) => c.number === 2)).toMatchObject({ status: 'closed' });
    expect(snapshot.recentCalls).toMatchObject([{ ticket: { code: 'A001' }, counter: { number: 1 } }]);

    const view = await queue.publicTicket(first.publicId);
    expect(view).toMatchObject({ code: 'A001', status: 'called', counter: { number: 1, name: 'Quầy 1' } });
    await expect(queue.publicTicket('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('gives each counter\'s ticket the instant of its latest call or recall, past the recent calls', async () => {
    await openCounter(queue, site, 1);
    await openCounter(queue, site, 2);
    for (let i = 0; i < RECENT_CALLS + 2; i++) await issue('HT');
    const called = (await queue.callNext(at(site, 1))).value!;
    const calledAt = Date.parse(called.calledAt!);
    expect((await queue.snapshot(site.siteId)).counters.find((c) => c.number === 1)).toMatchObject({ ticket: { code: called.code } });
    expect(Date.parse((await queue.snapshot(site.siteId)).counters.find((c) => c.number === 1)!.lastCallAt!)).toBe(calledAt);
    clock.advance(40);
    await queue.recall({ ...at(site, 1), ticketId: called.id });
    const recalledAt = Date.parse((await queue.snapshot(site.siteId)).recentCalls[0]!.at);
    expect(recalledAt).toBeGreaterThan(calledAt + 39_000);
    // then counter 2 calls and finishes enough tickets to push the recall out of the recent calls
    for (let i = 0; i < RECENT_CALLS; i++) {
      clock.advance(5);
      await callAndFinish(2);
    }
    const snapshot = await queue.snapshot(site.siteId);
    expect(snapshot.recentCalls.map((c) => c.ticket.id)).not.toContain(called.id);
    const counter1 = snapshot.counters.find((c) => c.number === 1)!;
    expect(Date.parse(counter1.ticket!.calledAt!)).toBe(calledAt);
    expect(Date.parse(counter1.lastCallAt!)).toBe(recalledAt);
    expect(counter1.lastCallAt).toMatch(/\+07:00$/); // in the site's offset, as ticket:called's at
    expect(snapshot.counters.find((c) => c.number === 2)).not.toHaveProperty('lastCallAt');
  });
});
