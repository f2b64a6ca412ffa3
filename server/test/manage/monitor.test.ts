import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import type { Alert } from '@qms/protocol';
import { SiteMonitor } from '../../src/monitor/site-monitor.ts';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// The site monitor: waits past target (one alert per crossing), devices offline while the site
// is open, printer alerts and phone low ratings published once; alerts reach the managers'
// room only, and devices' last_seen_at follows their sockets.

let f: ApiFixture;
let base: string;
let monitor: SiteMonitor;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Ho Chi Minh City: the demo centre is open
const sockets: Socket[] = [];

const post = (url: string, token: string, payload: object = {}) => f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
const at = (local: string) => clock.set(`2026-11-24T${local}+07:00`);
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

async function listen(token: string, siteId?: string) {
  const socket = connect(base, { auth: { token, ...(siteId ? { siteId } : {}) }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  const events: { name: string; payload: unknown }[] = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('queue:snapshot', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, events, alerts: () => events.filter((e) => e.name === 'alert:raised').map((e) => (e.payload as { alert: Alert }).alert) };
}

beforeAll(async () => {
  process.env.QMS_MONITOR_INTERVAL_MS = '0'; // ticks by hand here
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
  monitor = new SiteMonitor({
    db: f.t.db, now: clock.now, alerts: f.app.services.alerts, publish: (events) => f.app.events.dispatch(events),
    connectedDeviceIds: () => f.app.realtime.connectedDeviceIds(), offlineAfterMs: 120_000,
  });
});
afterAll(async () => {
  delete process.env.QMS_MONITOR_INTERVAL_MS;
  for (const s of sockets) s.close();
  await f?.app.close();
  await f?.t.drop();
});
beforeEach(async () => {
  await f.t.db.deleteFrom('alert').execute();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await until(() => f.app.realtime.connectedDeviceIds().length === 0);
});

describe('waits past target', () => {
  it('raises one alert when the longest wait crosses the target, clears it when it falls back, and a new one on the next crossing', async () => {
    const manager = await listen(f.tokens.manager);
    const display = await listen(f.tokens.display);
    await post(`/counters/${f.counters[3]}/open`, f.tokens.staff2); // counter 3 serves CT (target 600 s)
    at('09:00:00');
    const b1 = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CT })).json().ticket;
    at('09:05:00');
    const b2 = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CT })).json().ticket;

    at('09:09:59');
    expect(await monitor.tick()).toEqual([]);
    at('09:10:01');
    const [raised, ...more] = await monitor.tick();
    expect(more).toEqual([]);
    expect(raised).toMatchObject({
      kind: 'wait_over_target', siteId: f.siteId, ticket: { id: b1.id, code: b1.code },
      service: { id: f.services.CT, code: 'CT', name: { vi: 'Chứng thực' } }, targetWaitSeconds: 600, waitSeconds: 601,
      acknowledgedAt: null,
    });
    expect(raised!.clearedAt).toBeUndefined();
    await until(() => manager.alerts().length === 1);
    expect(manager.alerts()).toEqual([raised]);

    // still past target: the same crossing, nothing new (acknowledging does not end it)
    at('09:12:00');
    expect(await monitor.tick()).toEqual([]);
    expect((await post(`/alerts/${raised!.id}/acknowledge`, f.tokens.manager)).statusCode).toBe(200);
    at('09:13:00');
    expect(await monitor.tick()).toEqual([]);

    // b1 is called: b2 has waited 8 minutes, under target: the crossing ends
    expect((await post(`/counters/${f.counters[3]}/call-next`, f.tokens.staff2)).json().ticket.id).toBe(b1.id);
    expect(await monitor.tick()).toEqual([]);
    const cleared = await f.t.db.selectFrom('alert').select('data').where('id', '=', raised!.id).executeTakeFirstOrThrow();
    expect(cleared.data.clearedAt).toMatch(/^2026-11-24T02:13:00\.\d{3}Z$/);

    // b2 crosses 600 s at 09:15: a new crossing, a new alert
    at('09:15:01');
    const [second] = await monitor.tick();
    expect(second).toMatchObject({ kind: 'wait_over_target', ticket: { id: b2.id } });
    expect(second!.id).not.toBe(raised!.id);
    await until(() => manager.alerts().length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(display.alerts()).toEqual([]);
    const listed = (await f.app.inject({ method: 'GET', url: `/api/v1/sites/${f.siteId}/alerts`, headers: bearer(f.tokens.manager) })).json().alerts;
    expect(listed.map((a: Alert) => [a.kind, !!a.clearedAt])).toEqual([['wait_over_target', false], ['wait_over_target', true]]);
    await post(`/tickets/${b1.id}/finish`, f.tokens.staff2);
    await post(`/counters/${f.counters[3]}/call-next`, f.tokens.staff2);
    await post(`/tickets/${b2.id}/finish`, f.tokens.staff2);
    await post(`/counters/${f.counters[3]}/close`, f.tokens.staff2);
  });
});

