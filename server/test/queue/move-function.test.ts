import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { LIFECYCLE } from '@qms/protocol';
import { QueueService } from '../../src/queue/queue.service.ts';
import { QueueError } from '../../src/queue/queue.errors.ts';
import { moveAtCounter, type MoveAtCounter } from '../../src/queue/queue.repository.ts';
import { createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// qms_move (db/src/functions/qms_move.ts): start, finish and no-show in one round trip when every
// check of the engine's transaction holds, and nothing at all when one does not, so that the
// transaction moves the ticket or refuses it with its reason. Here the function is called directly
// in each case the transaction refuses (it must change nothing), its moves are compared with what
// the transaction records, and presses race.

let t: TestDatabase;
let site: SiteFixture;
let other: SiteFixture;
let queue: QueueService;
const clock = new TestClock('2026-12-07T02:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase();
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
  other = await createSite(t.db);
  for (const n of [1, 2, 3]) await openCounter(queue, site, n);
  await openCounter(queue, other, 1);
}, 60_000);
afterAll(() => t?.drop());

/** A ticket of service HT called to counter n of the site (HT is served by counters 1 and 2). */
async function calledAt(n: 1 | 2, s = site) {
  const issued = await queue.issue({ siteId: s.siteId, serviceId: s.service.HT! });
  const called = await queue.callTicket({ ticketId: issued.value.id, counterId: s.counter[n]!, staffId: s.staff[n - 1]! });
  return called.value;
}

const move = (ticketId: string, over: Partial<MoveAtCounter> = {}): MoveAtCounter => ({
  ticketId, counterId: null, staffId: site.staff[0]!, deviceId: null, from: LIFECYCLE.finish.from, to: 'done', event: 'finished',
  at: clock.now(), started: false, finished: true, ...over,
});

const history = (ticketId: string) => t.db.selectFrom('ticketEvent').select(['type', 'fromStatus', 'toStatus', 'counterId', 'staffId', 'deviceId'])
  .where('ticketId', '=', ticketId).orderBy('at').orderBy('id').execute();
const row = (ticketId: string) => t.db.selectFrom('ticket').selectAll().where('id', '=', ticketId).executeTakeFirstOrThrow();

describe('qms_move refuses nothing itself: in every case the engine refuses, it changes nothing', () => {
  it('another official, another counter, a closed or inactive counter, a wrong status, another site, no such ticket', async () => {
    const ticket = await calledAt(1);
    const before = { row: await row(ticket.id), history: await history(ticket.id) };
    const cases: [string, Partial<MoveAtCounter>][] = [
      ['the official of another counter', { staffId: site.staff[1]! }],
      ['the official of another counter, naming the ticket\'s counter', { staffId: site.staff[1]!, counterId: site.counter[1]! }],
      ['a counter device of another counter', { staffId: null, counterId: site.counter[2]! }],
      ['an official of another site', { staffId: other.staff[0]! }],
      ['a counter of another site', { staffId: null, counterId: other.counter[1]! }],
      ['a status the move is not allowed from', { from: ['serving'], to: 'done' }],
      ['no such ticket', { ticketId: '00000000-0000-4000-8000-000000000000' }],
    ];
    for (const [why, over] of cases) {
      expect(await moveAtCounter(t.db, move(ticket.id, over)), why).toBeUndefined();
    }
    await t.db.updateTable('counter').set({ active: false }).where('id', '=', site.counter[1]!).execute();
    expect(await moveAtCounter(t.db, move(ticket.id)), 'an inactive counter').toBeUndefined();
    await t.db.updateTable('counter').set({ active: true, status: 'closed' }).where('id', '=', site.counter[1]!).execute();
    expect(await moveAtCounter(t.db, move(ticket.id)), 'a closed counter').toBeUndefined();
    await t.db.updateTable('counter').set({ status: 'open' }).where('id', '=', site.counter[1]!).execute();
    expect({ row: await row(ticket.id), history: await history(ticket.id) }).toEqual(before);
    // and the same press, with every check holding, moves it
    expect((await moveAtCounter(t.db, move(ticket.id)))?.row.status).toBe('done');
  });

  it('the engine still says why: the refusals an official and a device get are the transaction\'s', async () => {
    const ticket = await calledAt(1);
    const refusal = (p: Promise<unknown>) => p.then(() => 'moved', (e: unknown) => (e instanceof QueueError ? `${e.status} ${e.code}` : String(e)));
    expect(await refusal(queue.finish({ ticketId: ticket.id, staffId: site.staff[1]! }))).toBe('409 TICKET_AT_OTHER_COUNTER');
    expect(await refusal(queue.finish({ ticketId: ticket.id, staffId: other.staff[0]!, staffSiteIds: [other.siteId] }))).toBe('404 TICKET_NOT_FOUND');
    expect(await refusal(queue.finish({ ticketId: ticket.id, counterId: site.counter[2]!, deviceId: null }))).toBe('409 TICKET_AT_OTHER_COUNTER');
    expect(await refusal(queue.start({ ticketId: ticket.id, staffId: site.staff[0]! }))).toBe('moved');
    expect(await refusal(queue.noShow({ ticketId: ticket.id, staffId: site.staff[0]! }))).toBe('409 TICKET_NOT_CALLED');
    const closed = await calledAt(2);
    await t.db.updateTable('counter').set({ status: 'closed' }).where('id', '=', site.counter[2]!).execute();
    expect(await refusal(queue.finish({ ticketId: closed.id, counterId: site.counter[2]!, staffId: site.staff[1]! }))).toBe('409 COUNTER_NOT_OPEN');
    await t.db.updateTable('counter').set({ status: 'open' }).where('id', '=', site.counter[2]!).execute();
    await queue.finish({ ticketId: ticket.id, staffId: site.staff[0]! });
    await queue.finish({ ticketId: closed.id, staffId: site.staff[1]! });
  });
});

