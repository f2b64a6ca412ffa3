import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { seededRandom } from '../reports/history.generator.ts';

// Fair merging of booked tickets into the walk-in queue (docs/appointments.md), as a property:
// for random mornings (walk-ins arriving at random, bookings in half-hour slots whose holders come
// early, on time, late, too late or never, two counters with random service times), every call
// the real call-next makes keeps the two bounds a site sets:
// - a booked ticket is never passed by a walk-in who arrived after its slot less the walk-in cap
//   (after its own arrival less the cap, if it came after its slot), except the one walk-in a
//   counter takes after `bookedInRow` booked tickets in a row;
// - a walk-in is never passed by a booking whose slot (or arrival, if later) is more than the
//   walk-in cap after the walk-in arrived: bookings put a walk-in back by at most the cap;
// - a counter never calls more than `bookedInRow` booked tickets in a row while a walk-in waits.
// The bounds are checked from what the simulation knows (slots and arrival times), through the
// HTTP API, the kiosk's check-in, and the database's qms_call_next, on a clock.

const TRIALS = 6;
const CAP = 15;
const minute = 60_000;
let f: ApiFixture | undefined;

afterEach(async () => {
  await f?.app.close();
  await f?.t.drop();
  f = undefined;
});

interface Person { kind: 'walk-in' | 'booked'; arrival: number; slot?: number; ticketId?: string; code?: string }
interface Call { counter: number; at: number; person: Person; waiting: Person[]; lastCalls: Person[] }

