import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { SocketClients, until, type Listener } from '../support/sockets.ts';
import type { AlertRaised } from '../../src/routes/alert.routes.ts';

// Criticism pressed on a rating tablet (or kiosk, or by staff) reaches the site's managers live,
// is listed for them, and is acknowledged with who and when.

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // 09:00 in Ho Chi Minh City
const sockets = new SocketClients(() => base);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
  f.app.inject({
    method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}),
    ...(method === 'POST' ? { payload: (payload ?? {}) as object } : {}),
  });

// an administrator belongs to every site, so names the one to watch
const listening = (token: string): Promise<Listener> => sockets.listen(token === f.tokens.admin ? { token, siteId: f.siteId } : { token });

describe('POST /alerts/criticism', () => {
  it('records the counter, the official working it and the time, and tells managers at once (only managers)', async () => {
    await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
    const manager = await listening(f.tokens.manager);
    const admin = await listening(f.tokens.admin);
    const display = await listening(f.tokens.display);
    const official = await listening(f.tokens.staff);

    const res = await api('POST', '/alerts/criticism', f.tokens.rating, { comment: '  Cán bộ nói chuyện điện thoại riêng  ' });
    expect(res.statusCode).toBe(201);
    const { alert } = res.json();
    expect(alert).toEqual({
      id: expect.any(String), siteId: f.siteId, kind: 'criticism',
      createdAt: expect.stringMatching(/^2026-11-24T09:00:00\.\d{3}\+07:00$/),
      counter: { id: f.counters[1], number: 1, name: expect.any(String) },
      staff: { id: f.userIds.canbo1, displayName: 'Cán bộ canbo1' },
      ticket: null, deviceId: f.deviceIds.rating, comment: 'Cán bộ nói chuyện điện thoại riêng',
      score: null, reason: null, acknowledgedAt: null, acknowledgedBy: null,
      case: { status: 'new', owner: null, resolutionNote: null },
    });
    const row = await f.t.db.selectFrom('alert').selectAll().where('id', '=', alert.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'criticism', siteId: f.siteId, counterId: f.counters[1], staffId: f.userIds.canbo1, deviceId: f.deviceIds.rating });

    const raised = (l: { events: { name: string; payload: unknown }[] }) => l.events.filter((e) => e.name === 'alert:raised');
    await until(() => raised(manager).length > 0 && raised(admin).length > 0);
    expect(raised(manager).map((e) => e.payload as AlertRaised)).toEqual([{ alert }]);
    expect(raised(admin)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(raised(display)).toEqual([]);
    expect(raised(official)).toEqual([]);
  });

  it('works without a comment, from a kiosk (no counter) and from staff (their counter)', async () => {
    const silent = await api('POST', '/alerts/criticism', f.tokens.rating, {});
    expect(silent.statusCode).toBe(201);
    expect(silent.json().alert).toMatchObject({ comment: null, counter: { number: 1 } });

    const kiosk = await api('POST', '/alerts/criticism', f.tokens.kiosk, { comment: 'Máy lấy số bị kẹt giấy' });
    expect(kiosk.statusCode).toBe(201);
    expect(kiosk.json().alert).toMatchObject({ counter: null, staff: null, deviceId: f.deviceIds.kiosk });

    const staff = await api('POST', '/alerts/criticism', f.tokens.staff, { comment: 'Công dân phản ánh' });
    expect(staff.statusCode).toBe(201);
    expect(staff.json().alert).toMatchObject({ counter: { number: 1 }, staff: { id: f.userIds.canbo1 }, deviceId: null });

    // another site's kiosk raises it for its own site
    const other = await api('POST', '/alerts/criticism', f.tokens.otherKiosk, {});
    expect(other.json().alert.siteId).toBe(f.otherSiteId);
  });

  it('names nobody when the counter is closed', async () => {
    await api('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff);
    const res = await api('POST', '/alerts/criticism', f.tokens.rating, {});
    expect(res.json().alert).toMatchObject({ counter: { number: 1 }, staff: null });
    await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
  });

  it('refuses displays, counter devices and anonymous callers', async () => {
    expect((await api('POST', '/alerts/criticism', undefined, {})).statusCode).toBe(401);
    expect((await api('POST', '/alerts/criticism', f.tokens.display, {})).statusCode).toBe(403);
    expect((await api('POST', '/alerts/criticism', f.tokens.counterDevice, {})).statusCode).toBe(403);
  });

  it('validates the body: a comment of at most 500 characters and nothing else', async () => {
    const cases: unknown[] = [{ comment: 'x'.repeat(501) }, { comment: 42 }, { comment: 'ok', counterId: f.counters[2] }, { staffId: f.userIds.canbo2 }, []];
    for (const payload of cases) {
      const res = await api('POST', '/alerts/criticism', f.tokens.rating, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const bad = await f.app.inject({ method: 'POST', url: '/api/v1/alerts/criticism', headers: { ...bearer(f.tokens.rating), 'content-type': 'application/json' }, payload: '{"comment":' });
    expect(bad.statusCode).toBe(400);
    expect((await api('POST', '/alerts/criticism', f.tokens.rating, { comment: 'x'.repeat(500) })).statusCode).toBe(201);
  });
});

describe('GET /sites/:id/alerts and POST /alerts/:id/acknowledge', () => {
  it('lists the site\'s alerts newest first for managers, low ratings included', async () => {
    // a ticket served and rated "Không hài lòng" raises a low_rating alert (rating service)
    await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    clock.advance(60);
    const called = (await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff)).json().ticket;
    clock.advance(60);
    await api('POST', `/tickets/${called.id}/finish`, f.tokens.staff);
    expect((await api('POST', `/tickets/${called.id}/rating`, f.tokens.rating, { score: 1, reason: 'attitude' })).statusCode).toBe(201);

    const res = await api('GET', `/sites/${f.siteId}/alerts?open=1`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    const { alerts } = res.json();
    expect(alerts.every((a: { siteId: string }) => a.siteId === f.siteId)).toBe(true);
    const low = alerts.find((a: { kind: string }) => a.kind === 'low_rating');
    expect(low).toMatchObject({ ticket: { id: called.id, code: called.code }, score: 1, reason: 'attitude', staff: { id: f.userIds.canbo1 }, counter: { number: 1 } });
    expect(alerts.filter((a: { kind: string }) => a.kind === 'criticism').length).toBe(6);
    const times = alerts.map((a: { createdAt: string }) => a.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await api('GET', `/sites/${f.siteId}/alerts?limit=2`, f.tokens.admin)).json().alerts).toHaveLength(2);
  });

  it('acknowledges with who and when; the first acknowledgement stands; open=1 then leaves it out', async () => {
    const manager = await listening(f.tokens.manager);
    const [first] = (await api('GET', `/sites/${f.siteId}/alerts?open=1`, f.tokens.manager)).json().alerts;
    clock.advance(30);
    const res = await api('POST', `/alerts/${first.id}/acknowledge`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    const acked = res.json().alert;
    expect(acked).toMatchObject({ id: first.id, acknowledgedBy: { id: f.userIds.manager, displayName: 'Cán bộ manager' } });
    expect(acked.acknowledgedAt).toMatch(/\+07:00$/);
    const row = await f.t.db.selectFrom('alert').select(['acknowledgedAt', 'acknowledgedBy']).where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(row.acknowledgedBy).toBe(f.userIds.manager);

    clock.advance(30);
    const again = await api('POST', `/alerts/${first.id}/acknowledge`, f.tokens.admin);
    expect(again.statusCode).toBe(200);
    expect(again.json().alert).toEqual(acked);

    await until(() => manager.events.some((e) => e.name === 'alert:acknowledged'));
    expect(manager.events.filter((e) => e.name === 'alert:acknowledged').map((e) => e.payload)).toEqual([{ alert: acked }]);

    const open = (await api('GET', `/sites/${f.siteId}/alerts?open=1`, f.tokens.manager)).json().alerts;
    expect(open.map((a: { id: string }) => a.id)).not.toContain(first.id);
    const everything = (await api('GET', `/sites/${f.siteId}/alerts`, f.tokens.manager)).json().alerts;
    expect(everything.map((a: { id: string }) => a.id)).toContain(first.id);
  });

  it('is for managers of the site only, and validates input', async () => {
    const [one] = (await api('GET', `/sites/${f.siteId}/alerts`, f.tokens.manager)).json().alerts;
    expect((await api('GET', `/sites/${f.siteId}/alerts`)).statusCode).toBe(401);
    expect((await api('POST', `/alerts/${one.id}/acknowledge`)).statusCode).toBe(401);
    for (const token of [f.tokens.staff, f.tokens.staff2, f.tokens.otherStaff, f.tokens.kiosk, f.tokens.display, f.tokens.counterDevice, f.tokens.rating]) {
      expect((await api('GET', `/sites/${f.siteId}/alerts`, token)).statusCode).toBe(403);
      expect((await api('POST', `/alerts/${one.id}/acknowledge`, token)).statusCode).toBe(403);
    }
    for (const bad of ['?open=yes', '?limit=0', '?limit=-1', '?limit=ten', '?kind=Criticism!', '?group=all', '?case=open', '?sort=1']) {
      const res = await api('GET', `/sites/${f.siteId}/alerts${bad}`, f.tokens.manager);
      expect(res.statusCode, bad).toBe(400);
    }
    expect((await api('POST', '/alerts/nope/acknowledge', f.tokens.manager)).statusCode).toBe(400);
    const missing = await api('POST', '/alerts/00000000-0000-4000-8000-000000000000/acknowledge', f.tokens.manager);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('ALERT_NOT_FOUND');
  });
});
