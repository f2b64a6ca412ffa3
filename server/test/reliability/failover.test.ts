import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { api, screen, sleep, startServer, TcpProxy, tokenSite, until, type Screen, type ServerProcess, type TokenSite } from './support.ts';

// Two server processes behind one database (PostgreSQL socket adapter on), screens reaching
// them through a round-robin TCP proxy on 127.0.0.1 (as a load balancer would). Kill one
// (SIGKILL): its screens reconnect to the other by themselves, get a fresh snapshot, and calls
// made through the survivor reach every screen.

let t: TestDatabase;
let site: TokenSite;
const servers: ServerProcess[] = [];
const screens: Screen[] = [];
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  site = await tokenSite(t.db, { displays: 6, kiosks: 1 });
});
afterAll(async () => {
  for (const s of screens) s.close();
  await proxy?.close();
  for (const s of servers) await s.stop();
  await t?.drop();
});

describe('two processes, one killed', () => {
  it('moves the killed process\'s screens to the other one', async () => {
    const [a, b] = await Promise.all([startServer({ databaseUrl: t.url, cluster: true }), startServer({ databaseUrl: t.url, cluster: true })]);
    servers.push(a!, b!);
    proxy = await TcpProxy.start([a!.port, b!.port]);
    for (const d of site.displays) {
      screens.push(screen(proxy.url, d.token));
      await until(() => screens.at(-1)!.snapshots.length === 1, 10_000); // one at a time: the proxy alternates
    }
    expect(screens.every((s) => s.snapshots.length === 1)).toBe(true);
    const spread = proxy.connectionsPerUpstream();
    expect(spread[a!.port]).toBe(3);
    expect(spread[b!.port]).toBe(3);
    await sleep(1500); // the adapters exchange heartbeats

    const token = site.staffTokens[0]!;
    expect((await api(b!.url, 'POST', `/counters/${site.counter[1]}/open`, token)).status).toBe(200);
    const callThrough = async (server: ServerProcess) => {
      const issued = await api(server.url, 'POST', `/sites/${site.siteId}/tickets`, site.kiosks[0]!.token, { serviceId: site.service.HT });
      expect(issued.status).toBe(201);
      const active = await t.db.selectFrom('ticket').select('id').where('counterId', '=', site.counter[1]!).where('status', 'in', ['called', 'serving']).executeTakeFirst();
      if (active) expect((await api(server.url, 'POST', `/tickets/${active.id}/finish`, token)).status).toBe(200);
      const marks = screens.map((s) => s.called.length);
      const call = await api(server.url, 'POST', `/counters/${site.counter[1]}/call-next`, token);
      expect(call.status).toBe(200);
      return until(() => screens.every((s, i) => s.called.slice(marks[i]).some((c) => c.ticketId === call.body.ticket.id)), 5000);
    };
    // before: a call through B reaches the screens on A too
    expect(await callThrough(b!)).toBe(true);

    await a!.kill();
    const killedAt = Date.now();
    const moved = await until(() => screens.every((s) => s.socket.connected) && proxy!.connectionsPerUpstream()[b!.port] === 6
      && screens.filter((s) => s.snapshots.length === 2).length === 3, 15_000);
    expect(moved, JSON.stringify({ spread: proxy.connectionsPerUpstream(), snapshots: screens.map((s) => s.snapshots.length), reasons: screens.map((s) => s.disconnects) })).toBe(true);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(15_000);
    // the screens that were on B never noticed
    expect(screens.filter((s) => s.disconnects.length === 0).length).toBe(3);
    // after: calls through B reach all six
    expect(await callThrough(b!)).toBe(true);
    console.log(`failover: the 3 screens of the killed process were back on the other one ${tookMs} ms after the kill`);
  }, 120_000);
});