describe('devices offline', () => {
  it('tracks last_seen_at on connect and disconnect, and raises device_offline past two minutes while the site is open', async () => {
    at('09:20:00');
    const display = await listen(f.tokens.display);
    await until(() => false, 100);
    const seen = async () => (await f.t.db.selectFrom('device').select('lastSeenAt').where('id', '=', f.deviceIds.display!).executeTakeFirstOrThrow()).lastSeenAt;
    expect((await seen())!.getTime()).toBeGreaterThanOrEqual(new Date('2026-11-24T09:20:00+07:00').getTime());
    expect(f.app.realtime.connectedDeviceIds()).toContain(f.deviceIds.display);

    // connected: each tick marks it seen, however long it stays
    at('09:30:00');
    expect(await monitor.tick()).toEqual([]);
    expect((await seen())!.getTime()).toBeGreaterThanOrEqual(new Date('2026-11-24T09:30:00+07:00').getTime());

    // it goes away at 09:31; at 09:32:59 it is not missing yet, at 09:33:01 it is
    at('09:31:00');
    display.socket.close();
    await until(() => !f.app.realtime.connectedDeviceIds().includes(f.deviceIds.display!));
    await until(() => false, 100);
    at('09:32:59');
    expect(await monitor.tick()).toEqual([]);
    at('09:33:01');
    const manager = await listen(f.tokens.manager);
    const raised = await monitor.tick();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      kind: 'device_offline', deviceId: f.deviceIds.display, device: { id: f.deviceIds.display, kind: 'display', name: 'display test' },
    });
    expect(raised[0]!.lastSeenAt).toMatch(/^2026-11-24T09:31:00\.\d{3}\+07:00$/);
    await until(() => manager.alerts().length === 1);
    at('09:40:00');
    expect(await monitor.tick()).toEqual([]);

    // it comes back: cleared; gone again later: a new alert
    await listen(f.tokens.display);
    at('09:41:00');
    expect(await monitor.tick()).toEqual([]);
    const first = await f.t.db.selectFrom('alert').select('data').where('id', '=', raised[0]!.id).executeTakeFirstOrThrow();
    expect(first.data.clearedAt).toBeDefined();
  });

  it('says nothing while the site is closed (a kiosk switched off at night), nor about devices never paired or revoked', async () => {
    await f.t.db.updateTable('device').set({ lastSeenAt: new Date('2026-11-24T10:00:00+07:00') }).where('id', '=', f.deviceIds.kiosk!).execute();
    await f.t.db.deleteFrom('alert').execute();
    at('12:30:00'); // the demo centre closes 11:30–13:30
    expect((await monitor.tick()).filter((a) => a.deviceId === f.deviceIds.kiosk)).toEqual([]);
    at('13:45:00');
    const open = await monitor.tick();
    expect(open.filter((a) => a.kind === 'device_offline').map((a) => a.deviceId)).toContain(f.deviceIds.kiosk);
    // never seen (lastSeenAt null): the rating tablet and counter device of the fixture are not listed
    expect(open.map((a) => a.deviceId)).not.toContain(f.deviceIds.rating);
    // revoked: its open alert is cleared, and no new one comes
    await f.app.inject({ method: 'DELETE', url: `/api/v1/devices/${f.deviceIds.kiosk}`, headers: bearer(f.tokens.manager) });
    at('13:50:00');
    expect(await monitor.tick()).toEqual([]);
    const alert = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'device_offline').where('deviceId', '=', f.deviceIds.kiosk!).executeTakeFirstOrThrow();
    expect(alert.data.clearedAt).toBeDefined();
  });
});

