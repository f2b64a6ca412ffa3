import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, ADMIN_PASSWORD, bearer, count, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const post = (url: string, token: string | undefined, payload?: unknown) =>
  f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
const get = (url: string, token?: string) => f.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: token ? bearer(token) : {} });

describe('a citizen from kiosk to rating, through the API', () => {
  it('issues, calls, serves, rates once, and shows the phone page', async () => {
    const issued = await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, priority: 'elderly' });
    expect(issued.statusCode).toBe(201);
    const { ticket } = issued.json();
    expect(ticket).toMatchObject({ code: 'A001', status: 'waiting', priority: 'elderly', position: 0, estimatedWaitSeconds: 0, siteId: f.siteId });

    const publicView = await get(`/public/tickets/${ticket.publicId}`);
    expect(publicView.statusCode).toBe(200);
    expect(publicView.json()).toMatchObject({ code: 'A001', status: 'waiting', position: 0 });

    expect((await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff, {})).json())
      .toMatchObject({ error: { code: 'COUNTER_NOT_OPEN' } });
    const opened = await post(`/counters/${f.counters[1]}/open`, f.tokens.staff, {});
    expect(opened.statusCode).toBe(200);
    expect(opened.json().counter).toMatchObject({ number: 1, status: 'open', staff: { displayName: 'Cán bộ canbo1' } });
    expect((await post(`/counters/${f.counters[1]}/open`, f.tokens.staff2, {})).statusCode).toBe(409);

    const called = await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff, {});
    expect(called.statusCode).toBe(200);
    expect(called.json().ticket).toMatchObject({ code: 'A001', status: 'called', counterId: f.counters[1] });
    expect((await get(`/public/tickets/${ticket.publicId}`)).json()).toMatchObject({ status: 'called', counter: { number: 1 } });

    expect((await post(`/tickets/${ticket.id}/recall`, f.tokens.counterDevice, {})).statusCode).toBe(200);
    // the counter's ticket comes with its latest call, the recall (GET /queue, as queue:snapshot)
    const recalled = (await get(`/sites/${f.siteId}/queue`, f.tokens.display)).json();
    expect(recalled.recentCalls.map((c: { ticket: { code: string } }) => c.ticket.code)).toEqual(['A001', 'A001']);
    expect(recalled.counters.find((c: { number: number }) => c.number === 1)).toMatchObject({ ticket: { code: 'A001' }, lastCallAt: recalled.recentCalls[0].at });
    expect(recalled.recentCalls[0].at).not.toBe(recalled.recentCalls[1].at);
    expect((await post(`/tickets/${ticket.id}/start`, f.tokens.staff, {})).json().ticket.status).toBe('serving');
    // rating before the ticket is served
    expect((await post(`/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 3 })).json()).toMatchObject({ error: { code: 'TICKET_NOT_SERVED' } });
    const finished = await post(`/tickets/${ticket.id}/finish`, f.tokens.staff, {});
    expect(finished.json().ticket).toMatchObject({ status: 'done', finishedAt: expect.stringMatching(/\+07:00$/) });
    expect((await post(`/tickets/${ticket.id}/finish`, f.tokens.staff, {})).json()).toMatchObject({ error: { code: 'TICKET_NOT_IN_SERVICE' } });

    const rated = await post(`/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 1, reason: 'waiting' });
    expect(rated.statusCode).toBe(201);
    const again = await post(`/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 3 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_RATED');
    const stored = await f.t.db.selectFrom('rating').selectAll().where('ticketId', '=', ticket.id).execute();
    expect(stored).toEqual([expect.objectContaining({ score: 1, reason: 'waiting', counterId: f.counters[1], staffId: f.userIds.canbo1 })]);
    const alerts = await f.t.db.selectFrom('alert').select(['kind', 'ticketId']).execute();
    expect(alerts).toEqual([{ kind: 'low_rating', ticketId: ticket.id }]);

    const queue = await get(`/sites/${f.siteId}/queue`, f.tokens.display);
    expect(queue.statusCode).toBe(200);
    expect(queue.json()).toMatchObject({ services: expect.any(Array), counters: expect.any(Array), recentCalls: [{ ticket: { code: 'A001' } }, { ticket: { code: 'A001' } }] });
    // its response schema (the OpenAPI document's) drops nothing the screens get in queue:snapshot
    const snapshot = JSON.parse(JSON.stringify(await f.app.services.queue.snapshot(f.siteId)));
    expect(queue.json()).toEqual({ ...snapshot, at: expect.any(String) });
    expect((await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff, {})).statusCode).toBe(204);
  });

  it('transfers a ticket to another service keeping its code', async () => {
    const { ticket } = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json();
    await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff, {});
    const moved = await post(`/tickets/${ticket.id}/transfer`, f.tokens.staff, { serviceId: f.services.CT });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().ticket).toMatchObject({ code: ticket.code, status: 'waiting', serviceId: f.services.CT });
    const got = await get(`/tickets/${ticket.id}`, f.tokens.manager);
    expect(got.json().ticket).toMatchObject({ serviceId: f.services.CT, transferCount: 1 });
  });
});

describe('auth', () => {
  it('logs in with a password, sets an httpOnly cookie that also works, and logs out', async () => {
    const wrong = await post('/auth/login', undefined, { username: 'admin', password: 'nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password' } });
    const ok = await post('/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ token: expect.stringMatching(/^qs_/), user: { username: 'admin', role: 'admin' } });
    const cookie = ok.cookies.find((c) => c.name === 'qms_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, value: ok.json().token });
    const me = await f.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { qms_session: cookie.value } });
    expect(me.json()).toMatchObject({ kind: 'staff', user: { username: 'admin' } });
    expect((await post('/auth/logout', ok.json().token)).statusCode).toBe(204);
    expect((await get('/auth/me', ok.json().token)).statusCode).toBe(401);
  });

  it('pairs a device with a one-time code and revokes it at once', async () => {
    const created = await post(`/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV sảnh' });
    expect(created.statusCode).toBe(201);
    const { device, pairingCode } = created.json();
    expect(pairingCode).toMatch(/^\d{6}$/);
    const paired = await post('/devices/pair', undefined, { code: pairingCode });
    expect(paired.statusCode).toBe(200);
    const token = paired.json().token;
    expect((await get(`/sites/${f.siteId}/queue`, token)).statusCode).toBe(200);
    expect((await post('/devices/pair', undefined, { code: pairingCode })).statusCode).toBe(401);
    expect((await f.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: bearer(f.tokens.manager) })).statusCode).toBe(204);
    expect((await get(`/sites/${f.siteId}/queue`, token)).statusCode).toBe(401);
  });

  it('rate-limits logins and ticket issuing when limits are on', async () => {
    const limited = await apiFixture({ clock: clock.now, config: { rateLimits: true, loginPerMinute: 3, ticketsPerMinute: 2 } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) {
        codes.push((await limited.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'x' } })).statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      const issues = [];
      for (let i = 0; i < 4; i++) {
        issues.push((await limited.app.inject({ method: 'POST', url: `/api/v1/sites/${limited.siteId}/tickets`, headers: bearer(limited.tokens.kiosk), payload: { serviceId: limited.services.HT } })).statusCode);
      }
      expect(issues).toEqual([201, 201, 429, 429]);
      expect(await count(limited.t.db, 'ticket')).toBe(2);
    } finally {
      await limited.app.close();
      await limited.t.drop();
    }
  });
});

