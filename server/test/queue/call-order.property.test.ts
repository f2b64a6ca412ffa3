import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { at, createSite, openCounter, TestClock } from '../support/queue-fixture.ts';
import { seededRandom } from '../reports/history.generator.ts';

// The position a citizen is shown ("people ahead of you", and the estimate made from it) and
// the order "call next" takes tickets in are one rule: for random queues (priority groups of
// two ranks, priority ratios, a counter partway through its streak of normal tickets), the
// ticket at position k is the k-th one call-next takes. On real PostgreSQL: call-next is the
// database's qms_call_next. With booked tickets (docs/appointments.md) in line by their place,
// and the site's bound on booked tickets in a row, the same holds.

let t: TestDatabase;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội
let queue: QueueService;

beforeAll(async () => {
  t = await createTestDatabase();
  queue = new QueueService({ db: t.db, clock: clock.now });
});
afterAll(async () => {
  await t?.drop();
});

const TRIALS = 24;

describe('call order', () => {
  it(`position k is the k-th ticket call-next takes (${TRIALS} random queues)`, async () => {
    const random = seededRandom(20261205);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    for (let trial = 0; trial < TRIALS; trial++) {
      const ratio = pick([null, 1, 2, 3] as const);
      const site = await createSite(t.db, { priorityRatio: ratio, services: [{ code: 'HT', prefix: 'A' }], counters: [{ number: 1, services: ['HT'] }] });
      await openCounter(queue, site, 1);
      const issue = (priority?: string) => queue.issue({ siteId: site.siteId, serviceId: site.service.HT!, priority }).then((r) => r.value);
      const serve = async () => {
        const called = (await queue.callNext(at(site, 1))).value;
        if (called) await queue.finish({ ...at(site, 1), ticketId: called.id });
        return called;
      };
      // the counter partway through its streak: a few tickets served before
      for (let i = Math.floor(random() * 4); i > 0; i--) {
        await issue(random() < 0.3 ? 'elderly' : undefined);
        await serve();
      }
      const count = 3 + Math.floor(random() * 8);
      for (let i = 0; i < count; i++) {
        await issue(pick([undefined, undefined, 'elderly', 'child_under_6']));
        clock.advance(1);
      }
      const waiting = await t.db.selectFrom('ticket').select(['id', 'code', 'priorityRank']).where('siteId', '=', site.siteId).where('status', '=', 'waiting').execute();
      const shown = new Map<string, number>();
      for (const w of waiting) shown.set(w.code, (await queue.getTicket(w.id)).position!);
      const taken: string[] = [];
      for (let called = await serve(); called; called = await serve()) taken.push(called.code);
      const byPosition = [...shown].sort((a, b) => a[1] - b[1]).map(([code]) => code);
      const context = `ratio ${ratio}, ${waiting.map((w) => `${w.code}${w.priorityRank === null ? '' : `(p${w.priorityRank})`}`).join(' ')}`;
      expect(taken, context).toEqual(byPosition);
      expect([...shown.values()].sort((a, b) => a - b), context).toEqual(taken.map((_, k) => k));
    }
  }, 120_000);

  it(`position k is the k-th ticket call-next takes with booked tickets among walk-ins (${TRIALS} random queues)`, async () => {
    const random = seededRandom(20261206);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    for (let trial = 0; trial < TRIALS; trial++) {
      const ratio = pick([null, null, 2] as const);
      const bookedInRow = pick([1, 2, 3] as const);
      const site = await createSite(t.db, { priorityRatio: ratio, services: [{ code: 'HT', prefix: 'A' }], counters: [{ number: 1, services: ['HT'] }] });
      await t.db.updateTable('site').set({ settings: sql`jsonb_build_object('bookings', jsonb_build_object('bookedInRow', ${bookedInRow}::int))` }).where('id', '=', site.siteId).execute();
      await openCounter(queue, site, 1);
      const issue = (priority?: string) => queue.issue({ siteId: site.siteId, serviceId: site.service.HT!, priority }).then((r) => r.value);
      /** a booked ticket, in line from `minutes` before now (its slot less the cap) */
      const book = async (minutes: number) => {
        const ticket = await issue();
        await t.db.updateTable('ticket').set({ bookingKind: 'slot', slotAt: clock.now(), queuedAt: new Date(clock.now().getTime() - minutes * 60_000) })
          .where('id', '=', ticket.id).execute();
        return ticket;
      };
      const serve = async () => {
        const called = (await queue.callNext(at(site, 1))).value;
        if (called) await queue.finish({ ...at(site, 1), ticketId: called.id });
        return called;
      };
      // the counter partway through its streaks
      for (let i = Math.floor(random() * 4); i > 0; i--) {
        if (random() < 0.5) await book(0);
        else await issue(random() < 0.3 ? 'elderly' : undefined);
        await serve();
      }
      const count = 4 + Math.floor(random() * 9);
      for (let i = 0; i < count; i++) {
        const kind = pick(['walk-in', 'walk-in', 'booked', 'booked', 'elderly'] as const);
        if (kind === 'booked') await book(Math.floor(random() * 30));
        else await issue(kind === 'elderly' ? 'elderly' : undefined);
        clock.advance(60);
      }
      const waiting = await t.db.selectFrom('ticket').select(['id', 'code', 'priorityRank', 'bookingKind']).where('siteId', '=', site.siteId).where('status', '=', 'waiting').execute();
      const shown = new Map<string, number>();
      for (const w of waiting) shown.set(w.code, (await queue.getTicket(w.id)).position!);
      const taken: string[] = [];
      for (let called = await serve(); called; called = await serve()) taken.push(called.code);
      const byPosition = [...shown].sort((a, b) => a[1] - b[1]).map(([code]) => code);
      const context = `ratio ${ratio}, booked in a row ${bookedInRow}, ${waiting.map((w) => `${w.code}${w.priorityRank === null ? '' : `(p${w.priorityRank})`}${w.bookingKind ? '(b)' : ''}`).join(' ')}`;
      expect(taken, context).toEqual(byPosition);
      expect([...shown.values()].sort((a, b) => a - b), context).toEqual(taken.map((_, k) => k));
    }
  }, 120_000);
});
