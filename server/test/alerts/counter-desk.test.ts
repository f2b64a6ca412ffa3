import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '@qms/protocol';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// The counter terminal's own reads: today's figures of the official (computed from a scripted
// day on the engine's clock), the waiting list in call order, and the rating a tablet asks for
// after a reconnect.

let f: ApiFixture;
// 2026-11-23 23:58 in Ho Chi Minh City (UTC+7): the evening before the scripted day
const clock = new TestClock('2026-11-23T16:58:00Z');

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  await f.t.db.deleteFrom('openingHours').execute(); // the centre is open at any hour for this script
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: object) =>
  f.app.inject({ method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}), ...(method === 'POST' ? { payload: payload ?? {} } : {}) });
async function ok<T = { ticket: Ticket }>(method: 'GET' | 'POST', url: string, token: string, payload?: object): Promise<T> {
  const res = await api(method, url, token, payload);
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}
const issue = async (service: string, priority?: string) =>
  (await ok('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services[service], ...(priority ? { priority } : {}) })).ticket;
const callNext = async (counter: number, token: string) => (await ok('POST', `/counters/${f.counters[counter]}/call-next`, token)).ticket;
const act = async (ticketId: string, action: string, token: string, payload?: object) => (await ok('POST', `/tickets/${ticketId}/${action}`, token, payload)).ticket;
const rate = (ticketId: string, score: number, reason?: string) =>
  ok('POST', `/tickets/${ticketId}/rating`, f.tokens.rating, { score, ...(reason ? { reason } : {}) });
const serviceSeconds = (t: Ticket) => (new Date(t.finishedAt!).getTime() - new Date(t.calledAt!).getTime()) / 1000;

describe("GET /counters/:id/today: the official's own figures of the local day", () => {
  const served: Ticket[] = [];

  beforeAll(async () => {
    // --- the evening before (local 23:58): one served and rated ticket that must not count today
    await ok('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
    await issue('HT');
    const late = await callNext(1, f.tokens.staff);
    clock.advance(90);
    await act(late.id, 'finish', f.tokens.staff); // 23:59:30 local
    await rate(late.id, 3);

    // --- just after local midnight: counts for the new day
    clock.set('2026-11-23T17:00:30Z');
    await issue('HT');
    const early = await callNext(1, f.tokens.staff);
    clock.advance(75);
    served.push(await act(early.id, 'finish', f.tokens.staff));
    await rate(early.id, 2);

    // --- 08:00 local: four citizens for HT; canbo2 opens counter 2 (HT + CT)
    clock.set('2026-11-24T01:00:00Z');
    for (let i = 0; i < 4; i++) {
      await issue('HT');
      clock.advance(30);
    }
    await ok('POST', `/counters/${f.counters[2]}/open`, f.tokens.staff2);

    const a = await callNext(1, f.tokens.staff);
    clock.advance(420);
    served.push(await act(a.id, 'finish', f.tokens.staff));
    await rate(a.id, 3);

    const b = await callNext(1, f.tokens.staff);
    clock.advance(60);
    await act(b.id, 'start', f.tokens.staff);
    clock.advance(270);
    served.push(await act(b.id, 'finish', f.tokens.staff));
    await rate(b.id, 1, 'attitude');

    const c = await callNext(1, f.tokens.staff);
    clock.advance(120);
    await act(c.id, 'no-show', f.tokens.staff);

    // transferred away: not served by canbo1; canbo2 then serves it at counter 2
    const d = await callNext(1, f.tokens.staff);
    clock.advance(100);
    await act(d.id, 'transfer', f.tokens.staff, { serviceId: f.services.CT });
    const again = await callNext(2, f.tokens.staff2);
    expect(again.id).toBe(d.id);
    clock.advance(200);
    await act(d.id, 'finish', f.tokens.staff2);
  });

  it('counts what the official finished since local midnight, with the exact mean service time and ratings', async () => {
    const figures = await ok<Record<string, unknown>>('GET', `/counters/${f.counters[1]}/today`, f.tokens.staff);
    const expectedAvg = served.map(serviceSeconds).reduce((s, x) => s + x, 0) / served.length;
    expect(served.map(serviceSeconds).map(Math.round)).toEqual([75, 420, 330]);
    expect(figures).toEqual({
      date: '2026-11-24',
      counterId: f.counters[1],
      staff: { id: f.userIds.canbo1, displayName: 'Cán bộ canbo1' },
      served: 3,
      noShow: 1,
      // the database adds in its own order: the same mean to the last few bits
      serviceAvgSeconds: expect.closeTo(expectedAvg, 9),
      ratings: 3,
      ratingAvg: 2,
    });
  });

  it('gives the figures of the official working the counter, whoever asks (manager, counter device)', async () => {
    const byManager = await ok<{ served: number; staff: { id: string } }>('GET', `/counters/${f.counters[1]}/today`, f.tokens.manager);
    const byDevice = await ok<{ served: number }>('GET', `/counters/${f.counters[1]}/today`, f.tokens.counterDevice);
    expect(byManager).toMatchObject({ served: 3, staff: { id: f.userIds.canbo1 } });
    expect(byDevice.served).toBe(3);
    const counter2 = await ok<Record<string, unknown>>('GET', `/counters/${f.counters[2]}/today`, f.tokens.staff);
    expect(counter2).toMatchObject({ staff: { id: f.userIds.canbo2 }, served: 1, noShow: 0, ratings: 0, ratingAvg: null });
    expect(counter2.serviceAvgSeconds).toBeCloseTo(200, 1);
  });

  it('reads another local day with ?date=', async () => {
    const yesterday = await ok<Record<string, unknown>>('GET', `/counters/${f.counters[1]}/today?date=2026-11-23`, f.tokens.staff);
    expect(yesterday).toMatchObject({ date: '2026-11-23', served: 1, noShow: 0, ratings: 1, ratingAvg: 3 });
    expect(yesterday.serviceAvgSeconds).toBeCloseTo(90, 1);
    const tomorrow = await ok<Record<string, unknown>>('GET', `/counters/${f.counters[1]}/today?date=2026-11-25`, f.tokens.staff);
    expect(tomorrow).toMatchObject({ served: 0, noShow: 0, serviceAvgSeconds: null, ratings: 0, ratingAvg: null });
  });

  it('refuses strangers and bad input', async () => {
    const url = `/counters/${f.counters[1]}/today`;
    expect((await api('GET', url)).statusCode).toBe(401);
    for (const token of [f.tokens.kiosk, f.tokens.display, f.tokens.rating, f.tokens.otherStaff, f.tokens.otherKiosk]) {
      expect((await api('GET', url, token)).statusCode).toBe(403);
    }
    // the counter device of counter 1 reads counter 1 only
    expect((await api('GET', `/counters/${f.counters[2]}/today`, f.tokens.counterDevice)).statusCode).toBe(403);
    for (const bad of ['?date=24/11/2026', '?date=2026-13-01', '?day=2026-11-24']) {
      const res = await api('GET', url + bad, f.tokens.staff);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await api('GET', '/counters/not-a-uuid/today', f.tokens.staff)).statusCode).toBe(400);
    const missing = await api('GET', '/counters/00000000-0000-4000-8000-000000000000/today', f.tokens.staff);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('COUNTER_NOT_FOUND');
  });

  it('falls back to the caller when the counter is closed', async () => {
    await ok('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff);
    expect(await ok('GET', `/counters/${f.counters[1]}/today`, f.tokens.staff)).toMatchObject({ served: 3, staff: { id: f.userIds.canbo1 } });
    expect(await ok('GET', `/counters/${f.counters[1]}/today`, f.tokens.counterDevice)).toMatchObject({ served: 0, staff: null, serviceAvgSeconds: null });
    await ok('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
  });
});

describe('GET /sites/:id/waiting: the waiting list in call order', () => {
  it('lists priority first, then arrival, across the services asked for, in the order counters call them', async () => {
    const issued = [];
    for (const [service, priority] of [['HT'], ['CT'], ['HT', 'elderly'], ['DD'], ['CT'], ['HT'], ['CT', 'elderly']] as [string, string?][]) {
      issued.push(await issue(service, priority));
      clock.advance(20);
    }
    const ids = [f.services.HT, f.services.CT].join(',');
    const list = await ok<{ total: number; tickets: (Ticket & { queuedAt: string; waitedSeconds: number })[] }>(
      'GET', `/sites/${f.siteId}/waiting?serviceIds=${ids}`, f.tokens.staff);
    expect(list.total).toBe(6);
    expect(list.tickets.every((t) => t.status === 'waiting' && t.serviceId !== f.services.DD)).toBe(true);
    const first = list.tickets[0]!;
    expect(first.priority).toBe('elderly');
    expect(first.waitedSeconds).toBeGreaterThan(100);
    // positions are places within each ticket's own service, as the kiosk printed them
    for (const t of list.tickets) {
      const fresh = await ok('GET', `/tickets/${t.id}`, f.tokens.staff);
      expect(t.position).toBe(fresh.ticket.position);
    }

    // counter 2 serves HT and CT: pressing "next" six times calls exactly this list, in order
    const called = [];
    for (let i = 0; i < list.tickets.length; i++) {
      const t = await callNext(2, f.tokens.staff2);
      called.push(t.code);
      await act(t.id, 'finish', f.tokens.staff2);
    }
    expect(called).toEqual(list.tickets.map((t) => t.code));

    const all = await ok<{ total: number; tickets: Ticket[] }>('GET', `/sites/${f.siteId}/waiting`, f.tokens.manager);
    expect(all.tickets.map((t) => t.code)).toEqual([issued[3]!.code]);
  });

  it('is for staff of the site only, and validates serviceIds', async () => {
    const url = `/sites/${f.siteId}/waiting`;
    expect((await api('GET', url)).statusCode).toBe(401);
    for (const token of [f.tokens.kiosk, f.tokens.display, f.tokens.counterDevice, f.tokens.rating, f.tokens.otherStaff]) {
      expect((await api('GET', url, token)).statusCode).toBe(403);
    }
    expect((await api('GET', url, f.tokens.admin)).statusCode).toBe(200);
    for (const bad of ['?serviceIds=HT', '?serviceIds=', `?serviceIds=${f.services.HT},`, '?status=waiting', `?serviceIds=${f.services.HT};drop`]) {
      const res = await api('GET', url + bad, f.tokens.staff);
      expect(res.statusCode, bad).toBe(400);
    }
    // a service of another site simply has nobody waiting here
    const other = await f.t.db.selectFrom('service').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow();
    expect((await ok<{ total: number }>('GET', `${url}?serviceIds=${other.id}`, f.tokens.staff)).total).toBe(0);
  });
});

describe('GET /counters/:id/rating-request: what the tablet asks after a reconnect', () => {
  it('returns the unrated ticket finished a moment ago, then nothing once rated or stale', async () => {
    const url = `/counters/${f.counters[1]}/rating-request`;
    await issue('HT');
    const t = await callNext(1, f.tokens.staff);
    clock.advance(60);
    await act(t.id, 'finish', f.tokens.staff);
    clock.advance(10);
    const pending = await api('GET', url, f.tokens.rating);
    expect(pending.statusCode).toBe(200);
    expect(pending.json()).toMatchObject({ ticketId: t.id, counterId: f.counters[1], code: t.code, staff: { displayName: 'Cán bộ canbo1' } });
    await rate(t.id, 3);
    expect((await api('GET', url, f.tokens.rating)).statusCode).toBe(204);

    await issue('HT');
    const u = await callNext(1, f.tokens.staff);
    await act(u.id, 'finish', f.tokens.staff);
    clock.advance(301); // past the rating window (QMS_RATING_WINDOW_SECONDS, 300 by default)
    expect((await api('GET', url, f.tokens.rating)).statusCode).toBe(204);
  });

  it('is for the rating tablet of that counter (and staff of the site)', async () => {
    const url = `/counters/${f.counters[1]}/rating-request`;
    expect((await api('GET', url)).statusCode).toBe(401);
    for (const token of [f.tokens.kiosk, f.tokens.display, f.tokens.counterDevice, f.tokens.otherStaff, f.tokens.otherKiosk]) {
      expect((await api('GET', url, token)).statusCode).toBe(403);
    }
    expect((await api('GET', `/counters/${f.counters[2]}/rating-request`, f.tokens.rating)).statusCode).toBe(403);
    expect([200, 204]).toContain((await api('GET', url, f.tokens.staff2)).statusCode);
  });
});
