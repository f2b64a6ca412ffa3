import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { apiFixture, listenLocally, type ApiFixture } from '../support/api-fixture.ts';

// The headers every response carries, and the socket.io handshake's Origin check. The pages
// themselves are loaded under the policy in Chromium by e2e/test/security-headers.e2e.test.ts.

let f: ApiFixture;
let baseUrl: string;

beforeAll(async () => {
  f = await apiFixture({ serveUi: true, config: { rateLimits: false, publicUrl: 'https://hcc.example.gov.vn' } });
  baseUrl = await listenLocally(f.app);
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

describe('security headers', () => {
  it('every screen, the API docs, the phone page, errors and API replies forbid framing and sniffing', async () => {
    const urls = ['/kiosk/', '/display/', '/counter/', '/rating/', '/manage/', '/manage/some/client/route', '/api/docs', '/api/docs/',
      '/t/no-such-ticket-id', '/no-such-page', '/api/health', '/api/v1/sites'];
    for (const url of urls) {
      const res = await f.app.inject({ url });
      expect(res.statusCode, url).toBeLessThan(500);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toMatch(/(^|; )script-src '(self|nonce-[A-Za-z0-9+/=]+)'(;|$)/);
      expect(csp, url).toMatch(/(^|; )(object-src|default-src) 'none'/);
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toMatch(/^(same-origin|no-referrer)$/);
    }
  });

  it('keeps the phone page\'s own policy, with the nonce of its inline script', async () => {
    const res = await f.app.inject({ url: '/t/no-such-ticket-id' });
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('lets swagger-ui add its <style> to the API docs, and nothing else inline', async () => {
    for (const url of ['/api/docs', '/api/docs/']) {
      const csp = String((await f.app.inject({ url })).headers['content-security-policy']);
      expect(csp, url).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp, url).toContain("script-src 'self';");
    }
    expect(String((await f.app.inject({ url: '/manage/' })).headers['content-security-policy'])).toContain("style-src 'self';");
  });
});

describe('socket.io handshake Origin', () => {
  /** Connects with the kiosk's token and the given Origin header; resolves how it went. */
  const handshake = (origin: string | undefined, transport: 'websocket' | 'polling') => new Promise<string>((resolve) => {
    const socket = connect(baseUrl, {
      auth: { token: f.tokens.kiosk }, transports: [transport], reconnection: false, forceNew: true,
      ...(origin ? { extraHeaders: { origin } } : {}),
    });
    const done = (result: string) => {
      socket.close();
      resolve(result);
    };
    socket.once('queue:snapshot', () => done('connected'));
    socket.once('connect_error', (error) => done(`refused: ${error.message}`));
  });

  it('refuses a foreign Origin and accepts none, the same origin and QMS_PUBLIC_URL\'s', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await handshake('https://evil.example', transport), transport).toMatch(/^refused/);
      expect(await handshake('null', transport), transport).toMatch(/^refused/);
      // same host name, another port: another origin
      expect(await handshake(baseUrl.replace(/:\d+$/, ':1'), transport), transport).toMatch(/^refused/);
      expect(await handshake(undefined, transport), transport).toBe('connected');
      expect(await handshake(baseUrl, transport), transport).toBe('connected');
      expect(await handshake('https://hcc.example.gov.vn', transport), transport).toBe('connected');
    }
  });
});
