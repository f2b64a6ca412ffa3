import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@qms/db';
import type { TicketCalled } from '@qms/protocol';
import { DEBIAN_NGINX_CONF, listening, localExampleSite, localNginxConf, nginxWorkers, selfSignedCertificate, startNginx } from '../../bench/src/lib/nginx.ts';
import { apiFixture, PASSWORD, type ApiFixture, listenLocally } from '../../server/test/support/api-fixture.ts';
import { TestClock } from '../../server/test/support/queue-fixture.ts';

// The production path of docs/install.md, end to end: Debian's nginx with the example site
// (deploy/nginx/qms.conf as shipped, a certificate of this test's), the server behind it on
// 127.0.0.1 trusting that proxy (QMS_TRUST_PROXY=127.0.0.1), and clients that speak only HTTPS
// to nginx: a display's socket, a kiosk issuing, an official signing in and calling.

let f: ApiFixture;
let dir: string;
let nginx: ChildProcess;
let base: string;
let ca: string;
let httpPort: number;
const sockets: Socket[] = [];
// a Monday at 09:00 in Hà Nội: the demo centre is open, whatever the hour the test runs at
const clock = new TestClock('2026-11-23T02:00:00Z');

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, trustProxy: ['127.0.0.1'] } });
  const upstreamPort = Number(new URL(await listenLocally(f.app)).port);
  dir = await mkdtemp(path.join(tmpdir(), 'qms-nginx-tls-'));
  const { cert, key } = selfSignedCertificate(dir);
  ca = readFileSync(cert, 'utf8');
  const port = await freePort();
  httpPort = await freePort();
  await writeFile(path.join(dir, 'site.conf'), localExampleSite({ port, httpPort, upstreamPort, cert, key }));
  await writeFile(path.join(dir, 'nginx.conf'), localNginxConf(readFileSync(DEBIAN_NGINX_CONF, 'utf8'), dir, 1));
  nginx = startNginx(dir);
  await listening(port);
  base = `https://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  nginx?.kill();
  await f?.app.close();
  await f?.t.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A request over HTTPS through nginx, trusting the test's certificate. */
function request(method: string, url: string, options: { token?: string; body?: object } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const payload = options.body ? JSON.stringify(options.body) : undefined;
    const req = https.request(url, {
      method, ca,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const api = (method: string, route: string, options: { token?: string; body?: object } = {}) => request(method, `${base}/api/v1${route}`, options);

/** The display's socket through nginx, once its snapshot has come. */
async function connectDisplay() {
  const display = io(base, { auth: { token: f.tokens.display }, transports: ['websocket'], reconnection: false, forceNew: true, ca });
  sockets.push(display);
  const snapshot = await new Promise<{ siteId: string }>((resolve, reject) => {
    display.once('queue:snapshot', resolve);
    display.once('connect_error', reject);
  });
  return { display, snapshot };
}

describe('through nginx with TLS, as install.md sets a server up', () => {
  it('a display\'s socket gets its snapshot and the calls an official makes over HTTPS', async () => {
    const { display, snapshot } = await connectDisplay();
    expect(snapshot.siteId).toBe(f.siteId);

    const issued = await api('POST', `/sites/${f.siteId}/tickets`, { token: f.tokens.kiosk, body: { serviceId: f.services.HT } });
    expect(issued.status).toBe(201);
    expect(await api('POST', `/counters/${f.counters[1]}/open`, { token: f.tokens.staff })).toMatchObject({ status: 200 });
    const called = new Promise<TicketCalled>((resolve) => display.once('ticket:called', resolve));
    const call = await api('POST', `/counters/${f.counters[1]}/call-next`, { token: f.tokens.staff });
    expect(call.status).toBe(200);
    expect((await called).ticket.code).toBe(issued.body.ticket.code);
    // the counter free again for the next test
    expect(await api('POST', `/tickets/${call.body.ticket.id}/no-show`, { token: f.tokens.staff })).toMatchObject({ status: 200 });
  });

  it('a reload of nginx (certbot\'s, after a renewal) keeps a display connected, and it still gets the calls', async () => {
    const { display } = await connectDisplay();
    const disconnects: string[] = [];
    display.on('disconnect', (reason) => disconnects.push(reason));

    const [worker] = nginxWorkers(nginx.pid!);
    expect(worker?.old).toBe(false);
    nginx.kill('SIGHUP');
    // the worker that holds the display is told to shut down, and a new one takes new connections
    await expect.poll(() => nginxWorkers(nginx.pid!).map((w) => [w.pid === worker!.pid, w.old]), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([[true, true], [false, false]]));
    // and keeps it: nginx would close it here with a worker_shutdown_timeout (sizing.md says why not)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(disconnects).toEqual([]);

    const issued = await api('POST', `/sites/${f.siteId}/tickets`, { token: f.tokens.kiosk, body: { serviceId: f.services.HT } });
    expect(issued.status).toBe(201);
    const called = new Promise<TicketCalled>((resolve) => display.once('ticket:called', resolve));
    expect(await api('POST', `/counters/${f.counters[1]}/call-next`, { token: f.tokens.staff })).toMatchObject({ status: 200 });
    expect((await called).ticket.code).toBe(issued.body.ticket.code);
    expect(display.connected).toBe(true);
    expect(disconnects).toEqual([]);
    // the old worker is still there, holding the display and its connection to the server (and
    // the first test's display, and the clients' kept-alive HTTPS connections)
    const old = nginxWorkers(nginx.pid!).find((w) => w.pid === worker!.pid);
    expect(old?.old).toBe(true);
    expect(old?.sockets).toBeGreaterThanOrEqual(2);
  });

  it('the server knows the request came over HTTPS: the session cookie is Secure, and nginx adds HSTS', async () => {
    const login = await api('POST', '/auth/login', { body: { username: 'canbo2', password: PASSWORD } });
    expect(login.status).toBe(200);
    const cookie = [login.headers['set-cookie']].flat().join('\n');
    expect(cookie).toMatch(/HttpOnly/i);
    // only when the server believes nginx's X-Forwarded-Proto (QMS_TRUST_PROXY)
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(login.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('a device reconnecting within a day resumes its TLS session', async () => {
    /** A TLS connection to nginx (with an earlier session to resume): whether it resumed, and the session it leaves. */
    const connect = (session?: Buffer, maxVersion: tls.SecureVersion = 'TLSv1.3') => new Promise<{ resumed: boolean; session: Buffer; ticket?: Buffer }>((resolve, reject) => {
      let resumed = false;
      let ticket: Buffer | undefined;
      const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(base).port), ca, session, maxVersion }, () => {
        resumed = socket.isSessionReused();
        ticket = socket.getTLSTicket();
        // TLS 1.2: the session is the handshake's (a resumed one brings no new session)
        if (socket.getProtocol() === 'TLSv1.2') {
          resolve({ resumed, session: socket.getSession()!, ticket });
          socket.end();
        }
      });
      // TLS 1.3: the session comes after the handshake, in the server's ticket
      socket.once('session', (next: Buffer) => { socket.end(); resolve({ resumed, session: next, ticket }); });
      socket.once('error', reject);
    });
    const first = await connect();
    expect(first.resumed).toBe(false);
    expect((await connect(first.session)).resumed).toBe(true);
    // the session is nginx's to keep, in its cache, not in a ticket the device holds (nginx 1.22,
    // Debian 12's, never changes its ticket keys): TLS 1.2 resumes by the session's id, no ticket
    const old = await connect(undefined, 'TLSv1.2');
    expect(old.ticket).toBeUndefined();
    expect((await connect(old.session, 'TLSv1.2')).resumed).toBe(true);
    // kept a day (nginx's default is 5 minutes: a screen's session would long be gone when the
    // server restarts, and every device would make a full handshake)
    // openssl's reading of the session nginx hands out (Node's session buffer is its own format);
    // in TLS 1.3 the ticket comes after the handshake, so s_client's input stays open a second
    const file = path.join(dir, 'session.pem');
    const client = spawnSync('sh', ['-c', `sleep 1 | openssl s_client -connect 127.0.0.1:${new URL(base).port} -CAfile ${path.join(dir, 'cert.pem')} -sess_out ${file}`], { encoding: 'utf8' });
    expect(client.status, client.stderr).toBe(0);
    const session = spawnSync('openssl', ['sess_id', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
    expect(session.stdout).toMatch(/Protocol\s*:\s*TLSv1\.3/);
    expect(session.stdout).toMatch(/ticket lifetime hint:\s*86400 \(seconds\)/);
  });

  it('plain HTTP is sent to HTTPS', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/kiosk/`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toMatch(/^https:\/\/127\.0\.0\.1(:\d+)?\/kiosk\/$/);
  });
});
