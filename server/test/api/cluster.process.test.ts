import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import type { TicketCalled } from '@qms/protocol';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { startServerProcess } from '../support/server-process.ts';

// Two real server processes (npm start's entry point) on one database: a call made through
// process A reaches a display connected to process B.

let f: ApiFixture;
const children: ChildProcess[] = [];

async function startServer(databaseUrl: string) {
  const server = await startServerProcess(databaseUrl, { QMS_CLUSTER: '1' });
  children.push(server.child);
  return server;
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