describe('alerts inserted elsewhere', () => {
  it('publishes a printer alert and a phone low rating once; a tablet low rating goes out at once from the rating route', async () => {
    at('14:00:00');
    const manager = await listen(f.tokens.manager);
    const printer = await f.t.db.insertInto('alert').values({
      siteId: f.siteId, kind: 'printer', deviceId: f.deviceIds.kiosk!, ticketId: null, counterId: null, staffId: null,
      data: JSON.stringify({ reason: 'paper_out', message: 'out of paper', count: 1 }), createdAt: clock.now(), acknowledgedAt: null, acknowledgedBy: null,
    }).returning('id').executeTakeFirstOrThrow();
    const phone = await f.t.db.insertInto('alert').values({
      siteId: f.siteId, kind: 'low_rating', deviceId: null, ticketId: null, counterId: null, staffId: null,
      data: JSON.stringify({ score: 1, reason: 'waiting' }), createdAt: clock.now(), acknowledgedAt: null, acknowledgedBy: null,
    }).returning('id').executeTakeFirstOrThrow();
    const published = (await monitor.tick()).filter((a) => a.kind !== 'device_offline'); // the display closed by the last test
    expect(published.map((a) => [a.id, a.kind])).toEqual([[printer.id, 'printer'], [phone.id, 'low_rating']]);
    expect(published[0]).toMatchObject({ reason: 'paper_out', count: 1, device: { id: f.deviceIds.kiosk, kind: 'kiosk' } });
    expect(await monitor.tick()).toEqual([]);
    await until(() => manager.alerts().length === 3);

    // the rating tablet's "Không hài lòng": published by the rating route itself, never again by the monitor
    await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
    const ticket = (await post(`/sites/${f.siteId}/tickets`, f.tokens.staff, { serviceId: f.services.HT })).json().ticket;
    await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    await post(`/tickets/${ticket.id}/finish`, f.tokens.staff);
    expect((await post(`/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 1, reason: 'attitude' })).statusCode).toBe(201);
    await until(() => manager.alerts().length === 4);
    expect(manager.alerts()[3]).toMatchObject({ kind: 'low_rating', ticket: { id: ticket.id }, score: 1, reason: 'attitude', counter: { number: 1 } });
    expect(await monitor.tick()).toEqual([]);
  });

  it('does the work on one process at a time (an advisory lock), so a crossing is raised once', async () => {
    const other = new SiteMonitor({ db: f.t.db, now: clock.now, alerts: f.app.services.alerts, publish: () => {}, connectedDeviceIds: () => [] });
    await f.t.db.deleteFrom('alert').execute();
    at('14:10:00');
    expect((await post(`/sites/${f.siteId}/tickets`, f.tokens.staff, { serviceId: f.services.DD })).statusCode).toBe(201);
    at('14:40:00'); // DD's target is 20 minutes
    const [a, b] = await Promise.all([monitor.tick(), other.tick()]);
    const both = [...a, ...b].filter((x) => x.kind === 'wait_over_target');
    expect(both).toHaveLength(1);
    expect((await f.t.db.selectFrom('alert').select('id').where('kind', '=', 'wait_over_target').execute())).toHaveLength(1);
  });
});
