import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@qms/db';
import { api, screen, sleep, startServer, tokenSite, until, type Screen, type ServerProcess, type TokenSite } from './support.ts';

// Stop PostgreSQL under load and start it again (its own embedded cluster, not the test
// run's): meanwhile every request answers 503 (never a 500, never a hang), and the same
// server process serves again once the database is back. Run with the PostgreSQL socket
// adapter on (QMS_CLUSTER=1, the default with DATABASE_URL) and off.

let dir: string;
let pg: EmbeddedPostgresHandle | undefined;
let site: TokenSite;
let url: string;
let port: number;
const servers: ServerProcess[] = [];
const screens: Screen[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qms-reliability-pg-'));
  await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
  pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true, database: 'qms' });
  url = pg.url;
  port = pg.port;
  const db = createDb(url, { max: 2 });
  try {
    await migrateToLatest(db);
    site = await tokenSite(db, { displays: 1, kiosks: 2 });
  } finally {
    await db.destroy();
  }
}, 120_000);

afterAll(async () => {
  for (const s of screens) s.close();
  for (const s of servers) await s.stop();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

type Phase = 'before' | 'down' | 'starting' | 'back';

const refused = (p: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect(p, '127.0.0.1');
  socket.once('connect', () => {
    socket.destroy();
    resolve(false);
  });
  socket.once('error', () => resolve(true));
});

// Bugs 2 and 3 of docs/reliability.md (fixed): a checked-out client losing its connection used
// to kill the process (always with the adapter's LISTEN client), and a broken client's error
// answered 500.
describe.each([{ cluster: true }, { cluster: false }])('PostgreSQL stops and starts under load (QMS_CLUSTER=$cluster)', ({ cluster }) => {
  it('answers 503 while it is down and recovers without a restart', async () => {
    const server = await startServer({ databaseUrl: url, cluster });
    servers.push(server);
    const base = server.url;
    const display = screen(base, site.displays[0]!.token);
    screens.push(display);
    expect(await until(() => display.snapshots.length >= 1, 10_000)).toBe(true);
    for (let n = 1; n <= 2; n++) {
      const r = await api(base, 'POST', `/counters/${site.counter[n]}/open`, site.staffTokens[n - 1]);
      expect(r.status).toBe(200);
    }

    let phase: Phase = 'before';
    let running = true;
    const seen: { phase: Phase; what: string; status: number }[] = [];
    const deadline = Date.now() + 90_000;
    const loop = (what: string, op: () => Promise<number>) => (async () => {
      for (let i = 0; running && Date.now() < deadline && i < 20_000; i++) {
        const started = phase;
        const status = await op();
        seen.push({ phase: started, what, status });
        await sleep(status >= 500 || status <= 0 ? 50 : 10);
      }
    })();
    const services = Object.values(site.service);
    const loops = [
      ...site.kiosks.map((k, i) => loop('issue', async () =>
        (await api(base, 'POST', `/sites/${site.siteId}/tickets`, k.token, { serviceId: services[i % services.length] }, 12_000)).status)),
      ...[1, 2].map((n) => loop('call', async () => {
        const token = site.staffTokens[n - 1];
        const r = await api(base, 'POST', `/counters/${site.counter[n]}/call-next`, token, {}, 12_000);
        const held = r.status === 200 ? r.body.ticket.id : r.status === 409 && r.body?.error?.code === 'COUNTER_BUSY' ? r.body.error.details.ticketId : undefined;
        if (!held) return r.status;
        return (await api(base, 'POST', `/tickets/${held}/finish`, token, {}, 12_000)).status;
      })),
      loop('queue', async () => (await api(base, 'GET', `/sites/${site.siteId}/queue`, site.displays[0]!.token, undefined, 12_000)).status),
      loop('health', async () => {
        try {
          return (await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(12_000) })).status;
        } catch (error) {
          return (error as Error).name === 'TimeoutError' ? -1 : 0;
        }
      }),
    ];

    await until(() => seen.filter((s) => s.status === 201).length >= 10, 10_000);
    await pg!.stop();
    // stop() can return while the postmaster is still shutting down: wait until it refuses connections
    expect(await until(() => refused(port), 20_000, 50)).toBe(true);
    phase = 'down';
    await sleep(3000);
    phase = 'starting';
    pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port, fast: true, database: 'qms' });
    phase = 'back';
    const backAt = seen.length;
    // every kind of request succeeds again, from the same process
    const dead = () => server.child.exitCode !== null || server.child.signalCode !== null;
    await until(() => dead() || ['issue', 'call', 'queue', 'health'].every((what) =>
      seen.slice(backAt).some((s) => s.what === what && s.status >= 200 && s.status < 300)), 30_000);
    const recovered = !dead() && ['issue', 'call', 'queue', 'health'].every((what) =>
      seen.slice(backAt).some((s) => s.what === what && s.status >= 200 && s.status < 300));
    running = false;
    await Promise.all(loops);

    const summary = (p: Phase) => {
      const counts: Record<string, number> = {};
      for (const s of seen.filter((x) => x.phase === p)) counts[`${s.what} ${s.status}`] = (counts[`${s.what} ${s.status}`] ?? 0) + 1;
      return counts;
    };
    const down = seen.filter((s) => s.phase === 'down');
    expect(down.length, JSON.stringify(summary('down'))).toBeGreaterThan(10);
    // while the database is away: 503 and nothing else (no 500, no hang, no dropped connection)
    const timeline = seen.slice(backAt, backAt + 40).map((x) => `${x.what} ${x.status}`).join(', ');
    const unexpected = server.errors().map((l) => {
      try {
        const e = JSON.parse(l) as { msg: string; err?: { message?: string; code?: string; stack?: string } };
        return `${e.msg}: ${e.err?.code ?? ''} ${e.err?.message ?? ''} ${(e.err?.stack ?? '').split('\n').filter((x) => x.includes('/server/src/')).slice(0, 2).join(' ')}`;
      } catch {
        return l.slice(0, 300);
      }
    });
    const all = JSON.stringify({
      timeline, before: summary('before'), down: summary('down'), starting: summary('starting'), back: summary('back'),
      exit: server.child.exitCode ?? server.child.signalCode, errorsLogged: [...new Set(unexpected)], log: server.output().slice(-1500),
    }, null, 1);
    expect(server.child.exitCode, all).toBeNull(); // the same process, never restarted
    expect(server.child.signalCode, all).toBeNull();
    expect(down.filter((s) => s.status !== 503).length, all).toBe(0);
    // at no time a 500, a timeout (-1) or a refused connection (0)
    expect(seen.filter((s) => (s.status >= 500 && s.status !== 503) || s.status <= 0).length, all).toBe(0);
    expect(recovered, all).toBe(true);

    // the display comes back too and live events reach it
    expect(await until(() => display.socket.connected, 20_000)).toBe(true);
    const issued = await api(base, 'POST', `/sites/${site.siteId}/tickets`, site.kiosks[0]!.token, { serviceId: site.service.HT });
    expect(issued.status).toBe(201);
    const mark = display.called.length;
    let call = await api(base, 'POST', `/counters/${site.counter[1]}/call-next`, site.staffTokens[0]);
    if (call.status === 409) {
      await api(base, 'POST', `/tickets/${call.body.error.details.ticketId}/finish`, site.staffTokens[0]);
      call = await api(base, 'POST', `/counters/${site.counter[1]}/call-next`, site.staffTokens[0]);
    }
    expect(call.status).toBe(200);
    expect(await until(() => display.called.slice(mark).some((c) => c.ticketId === call.body.ticket.id), 5000)).toBe(true);
    await server.stop();
  }, 150_000);
});
