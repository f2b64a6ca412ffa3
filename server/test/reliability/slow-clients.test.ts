import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { api, RELIABILITY, screen, sleep, startServer, tokenSite, until, type Screen, type ServerProcess, type TokenSite } from './support.ts';

// Slow clients against the real server (npm start's entry point) started under `ulimit -n 1024`,
// systemd's default soft limit: more connections than the server has file descriptors, from a
// few attacking addresses (127.0.0.2-5), each sending its headers or its body a byte a second.
// A kiosk (127.0.0.1) still gets its ticket, the wall displays stay connected, and every slow
// request is cut off at its timeout instead of being waited for.

const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
const ATTACKERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const PER_ATTACKER = 300; // 1,200 connections against 1,024 file descriptors
const HOLD_MS = RELIABILITY ? 30_000 : 7_000;

let t: TestDatabase;
let site: TokenSite;
let server: ServerProcess | undefined;
const screens: Screen[] = [];
let polling: Socket | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  site = await tokenSite(t.db, { displays: 1, kiosks: 1 });
});
afterAll(async () => {
  for (const s of screens) s.close();
  polling?.close();
  await server?.stop();
  await t?.drop();
});

interface Slow {
  opened: number;
  /** when the server closed it (ms since opened), or undefined while open */
  closedAfter?: number;
  /** refused at once: closed before it could send anything */
  refused: boolean;
}

/** A connection that sends its request a byte a second: its headers, or its announced body. */
function slowRequest(port: number, localAddress: string, part: 'headers' | 'body', until: number): Promise<Slow> {
  return new Promise((resolve) => {
    const slow: Slow = { opened: Date.now(), refused: false };
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(part === 'headers'
        ? 'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n'
        : 'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
      timer = setInterval(() => {
        if (Date.now() > until) return void socket.destroy();
        socket.write(part === 'headers' ? `X-${sent++}: 1\r\n` : ' ');
      }, 1_000);
    });
    socket.on('data', () => {}); // a 408 or 400 reply, then the close
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      const after = Date.now() - slow.opened;
      if (Date.now() <= until) slow.closedAfter = after;
      slow.refused = sent === 0 && after < 900;
      resolve(slow);
    });
  });
}

/** An issue on a connection of its own, as a kiosk that was idle for a while makes it. */
function issueOnNewConnection(url: string, token: string, serviceId: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ serviceId });
    const request = http.request(`${url}/api/v1/sites/${site.siteId}/tickets`, {
      method: 'POST', agent: false, timeout: 5_000,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve({ status: 0, body: String(error) }));
    request.end(body);
  });
}

describe('slow clients under ulimit -n 1024', () => {
  it('are cut off at their timeouts and capped per address, while a kiosk gets its ticket and displays stay', async () => {
    server = await startServer({
      databaseUrl: t.url,
      openFiles: 1024,
      env: {
        QMS_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        QMS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        QMS_CONNECTIONS_PER_ADDRESS: '200',
      },
    });
    const { port, url } = server;
    const display = screen(url, site.displays[0]!.token);
    screens.push(display);
    // an old TV's browser: long-polling, whose requests the server holds for up to 10 s
    polling = io(url, { auth: { token: site.displays[0]!.token }, transports: ['polling'], forceNew: true, reconnection: false });
    const pollingDrops: string[] = [];
    polling.on('disconnect', (reason) => pollingDrops.push(reason));
    expect(await until(() => display.snapshots.length === 1 && !!polling?.connected, 10_000)).toBe(true);

    const end = Date.now() + HOLD_MS;
    const attack = ATTACKERS.flatMap((address) =>
      Array.from({ length: PER_ATTACKER }, (_, i) => slowRequest(port, address, i % 2 ? 'body' : 'headers', end)));
    await sleep(1_000);

    // the kiosk, in the middle of it
    const issued = await issueOnNewConnection(url, site.kiosks[0]!.token, Object.values(site.service)[0]!);
    const slow = await Promise.all(attack);

    const refused = slow.filter((s) => s.refused).length;
    const held = slow.filter((s) => !s.refused);
    const cutOff = held.filter((s) => s.closedAfter !== undefined);
    const longest = Math.max(...cutOff.map((s) => s.closedAfter!));
    console.log(`slow connections: ${slow.length} opened, ${refused} refused at once, ${held.length} held, ${cutOff.length} cut off by the server (longest ${longest} ms)`);
    expect(issued.status, issued.body).toBe(201);
    // one address holds at most its cap; past it (and past the file descriptors) refused at once
    expect(held.length).toBeLessThanOrEqual(ATTACKERS.length * 200);
    expect(refused).toBeGreaterThanOrEqual(slow.length - ATTACKERS.length * 200);
    // each request still trickling in was cut off within its timeout and the server's check
    expect(cutOff.length).toBe(held.length);
    expect(longest).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);

    // the screens never noticed
    expect(display.disconnects).toEqual([]);
    expect(pollingDrops).toEqual([]);
    expect(polling.connected).toBe(true);
    expect((await api(url, 'GET', `/sites/${site.siteId}/queue`, site.displays[0]!.token)).status).toBe(200);
    expect(server.errors()).toEqual([]);
  }, 60_000 + HOLD_MS);
});
