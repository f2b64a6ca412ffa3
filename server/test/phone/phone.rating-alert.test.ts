import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import type { AlertRaised } from '../../src/routes/alert.routes.ts';

// A "Không hài lòng" rating given on the phone page reaches the site's managers at once as
// `alert:raised`, like the tablet's rating. The site monitor is switched off here, so only the
// rating route itself can have published it.

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
const sockets: Socket[] = [];
const monitorSetting = process.env.QMS_MONITOR_INTERVAL_MS;

beforeAll(async () => {
  process.env.QMS_MONITOR_INTERVAL_MS = '0';
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await f?.app.close();
  await f?.t.drop();
  if (monitorSetting === undefined) delete process.env.QMS_MONITOR_INTERVAL_MS;
  else process.env.QMS_MONITOR_INTERVAL_MS = monitorSetting;
});

const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });

type Heard = { name: string; payload: unknown }[];

async function listening(token: string): Promise<Heard> {
  const socket = connect(base, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  const events: Heard = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('queue:snapshot', () => resolve());
    socket.once('connect_error', reject);
  });
  return events;
}

const raised = (events: Heard) => events.filter((e) => e.name === 'alert:raised').map((e) => e.payload as AlertRaised);
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

/** Issues a ticket of a service, has counter 1 call and finish it; returns its publicId. */
async function served(serviceCode: string): Promise<{ id: string; publicId: string }> {
  const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services[serviceCode] });
  expect(res.statusCode).toBe(201);
  const ticket = res.json().ticket as { id: string; publicId: string };
  // nobody else waits, so counter 1 calls this one
  await f.t.db.updateTable('ticket').set({ status: 'cancelled' }).where('siteId', '=', f.siteId).where('status', '=', 'waiting')
    .where('id', '<>', ticket.id).execute();
  await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff, {});
  const called = await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff, {});
  expect(called.json().ticket.id).toBe(ticket.id);
  expect((await api('POST', `/tickets/${ticket.id}/finish`, f.tokens.staff, {})).statusCode).toBe(200);
  return ticket;
}

describe('a phone rating with the lowest score', () => {
  it('publishes alert:raised to the managers at once, not to displays', async () => {
    const manager = await listening(f.tokens.manager);
    const display = await listening(f.tokens.display);

    // a satisfied rating raises nothing
    const happy = await served('HT');
    expect((await api('POST', `/public/tickets/${happy.publicId}/rating`, undefined, { score: 3 })).statusCode).toBe(201);

    const unhappy = await served('HT');
    const started = Date.now();
    const res = await api('POST', `/public/tickets/${unhappy.publicId}/rating`, undefined, { score: 1, reason: 'waiting' });
    expect(res.statusCode).toBe(201);
    await until(() => raised(manager).length > 0);
    expect(Date.now() - started).toBeLessThan(2000);

    const stored = await f.t.db.selectFrom('alert').selectAll().where('kind', '=', 'low_rating').execute();
    expect(stored.map((a) => a.ticketId)).toEqual([unhappy.id]);
    const heard = raised(manager);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.alert).toMatchObject({
      id: stored[0]!.id, siteId: f.siteId, kind: 'low_rating', acknowledgedAt: null,
      counter: { id: f.counters[1], number: 1 }, staff: { id: f.userIds.canbo1 },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(raised(manager)).toHaveLength(1);
    expect(raised(display)).toEqual([]);
  });

  it('is sent once: the site monitor\'s sweep, which publishes the alerts nothing else did, does not send it again', async () => {
    const manager = await listening(f.tokens.manager);
    const unhappy = await served('HT');
    expect((await api('POST', `/public/tickets/${unhappy.publicId}/rating`, undefined, { score: 1 })).statusCode).toBe(201);
    await until(() => raised(manager).length > 0);
    expect(raised(manager).map((r) => r.alert.ticket?.id)).toEqual([unhappy.id]);

    // the sweep publishes what it finds unpublished: the rating's alert was claimed when it was sent
    expect(await f.app.services.monitor.tick()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(raised(manager)).toHaveLength(1);
  });
});
