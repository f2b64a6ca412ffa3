import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import type { TicketCalled } from '@qms/protocol';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';

// Two real server processes (npm start's entry point) on one database: a call made through
// process A reaches a display connected to process B.

const root = path.resolve(import.meta.dirname, '../../..');
let f: ApiFixture;
const children: ChildProcess[] = [];

function startServer(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'server/src/main.ts')], {
    env: {
      ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', QMS_DEMO: '0', QMS_CLUSTER: '1',
      QMS_RATE_LIMITS: 'off', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

beforeAll(async () => {
  f = await apiFixture();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  await f?.app.close();
  await f?.t.drop();
});

describe('two server processes', () => {
  it('deliver a call made through A to a display connected to B', async () => {
    const [a, b] = await Promise.all([startServer(f.t.url), startServer(f.t.url)]);
    // the demo centre is closed at night and on Sundays: drop its hours for this test
    await f.t.db.deleteFrom('openingHours').execute();

    const display = connect(b.url, { auth: { token: f.tokens.display }, transports: ['websocket'], reconnection: false });
    try {
      await new Promise((resolve, reject) => {
        display.once('queue:snapshot', resolve);
        display.once('connect_error', reject);
      });
      await new Promise((r) => setTimeout(r, 1000)); // adapters exchange heartbeats

      const call = (url: string, method: string, token: string, body: object = {}) =>
        fetch(`${a.url}/api/v1${url}`, { method, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const issued = await call(`/sites/${f.siteId}/tickets`, 'POST', f.tokens.kiosk, { serviceId: f.services.DD });
      expect(issued.status).toBe(201);
      const { ticket } = await issued.json();
      expect((await call(`/counters/${f.counters[4]}/open`, 'POST', f.tokens.staff)).status).toBe(200);
      const received = new Promise<TicketCalled>((resolve) => display.once('ticket:called', resolve));
      const started = Date.now();
      expect((await call(`/counters/${f.counters[4]}/call-next`, 'POST', f.tokens.staff)).status).toBe(200);
      const event = await Promise.race([received, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not received on B')), 5000))]);
      expect(event).toMatchObject({ ticket: { code: ticket.code }, counter: { number: 4 } });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      display.close();
    }
  }, 90_000);
});
