import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, listenLocally, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { nextEvent, SocketClients } from '../support/sockets.ts';

// GET /metrics over real HTTP on 127.0.0.1, and request ids.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
let base: string;
let guarded: ApiFixture;
let guardedBase: string;
const sockets = new SocketClients(() => base);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
  guarded = await apiFixture({ config: { metricsToken: 'scrape-secret-123' } });
  guardedBase = await listenLocally(guarded.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
  await guarded?.app.close();
  await guarded?.t.drop();
});

const post = (url: string, token: string, payload: object = {}) =>
  f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
const value = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('GET /metrics', () => {
  it('counts tickets issued and called per site and service, and what waits now', async () => {
    for (let i = 0; i < 3; i++) expect((await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).statusCode).toBe(201);
    await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
    expect((await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff)).statusCode).toBe(200);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const at = `site="${f.siteId}",service="${f.services.HT}"`;
    expect(value(text, 'qms_tickets_issued_total', at)).toBe(3);
    expect(value(text, 'qms_tickets_called_total', at)).toBe(1);
    expect(value(text, 'qms_waiting', at)).toBe(2);
    expect(value(text, 'qms_longest_wait_seconds', at)).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^qms_call_to_send_seconds_count 1$/m);
    // no display answered: nothing reached one as far as the server knows
    expect(text).toMatch(/^qms_call_to_display_seconds_count 0$/m);
    expect(text).toMatch(/^qms_nodejs_eventloop_lag_seconds /m);
    expect(value(text, 'qms_db_pool_connections', 'pool="app",state="total"')).toBeGreaterThanOrEqual(1);
    // every metric the Grafana dashboard in docs queries is one this server exports
    const dashboard = await readFile(path.resolve(import.meta.dirname, '../../../docs/grafana/qms.json'), 'utf8');
    const queried = new Set([...dashboard.matchAll(/\b(qms_[a-z0-9_]+)/g)].map((m) => m[1]!));
    expect(queried.size).toBeGreaterThan(5);
    for (const name of queried) expect(text, name).toMatch(new RegExp(`^${name}[ {]`, 'm'));
  });

  it('measures a call reaching a display from the display\'s answer, once per display and call', async () => {
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    const count = (text: string) => Number(/^qms_call_to_display_seconds_count (\S+)$/m.exec(text)?.[1]);
    const sum = (text: string) => Number(/^qms_call_to_display_seconds_sum (\S+)$/m.exec(text)?.[1]);
    const before = await scrape();
    const display = await sockets.listen({ token: f.tokens.display });
    const kiosk = await sockets.listen({ token: f.tokens.kiosk });
    expect((await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).statusCode).toBe(201);
    const heard = nextEvent(display.socket, 'ticket:called');
    const kioskHeard = nextEvent(kiosk.socket, 'ticket:called');
    await post(`/counters/${f.counters[2]}/open`, f.tokens.staff2);
    expect((await post(`/counters/${f.counters[2]}/call-next`, f.tokens.staff2)).statusCode).toBe(200);
    const call = await heard;
    const receipt = { ticketId: call.ticket.id, calledAt: call.ticket.calledAt! };
    // a kiosk is no display, a second answer from the same display is the same call
    await kioskHeard;
    kiosk.socket.emit('call:displayed', receipt);
    display.socket.emit('call:displayed', receipt);
    display.socket.emit('call:displayed', receipt);
    // nonsense is ignored: not a call of the last minutes, not the shape
    display.socket.emit('call:displayed', { ticketId: call.ticket.id, calledAt: '2001-01-01T00:00:00Z' });
    display.socket.emit('call:displayed', { ticketId: 7, calledAt: 'soon' } as never);
    let after = await scrape();
    for (const end = Date.now() + 3000; count(after) === count(before) && Date.now() < end; after = await scrape()) await sleep(20);
    await sleep(200); // time for an answer that should not count to be counted anyway
    after = await scrape();
    expect(count(after) - count(before)).toBe(1);
    const seconds = sum(after) - sum(before);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5);
  });

  it('is not for the public: through a proxy 404, and with a token only with that token', async () => {
    const proxied = await fetch(`${base}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(404);
    expect(await proxied.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route GET /metrics' } });
    const anonymous = await fetch(`${guardedBase}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect((await fetch(`${guardedBase}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${guardedBase}/metrics`, { headers: { authorization: 'Bearer scrape-secret-123' } })).status).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('has /metrics with its answers, and every part /api/health names', async () => {
    const doc = f.app.swagger() as { paths: Record<string, { get: { responses: Record<string, { content?: Record<string, { schema: { properties?: object } }> }> } }> };
    expect(Object.keys(doc.paths['/metrics']!.get.responses).sort()).toEqual(['200', '401', '404']);
    expect(Object.keys(doc.paths['/metrics']!.get.responses['200']!.content!)[0]).toMatch(/^text\/plain/);
    const health = doc.paths['/api/health']!.get.responses['503']!.content!['application/json']!.schema.properties;
    expect(Object.keys(health!)).toEqual(expect.arrayContaining(['status', 'db', 'embeddedPostgres', 'socketAdapter', 'dayEnd', 'down']));
  });
});

describe('request ids', () => {
  it('answers with the X-Request-Id it was sent when it is a sane one, and with a new one otherwise', async () => {
    const given = await fetch(`${base}/api/health`, { headers: { 'x-request-id': 'nginx-4f2a.9_1' } });
    expect(given.headers.get('x-request-id')).toBe('nginx-4f2a.9_1');
    const bad = await fetch(`${base}/api/health`, { headers: { 'x-request-id': 'x'.repeat(65) } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await fetch(`${base}/api/health`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
