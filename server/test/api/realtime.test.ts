import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { createPool } from '@qms/db';
import type { ClientToServerEvents, QueueSnapshot, ServerToClientEvents, TicketCalled } from '@qms/protocol';
import { buildApp, type App } from '../../src/app.ts';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z');
const sockets: Client[] = [];

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await f?.app.close();
  await f?.t.drop();
});

function client(url: string, auth: Record<string, string>): Client {
  const socket: Client = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return socket;
}

function next<E extends keyof ServerToClientEvents>(socket: Client, name: E, timeoutMs = 5000): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(name)} within ${timeoutMs} ms`)), timeoutMs);
    (socket.once as (n: string, cb: (p: unknown) => void) => void)(name as string, (payload) => {
      clearTimeout(timer);
      resolve(payload as never);
    });
  });
}

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

  it('closes the sockets of a revoked device at once', async () => {
    const created = (await post(`/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV 2' })).json();
    const socket = client(base, { token: created.token });
    await next(socket, 'queue:snapshot');
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await f.app.inject({ method: 'DELETE', url: `/api/v1/devices/${created.device.id}`, headers: bearer(f.tokens.manager) });
    expect(await closed).toBe('io server disconnect');
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
      const res = await a.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[3]}/call-next`, headers: bearer(f.tokens.staff2), payload: {} });
      expect(res.statusCode).toBe(200);
      expect((await called).ticket.code).toBe(ticket.code);

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