describe('fair merging of booked tickets and walk-ins', () => {
  it(`keeps the site's bounds on any mix of arrivals (${TRIALS} random mornings)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const random = seededRandom(2026_12_05 + trial);
      const bookedInRow = 1 + (trial % 3);
      const clock = new TestClock('2026-11-24T00:30:00Z'); // Tuesday 07:30 in Hà Nội
      const day0 = clock.now().getTime();
      f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 } });
      const fx = f;
      const api = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
        fx.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
      const HT = fx.services.HT!;
      await fx.t.db.updateTable('site').set({ settings: sql`settings || jsonb_build_object('bookings', ${JSON.stringify({ enabled: true, walkInCapMinutes: CAP, bookedInRow, earlyMinutes: 30, lateMinutes: 15 })}::jsonb)` })
        .where('id', '=', fx.siteId).execute();
      const starts = ['08:00', '08:30', '09:00', '09:30', '10:00', '10:30'];
      await fx.t.db.insertInto('bookingCapacity').values(starts.map((s) => ({ siteId: fx.siteId, serviceId: HT, weekday: 2, starts: s, capacity: 4 }))).execute();
      const counterIds = (await fx.t.db.selectFrom('counterService').innerJoin('counter', 'counter.id', 'counterService.counterId')
        .select('counter.id').where('serviceId', '=', HT).where('counter.siteId', '=', fx.siteId).orderBy('counter.number').limit(2).execute()).map((c) => c.id);
      expect(counterIds).toHaveLength(2);
      const staff = [fx.tokens.staff, fx.tokens.staff2];
      for (const [i, id] of counterIds.entries()) expect((await api('POST', `/counters/${id}/open`, staff[i]!)).statusCode).toBe(200);

      // the morning: walk-ins every few minutes, bookings made the day before at 07:30
      const people: Person[] = [];
      for (let t = 0; t < 200; t += 1 + Math.floor(random() * 7)) people.push({ kind: 'walk-in', arrival: day0 + t * minute });
      for (const s of starts) {
        const slot = new Date(`2026-11-24T${s}:00+07:00`).getTime();
        for (let k = Math.floor(random() * 5); k > 0; k--) {
          const res = await api('POST', `/sites/${fx.siteId}/bookings`, fx.tokens.manager, { serviceId: HT, slotAt: new Date(slot).toISOString() });
          expect(res.statusCode, res.body).toBe(201);
          if (random() < 0.15) continue; // never comes
          // early (some before check-in opens: they wait for it), on time, late, or too late
          const offset = Math.round((random() * 55 - 40) * minute);
          people.push({ kind: 'booked', slot, arrival: slot + offset, code: res.json().booking.code });
        }
      }
      people.sort((a, b) => a.arrival - b.arrival);

      const byTicket = new Map<string, Person>();
      const serving: ({ until: number } | null)[] = [null, null];
      const calls: Call[] = [];
      const history: Person[][] = [[], []];
      const queue: Person[] = [];
      let next = 0;
      for (let now = day0; now < day0 + 300 * minute; now += minute) {
        clock.set(new Date(now));
        while (next < people.length && people[next]!.arrival <= now) {
          const p = people[next++]!;
          if (p.kind === 'walk-in') {
            const res = await api('POST', `/sites/${fx.siteId}/tickets`, fx.tokens.kiosk, { serviceId: HT });
            expect(res.statusCode, res.body).toBe(201);
            p.ticketId = res.json().ticket.id;
          } else {
            const res = await api('POST', `/sites/${fx.siteId}/check-in`, fx.tokens.kiosk, { code: p.code });
            if (res.statusCode === 409 && res.json().error.code === 'BOOKING_TOO_EARLY') {
              // back when check-in opens
              p.arrival = new Date(res.json().error.details.checkInFrom).getTime();
              people.splice(people.findIndex((q, i) => i >= next && q.arrival > p.arrival), 0, p);
              continue;
            }
            expect(res.statusCode, res.body).toBe(201);
            p.ticketId = res.json().ticket.id;
            // too late for the slot: an ordinary ticket, a walk-in from now
            if (res.json().outcome === 'late') p.kind = 'walk-in';
          }
          byTicket.set(p.ticketId!, p);
          queue.push(p);
        }
        for (const [i, id] of counterIds.entries()) {
          const desk = serving[i];
          if (desk && desk.until > now) continue;
          const { value: called } = await fx.app.services.queue.callNext({ counterId: id, staffId: fx.userIds[i === 0 ? 'canbo1' : 'canbo2']! });
          if (!called) {
            serving[i] = null;
            continue;
          }
          const person = byTicket.get(called.id)!;
          calls.push({ counter: i, at: now, person, waiting: queue.filter((q) => q !== person), lastCalls: history[i]!.slice(-bookedInRow) });
          history[i]!.push(person);
          queue.splice(queue.indexOf(person), 1);
          await fx.app.services.queue.finish({ ticketId: called.id, counterId: id, staffId: fx.userIds[i === 0 ? 'canbo1' : 'canbo2']! });
          serving[i] = { until: now + (3 + Math.floor(random() * 8)) * minute };
        }
      }

      // every call against the bounds; a booked ticket's place: its slot, or its arrival if later, less the cap
      const place = (p: Person) => (p.kind === 'booked' ? Math.max(p.slot!, p.arrival) - CAP * minute : p.arrival);
      const context = (c: Call) => `trial ${trial} (bookedInRow ${bookedInRow}), call at ${new Date(c.at).toISOString()} at counter ${c.counter + 1}`;
      let bookedCalls = 0;
      let forced = 0;
      for (const c of calls) {
        if (c.person.kind === 'booked') {
          bookedCalls++;
          const passed = c.waiting.filter((w) => w.kind === 'walk-in' && w.arrival < place(c.person));
          expect(passed, `${context(c)}: a booking passed walk-ins who arrived more than ${CAP} min before its slot`).toEqual([]);
          const row = c.lastCalls.length === bookedInRow && c.lastCalls.every((p) => p.kind === 'booked');
          expect(row && c.waiting.some((w) => w.kind === 'walk-in'), `${context(c)}: more than ${bookedInRow} booked in a row while a walk-in waited`).toBe(false);
        } else {
          const passed = c.waiting.filter((w) => w.kind === 'booked' && place(w) < place(c.person));
          if (passed.length) {
            forced++;
            expect(c.lastCalls.length === bookedInRow && c.lastCalls.every((p) => p.kind === 'booked'), `${context(c)}: a walk-in passed a booking that was due`).toBe(true);
          }
        }
      }
      // the mornings were busy enough to test something: bookings were called, and walk-ins queued behind them
      expect(bookedCalls, `trial ${trial}`).toBeGreaterThan(3);
      expect(calls.length, `trial ${trial}`).toBeGreaterThan(30);
      if (trial === TRIALS - 1) expect(forced + bookedCalls).toBeGreaterThan(0);
      await fx.app.close();
      await fx.t.drop();
      f = undefined;
    }
  }, 300_000);
});
