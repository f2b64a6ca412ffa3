// Sign-in limits as an attacker meets them: per address and username, per username across
// addresses, and the client's address and scheme behind a trusted reverse proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { trustProxy, type Config } from '../../src/config.ts';
import { ADMIN_PASSWORD, apiFixture, type ApiFixture } from '../support/api-fixture.ts';

let f: ApiFixture;
const apps: App[] = [];

beforeAll(async () => {
  f = await apiFixture();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await f.app.close();
  await f.t.drop();
});

/** A server of its own (its own limiter counts) on the fixture's database. */
async function server(config: Partial<Config>): Promise<App> {
  const app = await buildApp({ db: f.t.db, serveUi: false, config: { rateLimits: true, ...config } });
  apps.push(app);
  return app;
}

function login(app: App, username: string, password: string, from = '127.0.0.1', headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: from, headers, payload: { username, password } });
}

async function statuses(times: number, attempt: (i: number) => Promise<{ statusCode: number }>) {
  const codes: number[] = [];
  for (let i = 0; i < times; i++) codes.push((await attempt(i)).statusCode);
  return codes;
}

describe('sign-in limits', () => {
  it('made-up names from an address do not lock the admin out of that address', async () => {
    const app = await server({ loginPerMinute: 10 });
    const codes = await statuses(12, () => login(app, 'ke-gia-mao', 'x', '203.0.113.7'));
    expect(codes).toEqual([...Array(10).fill(401), 429, 429]);
    expect((await login(app, 'admin', ADMIN_PASSWORD, '203.0.113.7')).statusCode).toBe(200);
  });

  it('limits one address guessing one account, however the name is typed, and nobody else', async () => {
    const app = await server({ loginPerMinute: 10 });
    const codes = await statuses(10, () => login(app, 'admin', 'wrong', '203.0.113.8'));
    expect(codes).toEqual(Array(10).fill(401));
    const limited = await login(app, 'ADMIN', ADMIN_PASSWORD, '203.0.113.8');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // the admin at another desk signs in
    expect((await login(app, 'admin', ADMIN_PASSWORD, '203.0.113.9')).statusCode).toBe(200);
  });

  it('limits one account guessed from many addresses, and only that account', async () => {
    const app = await server({ loginPerMinute: 10, loginPerUserPerHour: 5 });
    const codes = await statuses(7, (i) => login(app, 'admin', 'wrong', `198.51.100.${i + 1}`));
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await login(app, 'admin', ADMIN_PASSWORD, '198.51.100.99');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(60);
    expect((await login(app, 'canbo1', 'secret-password-1', '198.51.100.1')).statusCode).toBe(200);
  });

  it('counts the forwarded client address only from a trusted proxy', async () => {
    const proxied = await server({ loginPerMinute: 3, trustProxy: ['10.0.0.2'] });
    // four citizens' desks behind the proxy: each its own address
    const behind = await statuses(4, (i) => login(proxied, 'canbo2', 'wrong', '10.0.0.2', { 'x-forwarded-for': `192.0.2.${i + 10}` }));
    expect(behind).toEqual([401, 401, 401, 401]);
    // a client that talks to the server itself cannot choose its address
    const direct = await statuses(4, (i) => login(proxied, 'canbo2', 'wrong', '10.0.0.77', { 'x-forwarded-for': `192.0.2.${i + 10}` }));
    expect(direct).toEqual([401, 401, 401, 429]);

    const untrusting = await server({ loginPerMinute: 3 });
    const ignored = await statuses(4, (i) => login(untrusting, 'canbo2', 'wrong', '10.0.0.2', { 'x-forwarded-for': `192.0.2.${i + 10}` }));
    expect(ignored).toEqual([401, 401, 401, 429]);
  });

  it('sends the session cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const cookie = (reply: { headers: Record<string, unknown> }) => String(reply.headers['set-cookie']);
    const proxied = await server({ trustProxy: ['10.0.0.2'] });
    const https = { 'x-forwarded-for': '192.0.2.50', 'x-forwarded-proto': 'https' };
    const secure = await login(proxied, 'admin', ADMIN_PASSWORD, '10.0.0.2', https);
    expect(secure.statusCode).toBe(200);
    expect(cookie(secure)).toMatch(/qms_session=.*;\s*Secure/i);
    expect(cookie(secure)).toMatch(/HttpOnly/i);

    const plain = await login(proxied, 'admin', ADMIN_PASSWORD, '10.0.0.2', { 'x-forwarded-proto': 'http' });
    expect(cookie(plain)).not.toMatch(/Secure/i);
    // X-Forwarded-Proto from anyone else is a claim, not a fact
    const forged = await login(proxied, 'admin', ADMIN_PASSWORD, '10.0.0.77', https);
    expect(cookie(forged)).not.toMatch(/Secure/i);
  });
});

describe('QMS_TRUST_PROXY', () => {
  it('reads off, on, a number of proxies, or addresses and ranges, and refuses anything else', () => {
    expect(trustProxy(undefined)).toBe(false);
    expect(trustProxy('off')).toBe(false);
    expect(trustProxy('on')).toBe(true);
    expect(trustProxy('1')).toBe(1);
    expect(trustProxy(' 10.0.0.2, 192.168.0.0/16 ,::1 ')).toEqual(['10.0.0.2', '192.168.0.0/16', '::1']);
    expect(() => trustProxy('nginx.local')).toThrow(/QMS_TRUST_PROXY/);
    expect(() => trustProxy('10.0.0.2,;rm')).toThrow(/QMS_TRUST_PROXY/);
  });

  it('with a hop count, believes that many proxies and no more', async () => {
    const app = await server({ loginPerMinute: 2, trustProxy: 1 });
    // the nearest proxy saw 192.0.2.60; what the client itself put before it is not believed
    const codes = await statuses(3, (i) => login(app, 'canbo2', 'wrong', '10.0.0.2', { 'x-forwarded-for': `203.0.113.${i}, 192.0.2.60` }));
    expect(codes).toEqual([401, 401, 429]);
    const other = await login(app, 'canbo2', 'wrong', '10.0.0.2', { 'x-forwarded-for': '192.0.2.61' });
    expect(other.statusCode).toBe(401);
  });
});