describe('bad input', () => {
  const url = () => `/api/v1/sites/${f.siteId}/tickets`;
  const cases: [string, () => Record<string, unknown>][] = [
    ['malformed JSON', () => ({ payload: '{"serviceId": ', headers: { 'content-type': 'application/json' } })],
    ['wrong type', () => ({ payload: { serviceId: 42 } })],
    ['not a uuid', () => ({ payload: { serviceId: "x' OR 1=1 --" } })],
    ['unknown field', () => ({ payload: { serviceId: f.services.HT, status: 'done' } })],
    ['prototype pollution', () => ({ payload: '{"serviceId":"' + f.services.HT + '","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } })],
    ['huge body', () => ({ payload: { serviceId: f.services.HT, lang: 'x'.repeat(200_000) } })],
    ['unknown priority', () => ({ payload: { serviceId: f.services.HT, priority: 'vip' } })],
    ['array body', () => ({ payload: [1, 2, 3] })],
  ];

  it.each(cases)('%s: 4xx with an error code, nothing stored', async (_name, make) => {
    const before = await count(f.t.db, 'ticket');
    const events = await count(f.t.db, 'ticketEvent');
    const options = make();
    const res = await f.app.inject({ method: 'POST', url: url(), ...options, headers: { ...bearer(f.tokens.kiosk), ...(options.headers as object) } });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json()).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(res.body).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(await count(f.t.db, 'ticket')).toBe(before);
    expect(await count(f.t.db, 'ticketEvent')).toBe(events);
  });

  it('answers 404 with the error shape for unknown routes and ids', async () => {
    expect((await get('/nope')).json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const missing = await get('/tickets/00000000-0000-4000-8000-000000000000', f.tokens.admin);
    expect(missing.statusCode).toBe(404);
    expect((await get('/tickets/not-a-uuid', f.tokens.admin)).statusCode).toBe(400);
  });

  it('serves the OpenAPI document generated from the route schemas', async () => {
    const doc = await f.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json().paths);
    for (const p of ['/api/v1/sites/{siteId}/tickets', '/api/v1/counters/{counterId}/call-next', '/api/v1/tickets/{ticketId}/rating', '/api/v1/auth/login']) {
      expect(paths).toContain(p);
    }
    expect((await f.app.inject({ method: 'GET', url: '/api/docs' })).statusCode).toBeLessThan(400);
  });
});
