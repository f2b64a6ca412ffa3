import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { api, RELIABILITY, screen, sleep, startServer, TcpProxy, tokenSite, until, type ProxyMode, type ServerProcess, type TokenSite } from './support.ts';

// A display and a kiosk lose their network (a TCP proxy on 127.0.0.1 between them and the
// server stops carrying anything) while counters keep calling and kiosks elsewhere keep
// issuing. When the network returns they resync by themselves, and the snapshot they get
// holds everything that matters: the calls made meanwhile, each counter's current ticket and
// the waiting counts. A short outage of each kind runs in `npm test`; the 30 s outages (the
// sockets' heartbeats give up after 18 s, so the clients reconnect through the dead link)
// run with QMS_RELIABILITY=1.

let t: TestDatabase;
let site: TokenSite;
let server: ServerProcess;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  site = await tokenSite(t.db, { displays: 1, kiosks: 2 });
  server = await startServer({ databaseUrl: t.url });
  for (let n = 1; n <= 4; n++) {
    const r = await api(server.url, 'POST', `/counters/${site.counter[n]}/open`, site.staffTokens[n - 1]);
    if (r.status !== 200) throw new Error(`open counter ${n}: ${r.status}`);
  }
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await server?.stop();
  await t?.drop();
});

const outages: { mode: ProxyMode; seconds: number }[] = RELIABILITY
  ? [{ mode: 'blackhole', seconds: 30 }, { mode: 'down', seconds: 30 }, { mode: 'blackhole', seconds: 3 }]
  : [{ mode: 'blackhole', seconds: 3 }, { mode: 'down', seconds: 3 }];

describe('a screen losing its network', () => {
  it.each(outages)('$mode for $seconds s: resyncs and misses nothing that matters', async ({ mode, seconds }) => {
    const proxy = await TcpProxy.start([server.port]);
    cleanup.push(() => proxy.close());
    const display = screen(proxy.url, site.displays[0]!.token);
    const kiosk = screen(proxy.url, site.kiosks[0]!.token);
    cleanup.push(() => display.close(), () => kiosk.close());
    expect(await until(() => display.snapshots.length === 1 && kiosk.snapshots.length === 1, 10_000)).toBe(true);

    const services = Object.values(site.service);
    const issue = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await api(server.url, 'POST', `/sites/${site.siteId}/tickets`, site.kiosks[1]!.token, { serviceId: services[i % services.length] });
        expect(r.status).toBe(201);
      }
    };
    const callAt = async (n: number) => {
      const token = site.staffTokens[n - 1];
      const active = await t.db.selectFrom('ticket').select('id').where('counterId', '=', site.counter[n]!).where('status', 'in', ['called', 'serving']).executeTakeFirst();
      if (active) expect((await api(server.url, 'POST', `/tickets/${active.id}/finish`, token)).status).toBe(200);
      const r = await api(server.url, 'POST', `/counters/${site.counter[n]}/call-next`, token);
      expect(r.status).toBe(200);
      return r.body.ticket as { id: string; code: string };
    };
    await issue(12);
    await callAt(1);

    // the network goes
    proxy.setMode(mode);
    const cutAt = Date.now();
    const during: { counter: number; id: string; code: string }[] = [];
    for (const n of [1, 2, 3, 4]) during.push({ counter: n, ...(await callAt(n)) });
    await issue(3);
    during.push({ counter: 2, ...(await callAt(2)) }); // a second call at the same counter
    const calledDuring = during.map((d) => d.id);
    await sleep(Math.max(0, seconds * 1000 - (Date.now() - cutAt)));

    // the network returns
    const seenBefore = { display: display.snapshots.length, kiosk: kiosk.snapshots.length };
    proxy.setMode('up');
    const backAt = Date.now();
    expect(await until(() => display.socket.connected && kiosk.socket.connected
      && display.snapshots.length > seenBefore.display && kiosk.snapshots.length > seenBefore.kiosk, 20_000)).toBe(true);
    const resyncMs = Date.now() - backAt;
    expect(resyncMs).toBeLessThan(10_000);

    // what the display shows now holds every call made while it was away ...
    const snap = display.snapshots.at(-1)!;
    const recent = snap.recentCalls.map((c) => c.ticket.id);
    for (const id of calledDuring) expect(recent).toContain(id);
    // ... each counter's current ticket ...
    const current = new Map(snap.counters.map((c) => [c.counterId, c.ticket?.id]));
    const lastAt = new Map(during.map((d) => [d.counter, d.id]));
    for (const [n, id] of lastAt) expect(current.get(site.counter[n]!)).toBe(id);
    // ... and the true waiting counts (the kiosk's too)
    const waiting = await t.db.selectFrom('ticket').select(['serviceId', (eb) => eb.fn.countAll<number>().as('n')])
      .where('siteId', '=', site.siteId).where('status', '=', 'waiting').groupBy('serviceId').execute();
    const truth = Object.fromEntries(services.map((s) => [s, Number(waiting.find((w) => w.serviceId === s)?.n ?? 0)]));
    for (const s of [snap, kiosk.snapshots.at(-1)!]) {
      expect(Object.fromEntries(s.services.map((x) => [x.serviceId, x.waiting]))).toEqual(truth);
    }
    // and live events flow again
    const mark = display.called.length;
    const next = await callAt(3);
    expect(await until(() => display.called.slice(mark).some((c) => c.ticketId === next.id), 5000)).toBe(true);
    console.log(`partition ${mode} ${seconds} s: resynced ${resyncMs} ms after the network returned; disconnect reasons ${JSON.stringify(display.disconnects)}`);
  }, 120_000);
});
