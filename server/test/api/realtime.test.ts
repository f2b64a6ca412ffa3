import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@qms/db';
import type { QueueSnapshot, TicketCalled } from '@qms/protocol';
import { buildApp, type App } from '../../src/app.ts';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { nextEvent as next, SocketClients, until } from '../support/sockets.ts';

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z');
const sockets = new SocketClients(() => base);
const client = (url: string, auth: Record<string, string>) => sockets.open(auth, url);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

const post = (url: string, token: string, payload: object = {}) =>
  f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });

describe('realtime', () => {
  it('refuses a socket without a valid token', async () => {
    const socket = client(base, { token: 'qd_nope' });
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(error.message).toBe('UNAUTHENTICATED');
  });

  it('sends a snapshot on connect, then issued, called and rating events to the right screens', async () => {
    const display = client(base, { token: f.tokens.display });
    const snapshot: QueueSnapshot = await next(display, 'queue:snapshot');
    expect(snapshot.siteId).toBe(f.siteId);
    expect(snapshot.counters.map((c) => c.number)).toEqual([1, 2, 3, 4, 5, 6]);

    const rating = client(base, { token: f.tokens.rating });
    await next(rating, 'queue:snapshot');
    const otherKiosk = client(base, { token: f.tokens.otherKiosk });
    await next(otherKiosk, 'queue:snapshot');
    let leaked = 0;
    otherKiosk.onAny(() => leaked++);

    const issued = next(display, 'ticket:issued');
    const { ticket } = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json();
    expect((await issued).ticket.code).toBe(ticket.code);

    await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
    const called = next(display, 'ticket:called');
    await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    const call: TicketCalled = await called;
    expect(call).toMatchObject({ ticket: { code: ticket.code, status: 'called' }, counter: { number: 1 }, recall: false });

    const requested = next(rating, 'rating:requested');
    await post(`/tickets/${ticket.id}/finish`, f.tokens.staff);
    expect(await requested).toEqual({ ticketId: ticket.id, counterId: f.counters[1], staff: { displayName: 'Cán bộ canbo1' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(leaked).toBe(0); // nothing of site A reached a kiosk of site B
  });

  it('closes the sockets of a revoked device at once, and refuses its token from then on', async () => {
    const created = (await post(`/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV 2' })).json();
    const socket = client(base, { token: created.token });
    await next(socket, 'queue:snapshot');
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await f.app.inject({ method: 'DELETE', url: `/api/v1/devices/${created.device.id}`, headers: bearer(f.tokens.manager) });
    expect(await closed).toBe('io server disconnect');
    const again = client(base, { token: created.token });
    const error = await new Promise<Error>((resolve) => again.once('connect_error', resolve));
    expect(error.message).toBe('UNAUTHENTICATED');
  });

  it('sends queue:stats after ticket:called, counted after the commit, once for a burst of calls', async () => {
    for (let i = 0; i < 3; i++) await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    const display = await sockets.listen({ token: f.tokens.display });
    await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
    await post(`/counters/${f.counters[2]}/open`, f.tokens.staff2);
    // opening counters sends queue:stats too (who serves HT changed): let those arrive first
    const servedByTwo = (e: { name: string; payload: unknown }) => e.name === 'queue:stats' &&
      (e.payload as { services: { serviceId: string; servingCounters: number }[] }).services.some((s) => s.serviceId === f.services.HT && s.servingCounters === 2);
    await until(() => display.events.some(servedByTwo));
    const waitingBefore = (await f.app.inject({ method: 'GET', url: `/api/v1/sites/${f.siteId}/queue`, headers: bearer(f.tokens.staff) }))
      .json().services.find((s: { serviceId: string }) => s.serviceId === f.services.HT).waiting;
    expect(waitingBefore).toBeGreaterThanOrEqual(3);
    display.events.length = 0;
    const calls = await Promise.all([1, 2].map((n) => post(`/counters/${f.counters[n]}/call-next`, n === 1 ? f.tokens.staff : f.tokens.staff2)));
    expect(calls.map((r) => r.statusCode)).toEqual([200, 200]);
    await until(() => display.events.filter((e) => e.name === 'ticket:called').length === 2 && display.events.some((e) => e.name === 'queue:stats'));
    await new Promise((r) => setTimeout(r, 100));
    const names = display.events.map((e) => e.name);
    expect(names.filter((n) => n === 'ticket:called')).toHaveLength(2);
    expect(names.indexOf('queue:stats')).toBeGreaterThan(names.indexOf('ticket:called'));
    const stats = display.events.filter((e) => e.name === 'queue:stats').map((e) => e.payload as { services: { serviceId: string; waiting: number }[] });
    expect(stats.length).toBeLessThanOrEqual(2); // two calls in the same few milliseconds: usually one count
    expect(stats.at(-1)!.services.find((s) => s.serviceId === f.services.HT)!.waiting).toBe(waitingBefore - 2);
    for (const n of [1, 2]) {
      const ticket = (calls[n - 1]!.json() as { ticket: { id: string } }).ticket;
      await post(`/tickets/${ticket.id}/finish`, n === 1 ? f.tokens.staff : f.tokens.staff2);
    }
  });

  it('builds one snapshot for screens connecting together, a new one after anything happened at the site', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // past the life of any snapshot built so far
    const built = f.app.realtime.snapshotsBuilt();
    const burst = await Promise.all(Array.from({ length: 12 }, () => sockets.listen({ token: f.tokens.display })));
    expect(f.app.realtime.snapshotsBuilt() - built).toBe(1);
    const first = burst[0]!.events.find((e) => e.name === 'queue:snapshot')!.payload as QueueSnapshot;
    for (const l of burst) expect((l.events.find((e) => e.name === 'queue:snapshot')!.payload as QueueSnapshot).services).toEqual(first.services);

    // a screen joining a moment later, nothing having happened: the same one, with its own time
    const later = await sockets.listen({ token: f.tokens.kiosk });
    expect(f.app.realtime.snapshotsBuilt() - built).toBe(1);
    const laterSnapshot = later.events[0]!.payload as QueueSnapshot;
    expect(laterSnapshot.services).toEqual(first.services);
    expect(Date.parse(laterSnapshot.at)).toBeGreaterThan(Date.parse(first.at));

    // a ticket is issued: the next screen gets a snapshot that counts it
    await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    const after = await sockets.listen({ token: f.tokens.display });
    expect(f.app.realtime.snapshotsBuilt() - built).toBe(2);
    const waiting = (s: QueueSnapshot) => s.services.find((x) => x.serviceId === f.services.HT)!.waiting;
    expect(waiting(after.events[0]!.payload as QueueSnapshot)).toBe(waiting(first) + 1);
  });

  it('stamps each call and recall with its instant, as a later snapshot lists it (how a display tells a call it missed)', async () => {
    const issued = [];
    for (let i = 0; i < 2; i++) issued.push((await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().ticket);
    await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
    await post(`/counters/${f.counters[2]}/open`, f.tokens.staff2);
    const display = await sockets.listen({ token: f.tokens.display });
    const calls = () => display.events.filter((e) => e.name === 'ticket:called').map((e) => e.payload as TicketCalled);
    const called = (await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff)).json().ticket;
    clock.advance(7);
    expect((await post(`/tickets/${called.id}/recall`, f.tokens.staff)).statusCode).toBe(200);
    clock.advance(5);
    const chosen = issued.find((t) => t.id !== called.id)!;
    expect((await post(`/tickets/${chosen.id}/call`, f.tokens.staff2)).statusCode).toBe(200);
    await until(() => calls().length === 3);
    const [first, recall, other] = calls();
    expect(first).toMatchObject({ ticket: { id: called.id }, recall: false });
    expect(Date.parse(first!.at)).toBe(Date.parse(first!.ticket.calledAt!));
    expect(recall).toMatchObject({ ticket: { id: called.id }, recall: true });
    expect(Date.parse(recall!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(7000);
    expect(other).toMatchObject({ ticket: { id: chosen.id }, recall: false });
    expect(Date.parse(other!.at)).toBe(Date.parse(other!.ticket.calledAt!));

    const later: QueueSnapshot = await next(client(base, { token: f.tokens.display }), 'queue:snapshot');
    const listed = later.recentCalls.map((c) => `${c.ticket.id}@${Date.parse(c.at)}`);
    for (const call of [first!, recall!, other!]) expect(listed).toContain(`${call.ticket.id}@${Date.parse(call.at)}`);
    for (const t of [called, chosen]) await post(`/tickets/${t.id}/finish`, t.id === called.id ? f.tokens.staff : f.tokens.staff2);
  });

  it('announces a call on the wall displays first, and exactly once to every screen of the site', async () => {
    const secondDisplay = (await post(`/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV 3' })).json();
    // join order puts the displays last: without the displays' room they would be served last
    const others = [
      await sockets.listen({ token: f.tokens.staff2 }), await sockets.listen({ token: f.tokens.kiosk }),
      await sockets.listen({ token: f.tokens.counterDevice }), await sockets.listen({ token: f.tokens.rating }),
    ];
    const displays = [await sockets.listen({ token: f.tokens.display }), await sockets.listen({ token: secondDisplay.token })];
    // the order in which the server writes the event to each socket (a broadcast is synchronous)
    const written: string[] = [];
    for (const [id, socket] of f.app.realtime.io.of('/').sockets) {
      socket.conn.on('packetCreate', (packet: { data?: unknown }) => {
        if (typeof packet.data === 'string' && packet.data.startsWith('2["ticket:called"')) written.push(id);
      });
    }
    await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    await post(`/counters/${f.counters[2]}/open`, f.tokens.staff2);
    const res = await post(`/counters/${f.counters[2]}/call-next`, f.tokens.staff2);
    try {
      expect(res.statusCode).toBe(200);
      const all = [...displays, ...others];
      const calledCount = (l: (typeof all)[number]) => l.events.filter((e) => e.name === 'ticket:called').length;
      await until(() => all.every((l) => calledCount(l) === 1));
      await new Promise((r) => setTimeout(r, 100));
      expect(all.map(calledCount)).toEqual([1, 1, 1, 1, 1, 1]);
      const displayIds = displays.map((l) => l.socket.id);
      const mine = written.filter((id) => all.some((l) => l.socket.id === id));
      expect(mine).toHaveLength(6);
      expect(new Set(mine.slice(0, 2))).toEqual(new Set(displayIds));
    } finally {
      await post(`/tickets/${(res.json() as { ticket: { id: string } }).ticket.id}/finish`, f.tokens.staff2);
      expect((await post(`/counters/${f.counters[2]}/close`, f.tokens.staff2)).statusCode).toBe(200);
    }
  });

  it('fans out across two server processes on one database', async () => {
    const poolA = createPool(f.t.url, { max: 2 });
    const poolB = createPool(f.t.url, { max: 2 });
    const apps: App[] = [];
    try {
      for (const pool of [poolA, poolB]) {
        const app = await buildApp({ db: f.t.db, serveUi: false, clock: clock.now, clusterPool: pool, config: { rateLimits: false } });
        await app.listen({ port: 0, host: '127.0.0.1' });
        apps.push(app);
      }
      const [a, b] = apps as [App, App];
      const urlB = `http://127.0.0.1:${(b.server.address() as { port: number }).port}`;
      const displayOnB = client(urlB, { token: f.tokens.display });
      await next(displayOnB, 'queue:snapshot');
      await new Promise((r) => setTimeout(r, 500)); // let the adapters see each other

      const { ticket } = (await a.inject({ method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: bearer(f.tokens.kiosk), payload: { serviceId: f.services.CT } })).json();
      await a.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[3]}/open`, headers: bearer(f.tokens.staff2), payload: {} });
      const called = next(displayOnB, 'ticket:called');
      let announced = 0;
      displayOnB.on('ticket:called', () => announced++);
      const res = await a.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[3]}/call-next`, headers: bearer(f.tokens.staff2), payload: {} });
      expect(res.statusCode).toBe(200);
      expect((await called).ticket.code).toBe(ticket.code);
      await new Promise((r) => setTimeout(r, 200));
      expect(announced).toBe(1); // the displays' room and the rest of the site, never both

      // revoking through A closes the device's socket on B
      const closed = new Promise<string>((resolve) => displayOnB.once('disconnect', resolve));
      await a.inject({ method: 'DELETE', url: `/api/v1/devices/${f.deviceIds.display}`, headers: bearer(f.tokens.manager) });
      expect(await closed).toBe('io server disconnect');
    } finally {
      for (const app of apps) await app.close();
      await poolA.end();
      await poolB.end();
    }
  });
});
