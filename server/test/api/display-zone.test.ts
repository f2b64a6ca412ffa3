import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@qms/protocol/client';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';

// A display's zone (PUT /devices/:deviceId/zone, kept in device.settings.zone) and the read a
// device makes of its own settings (GET /devices/me).

let f: ApiFixture;

beforeAll(async () => {
  f = await apiFixture();
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'PUT', url: string, token?: string, payload?: unknown) =>
  f.app.inject({
    method, url: `/api/v1${url}`,
    headers: { ...(token ? bearer(token) : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  });
const setZone = (body: unknown, token = f.tokens.manager, deviceId = f.deviceIds.display!) => api('PUT', `/devices/${deviceId}/zone`, token, body);
const settingsOf = async (deviceId: string) =>
  (await f.t.db.selectFrom('device').select('settings').where('id', '=', deviceId).executeTakeFirstOrThrow()).settings;

describe('GET /api/v1/devices/me', () => {
  it('gives a device itself and its settings', async () => {
    const res = await api('GET', '/devices/me', f.tokens.display);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      device: { id: f.deviceIds.display, siteId: f.siteId, kind: 'display', name: 'display test', counterId: null },
      settings: {},
    });
    const kiosk = (await api('GET', '/devices/me', f.tokens.kiosk)).json();
    expect(kiosk.device).toMatchObject({ id: f.deviceIds.kiosk, kind: 'kiosk' });
  });

  it('is for devices only', async () => {
    expect((await api('GET', '/devices/me')).statusCode).toBe(401);
    expect((await api('GET', '/devices/me', f.tokens.manager)).statusCode).toBe(403);
    expect((await api('GET', '/devices/me', f.tokens.admin)).statusCode).toBe(403);
  });
});

describe('PUT /api/v1/devices/:deviceId/zone', () => {
  it('sets, reads back (as the display) and clears a zone, keeping the other settings', async () => {
    await f.t.db.updateTable('device').set({ settings: JSON.stringify({ other: 1 }) }).where('id', '=', f.deviceIds.display!).execute();
    const zone = { counterIds: [f.counters[1], f.counters[2], f.counters[1]], serviceIds: [f.services.HT] };
    const set = await setZone(zone);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ deviceId: f.deviceIds.display, zone: { counterIds: [f.counters[1], f.counters[2]], serviceIds: [f.services.HT] } });
    expect(await settingsOf(f.deviceIds.display!)).toEqual({ other: 1, zone: { counterIds: [f.counters[1], f.counters[2]], serviceIds: [f.services.HT] } });

    // the display reads it through the typed client's token
    const me = (await api('GET', '/devices/me', f.tokens.display)).json();
    expect(me.settings.zone).toEqual({ counterIds: [f.counters[1], f.counters[2]], serviceIds: [f.services.HT] });

    // one dimension only; empty lists mean "no limit"
    expect((await setZone({ serviceIds: [f.services.CT], counterIds: [] }, f.tokens.admin)).json().zone).toEqual({ serviceIds: [f.services.CT] });
    expect(await settingsOf(f.deviceIds.display!)).toEqual({ other: 1, zone: { serviceIds: [f.services.CT] } });

    for (const whole of [null, {}, { counterIds: [] }]) {
      const cleared = await setZone(whole);
      expect(cleared.statusCode).toBe(200);
      expect(cleared.json()).toEqual({ deviceId: f.deviceIds.display, zone: null });
      expect(await settingsOf(f.deviceIds.display!)).toEqual({ other: 1 });
    }
  });

  it('tells the site\'s screens (site:updated, parts zones) without closing the display\'s socket', async () => {
    await f.app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`;
    const socket = createClient({ baseUrl, token: f.tokens.display }).connect();
    try {
      let snapshots = 0;
      let disconnects = 0;
      const updates: { siteId: string; parts: string[] }[] = [];
      socket.on('queue:snapshot', () => snapshots++);
      socket.on('disconnect', () => disconnects++);
      socket.on('site:updated', (u) => updates.push(u));
      await expect.poll(() => snapshots, { timeout: 5000 }).toBe(1);
      expect((await setZone({ counterIds: [f.counters[3]] })).statusCode).toBe(200);
      await expect.poll(() => updates, { timeout: 5000 }).toEqual([{ siteId: f.siteId, parts: ['zones'] }]);
      // the display stays connected (a reconnection could miss a call), and reads its zone again
      expect(disconnects).toBe(0);
      expect(snapshots).toBe(1);
      expect(socket.connected).toBe(true);
      expect((await api('GET', '/devices/me', f.tokens.display)).json().settings.zone).toEqual({ counterIds: [f.counters[3]] });
    } finally {
      socket.close();
    }
  });

  it('reads a display\'s zone back for the manager (GET), null for the whole site', async () => {
    const read = await api('GET', `/devices/${f.deviceIds.display}/zone`, f.tokens.manager);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ deviceId: f.deviceIds.display, zone: { counterIds: [f.counters[3]] } });
    expect((await api('GET', `/devices/${f.deviceIds.display}/zone`, f.tokens.staff)).statusCode).toBe(403);
    expect((await api('GET', `/devices/${f.deviceIds.display}/zone`, f.tokens.otherStaff)).statusCode).toBe(403);
    expect((await api('GET', `/devices/${f.deviceIds.kiosk}/zone`, f.tokens.manager)).json().error.code).toBe('NOT_A_DISPLAY');
    expect((await api('GET', '/devices/00000000-0000-4000-8000-000000000000/zone', f.tokens.manager)).statusCode).toBe(404);
    // with a brand new display: no zone
    const fresh = await f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/devices`, headers: { ...bearer(f.tokens.manager), 'content-type': 'application/json' },
      payload: JSON.stringify({ kind: 'display', name: 'second display' }),
    });
    expect(fresh.statusCode).toBe(201);
    const id = fresh.json().device.id as string;
    expect((await api('GET', `/devices/${id}/zone`, f.tokens.manager)).json()).toEqual({ deviceId: id, zone: null });
  });

  it('is refused to anyone but a manager of that site, and for devices that are not displays', async () => {
    const body = { counterIds: [f.counters[1]] };
    expect((await setZone(body, '')).statusCode).toBe(401);
    expect((await setZone(body, f.tokens.staff)).statusCode).toBe(403);
    expect((await setZone(body, f.tokens.display)).statusCode).toBe(403);
    expect((await setZone(body, f.tokens.otherStaff)).statusCode).toBe(403);
    const notDisplay = await setZone(body, f.tokens.manager, f.deviceIds.kiosk);
    expect(notDisplay.statusCode).toBe(400);
    expect(notDisplay.json().error.code).toBe('NOT_A_DISPLAY');
    expect((await setZone(body, f.tokens.manager, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('validates the zone: uuids of this site only, no unknown fields', async () => {
    const other = await f.t.db.selectFrom('counter').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow();
    const foreign = await setZone({ counterIds: [f.counters[1], other.id] });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('COUNTER_NOT_FOUND');
    const otherService = await f.t.db.selectFrom('service').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow();
    expect((await setZone({ serviceIds: [otherService.id] })).json().error.code).toBe('SERVICE_NOT_FOUND');
    for (const bad of [{ counterIds: ['not-a-uuid'] }, { counters: [f.counters[1]] }, { counterIds: f.counters[1] }, 'all', [f.counters[1]]]) {
      const res = await setZone(bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
    // nothing refused was stored: the zone set by the test before is still there
    expect((await settingsOf(f.deviceIds.display!)).zone).toEqual({ counterIds: [f.counters[3]] });
  });

  it('is listed in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(doc.paths['/api/v1/devices/{deviceId}/zone'].put).toBeDefined();
    expect(doc.paths['/api/v1/devices/{deviceId}/zone'].get).toBeDefined();
    expect(doc.paths['/api/v1/devices/me'].get).toBeDefined();
  });
});