describe('a move in one round trip records what the transaction records', () => {
  it('start, finish from called and from serving, no-show; by an official and by the counter\'s device', async () => {
    const device = await t.db.insertInto('device').values({ siteId: site.siteId, kind: 'counter', name: 'pad', counterId: site.counter[1]!, tokenHash: 'x' })
      .returning('id').executeTakeFirstOrThrow();
    const ways = [
      { name: 'official', by: { staffId: site.staff[0]! } },
      { name: 'device', by: { counterId: site.counter[1]!, deviceId: device.id } },
    ];
    for (const way of ways) {
      const a = await calledAt(1);
      const startAt = clock.now();
      clock.set(startAt);
      const started = await queue.start({ ticketId: a.id, ...way.by });
      expect(started.value.status, way.name).toBe('serving');
      expect((await row(a.id)).startedAt, way.name).toEqual(startAt);
      const finished = await queue.finish({ ticketId: a.id, ...way.by });
      expect(finished.value.status).toBe('done');
      expect(finished.events.map((e) => e.name)).toEqual(['ticket:updated', 'rating:requested']);
      expect(finished.events[1]).toMatchObject({ payload: { ticketId: a.id, counterId: site.counter[1], staff: { displayName: 'Cán bộ 1' } } });
      const b = await calledAt(1);
      expect((await queue.finish({ ticketId: b.id, ...way.by })).value.status).toBe('done');
      const c = await calledAt(1);
      const noShow = await queue.noShow({ ticketId: c.id, ...way.by });
      expect(noShow.value.status).toBe('no_show');
      expect(noShow.events.map((e) => e.name)).toEqual(['ticket:updated']);
      const recorded = (type: string, from: string, to: string) => ({
        type, fromStatus: from, toStatus: to, counterId: site.counter[1], staffId: way.by.staffId ?? null, deviceId: way.by.deviceId ?? null,
      });
      expect((await history(a.id)).slice(-2), way.name).toEqual([recorded('started', 'called', 'serving'), recorded('finished', 'serving', 'done')]);
      expect((await history(b.id)).at(-1), way.name).toEqual(recorded('finished', 'called', 'done'));
      expect((await history(c.id)).at(-1), way.name).toEqual(recorded('no_show', 'called', 'no_show'));
      expect((await row(c.id)).finishedAt).not.toBeNull();
    }
  });

  it('presses that race: one finish of a ticket wins, the others are refused, one event recorded', async () => {
    for (let round = 0; round < 5; round++) {
      const ticket = await calledAt(1);
      const presses = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? queue.finish({ ticketId: ticket.id, staffId: site.staff[0]! }) : queue.finish({ ticketId: ticket.id, counterId: site.counter[1]!, deviceId: null }))));
      expect(presses.filter((p) => p.status === 'fulfilled')).toHaveLength(1);
      expect(presses.filter((p) => p.status === 'rejected').map((p) => ((p as PromiseRejectedResult).reason as QueueError).code))
        .toEqual(Array(7).fill('TICKET_NOT_IN_SERVICE'));
      expect((await history(ticket.id)).filter((e) => e.type === 'finished')).toHaveLength(1);
    }
  });
});
