import { createDb, freePort } from '@qms/db';
import { startFloorServer } from '../floor/floor.ts';
import { seedLoad, type LoadSite } from '../lib/load-setup.ts';
import { startQmsServer, type QmsServer } from '../lib/processes.ts';
import { cpuMark, cpuSince } from '../lib/cpu.ts';
import { tcpCounters, tcpDelta } from '../lib/netstat.ts';
import { profileServer, serverMemory } from '../lib/profile.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now, sleep, until } from '../lib/util.ts';

// c. Reconnect storm and d. memory. D devices (displays, kiosks, counter terminals: device
// tokens) connected to one server child; the server's RSS is read from /proc while they are
// connected. Then the server is restarted on the same port and we time until every device has
// received a fresh queue:snapshot, with nothing left in error:
//   1. graceful restart (SIGTERM, then start again: what `systemctl restart` does);
//   2. crash restart (SIGKILL, then start again);
//   3. a second crash restart, for the spread.
// (The server listens with a backlog of 4096 since the first runs.)
// (Before bug 1 of docs/reliability.md was fixed, run 1 left every device offline: the bench
// reports how many came back, and says so when they were told to stay away.)
// Then a CPU profile of the server while every device reconnects at once (the storm's work
// without the clients' back-off), and the server's heap before and after a full GC.
// Memory floor: a bare socket.io server process (floor-server.ts) holding the same sockets.

interface Storm {
  label: string;
  /** from the stop signal to every client with a fresh snapshot (NaN when some never got one) */
  totalMs: number;
  /** from the new server answering /api/health to every client with a fresh snapshot */
  afterReadyMs: number;
  serverStartMs: number;
  fresh: number;
  clients: number;
  errorsLeft: number;
  reasons: Record<string, number>;
  connectErrors: Record<string, number>;
  /** ms from the stop signal to each client's fresh snapshot */
  spread: ReturnType<typeof summarize>;
  /** kernel TCP counters over the storm */
  tcp: string;
}

/** Stops the server, starts it again, and times until every client of the fleet has a fresh snapshot. */
export async function measureStorm(fleet: Fleet, stop: () => Promise<void>, start: () => Promise<void>, timeoutMs: number) {
  const baseline = fleet.clients.map((c) => c.snapshots);
  const errorsBefore = { ...fleet.errorCounts };
  const tcpBefore = tcpCounters();
  const reasonsBefore = fleet.clients.map((c) => c.disconnects.length);
  const fresh = () => fleet.clients.filter((c, i) => c.socket.connected && c.snapshots > baseline[i]! && !c.lastError).length;
  const began = now();
  await stop();
  await start();
  const ready = now();
  const all = await until(() => fresh() === fleet.size, timeoutMs, 50);
  const done = Math.max(...fleet.clients.map((c, i) => (c.snapshots > baseline[i]! ? c.lastSnapshotAt : Number.NaN)));
  const reasons: Record<string, number> = {};
  fleet.clients.forEach((c, i) => {
    for (const r of c.disconnects.slice(reasonsBefore[i]!)) reasons[r] = (reasons[r] ?? 0) + 1;
  });
  const connectErrors: Record<string, number> = {};
  for (const [k, v] of Object.entries(fleet.errorCounts)) if (v - (errorsBefore[k] ?? 0) > 0) connectErrors[k] = v - (errorsBefore[k] ?? 0);
  const times = fleet.clients.filter((c, i) => c.snapshots > baseline[i]!).map((c) => c.lastSnapshotAt - began);
  return {
    fresh: fresh(), reasons, connectErrors, spread: summarize(times), tcp: tcpDelta(tcpBefore),
    totalMs: all ? done - began : Number.NaN,
    afterReadyMs: all ? done - ready : Number.NaN,
    errorsLeft: fleet.clients.filter((c) => !c.socket.connected || c.lastError).length,
  };
}

async function settleRss(server: { rssMb(): number }, ms: number): Promise<number> {
  // the highest of a few samples once connections settled: what the machine must provide
  let max = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    max = Math.max(max, server.rssMb());
    await sleep(250);
  }
  return max;
}

export async function stormBench(ctx: BenchContext): Promise<BenchResult> {
  const sitesN = ctx.num('sites', 20, 5);
  let devices = ctx.num('devices', 3000, 600);
  const stormTimeoutMs = ctx.num('storm-timeout', 60, 30) * 1000;
  const notes: string[] = [];
  const fdLimit = (ctx as BenchContext & { fdLimit?: number }).fdLimit ?? Number.NaN;
  if (Number.isFinite(fdLimit) && fdLimit < devices + 500) {
    const scaled = Math.max(100, fdLimit - 500);
    notes.push(`Open files limit ${fdLimit} is too low for ${devices} sockets in one process: scaled down to ${scaled} (raise ulimit -n for the full run).`);
    devices = scaled;
  }
  const perSite = Math.ceil(devices / sitesN);
  const displays = Math.round(perSite * 0.3);
  const kiosks = Math.round(perSite * 0.1);
  const counterDevices = perSite - displays - kiosks;

  const url = await ctx.database('storm');
  const db = createDb(url, { max: 4 });
  const sites: LoadSite[] = await seedLoad(db, {
    sites: sitesN, countersPerSite: Math.max(10, Math.ceil(counterDevices / 3)), displaysPerSite: displays, kiosksPerSite: kiosks,
    counterDevicesPerSite: counterDevices, openCounters: true,
  });
  const tokens = sites.flatMap((s) => [...s.displays, ...s.kiosks, ...s.counterDevices].map((d) => ({ token: d.token, room: `site:${s.siteId}` })));
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};

  // ---- memory floor: a bare socket.io server with the same sockets ----
  // (and the floor of a restart: the same clients coming back to a bare socket.io server)
  const floorPort = await freePort();
  let floor = await startFloorServer(url, floorPort);
  let floorIdle: number;
  let floorConnected: number;
  const floorStorms: Record<string, number> = {};
  try {
    await sleep(1000);
    floorIdle = floor.rssMb();
    const fleet = await Fleet.connect(floor.url, tokens.map((t) => t.token), { concurrency: 100, auth: (i) => ({ room: tokens[i]!.room }) });
    if (fleet.ready() < tokens.length) notes.push(`floor: only ${fleet.ready()} of ${tokens.length} sockets connected`);
    floorConnected = await settleRss(floor, 4000);
    for (const [kind, stop] of [['graceful', () => floor.stop()], ['crash', () => floor.kill()]] as const) {
      const r = await measureStorm(fleet, stop, async () => {
        floor = await startFloorServer(url, floorPort);
      }, stormTimeoutMs);
      floorStorms[kind] = r.totalMs;
      ctx.log(`  floor ${kind} restart: ${r.fresh}/${fleet.size} back in ${Math.round(r.totalMs)} ms`);
    }
    await fleet.close();
  } finally {
    await floor.stop();
  }

  // ---- the server ----
  const port = await freePort();
  const inspectable = ['--inspect-port=127.0.0.1:0'];
  let server: QmsServer = await startQmsServer({ databaseUrl: url, port, nodeArgs: inspectable });
  let fleet: Fleet | undefined;
  try {
    await sleep(1000);
    const idle = server.rssMb();
    const t0 = now();
    fleet = await Fleet.connect(server.url, tokens.map((t) => t.token), { concurrency: 100 });
    const connectMs = now() - t0;
    ctx.log(`  ${fleet.ready()} of ${tokens.length} devices connected with their snapshot in ${Math.round(connectMs)} ms`);
    if (fleet.ready() < tokens.length) throw new Error(`only ${fleet.ready()} of ${tokens.length} devices got a snapshot`);
    const connected = await settleRss(server, 4000);
    const secs = (ms: number) => round(ms / 1000, 2);
    ctx.log(`  server RSS: ${round(idle, 0)} MB idle, ${round(connected, 0)} MB with ${tokens.length} devices (floor ${round(floorIdle, 0)} → ${round(floorConnected, 0)} MB)`);

    const memory = await serverMemory(server).catch(() => undefined);

    const storm = async (label: string, stop: (s: QmsServer) => Promise<void>, nextArgs: string[]): Promise<Storm> => {
      const f = fleet!;
      const m = await measureStorm(f, () => stop(server), async () => {
        server = await startQmsServer({ databaseUrl: url, port, nodeArgs: nextArgs });
      }, stormTimeoutMs);
      const all = Number.isFinite(m.totalMs);
      const { reasons } = m;
      const result: Storm = {
        label, clients: f.size, fresh: m.fresh, reasons, connectErrors: m.connectErrors, spread: m.spread, tcp: m.tcp, totalMs: m.totalMs, afterReadyMs: m.afterReadyMs,
        serverStartMs: server.startMs, errorsLeft: m.errorsLeft,
      };
      ctx.log(`  ${label}: ${result.fresh}/${result.clients} fresh snapshots, ${all ? `all in ${Math.round(result.totalMs)} ms (${Math.round(result.afterReadyMs)} ms after the new server was healthy)` : `NOT all within ${stormTimeoutMs / 1000} s`}; ${result.errorsLeft} clients left disconnected or in error; disconnect reasons ${JSON.stringify(reasons)}`);
      return result;
    };

    const graceful = await storm('graceful restart (SIGTERM)', (s) => s.stop(), inspectable);
    if (graceful.fresh < fleet.size) {
      // the stranded clients would stay dark for ever: bring them back by hand for the next runs
      for (const c of fleet.clients) if (!c.socket.connected) c.socket.connect();
      await until(() => fleet!.ready() === fleet!.size, stormTimeoutMs, 100);
      ctx.log(`  (reconnected the stranded clients by hand: ${fleet.ready()}/${fleet.size})`);
    }
    const crash = await storm('crash restart (SIGKILL)', (s) => s.kill(), inspectable);
    const backlog = await storm('crash restart, again', (s) => s.kill(), inspectable);
    const after = await settleRss(server, 4000);

    // where a storm's time goes: every device reconnects at once, with the CPU profiler on
    const wave = await profileServer(server, 0, async () => {
      const mark = cpuMark([server.pid]);
      const tcp0 = tcpCounters();
      const waveMs = await fleet!.reconnectAll(stormTimeoutMs, 50);
      notes.push(`Reconnect wave (all ${fleet!.size} devices disconnect and connect again at once, no back-off): ${Number.isFinite(waveMs) ? `all fresh in ${secs(waveMs)} s` : `not all fresh within ${secs(stormTimeoutMs)} s`}, on the last server. ${cpuSince(mark, [server.pid], ['server'])} Kernel TCP counters: ${tcpDelta(tcp0)}.`);
    }).catch((error) => ({ lines: [`CPU profile not taken: ${(error as Error).message}`] }));

    const met = (s: Storm) => Number.isFinite(s.totalMs) && s.totalMs < 10_000 && s.errorsLeft === 0;
    figures.push(
      Number.isFinite(graceful.totalMs)
        ? { label: `graceful restart → all ${tokens.length} fresh`, value: secs(graceful.totalMs), unit: 's', floor: secs(floorStorms.graceful!), ratio: round(graceful.totalMs / floorStorms.graceful!, 2), target: '< 10 s, no errors left', met: met(graceful) }
        : { label: `graceful restart → devices back within ${stormTimeoutMs / 1000} s`, value: graceful.fresh, unit: `of ${tokens.length}`, target: '< 10 s, no errors left', met: false },
      { label: `crash restart → all ${tokens.length} fresh`, value: secs(crash.totalMs), unit: 's', floor: secs(floorStorms.crash!), ratio: round(crash.totalMs / floorStorms.crash!, 2), target: '< 10 s, no errors left', met: met(crash) },
      { label: `crash restart again → all ${tokens.length} fresh`, value: secs(backlog.totalMs), unit: 's', floor: secs(floorStorms.crash!), ratio: round(backlog.totalMs / floorStorms.crash!, 2), target: '< 10 s, no errors left', met: met(backlog) },
      { label: `server RSS with ${tokens.length} devices`, value: round(connected, 0), unit: 'MB', floor: round(floorConnected, 0), ratio: round(connected / floorConnected, 2), target: '< 300 MB', met: connected < 300 },
      ...(memory ? [{ label: `server RSS after a full GC, ${tokens.length} devices`, value: round(memory.after.rss!, 0), unit: 'MB' }, { label: 'server heap used after a full GC', value: round(memory.after.heapUsed!, 0), unit: 'MB' }] : []),
      { label: `server RSS growth per 1,000 devices`, value: round(((connected - idle) / tokens.length) * 1000, 1), unit: 'MB', floor: round(((floorConnected - floorIdle) / tokens.length) * 1000, 1), ratio: round((connected - idle) / (floorConnected - floorIdle), 2) },
    );
    notes.push(
      `${tokens.length} devices over ${sitesN} sites (${displays} displays, ${kiosks} kiosks, ${counterDevices} counter terminals per site), device tokens, WebSocket only, reconnection as the screens' client (500 ms doubling to 5 s, ±50% jitter); all clients in the bench process; server = server/src/main.ts as a child process, on a fixed port so it comes back where the clients look.`,
      `First connection of all ${tokens.length} (100 at a time, each waiting for its snapshot): ${secs(connectMs)} s.`,
      `RSS of the server process: ${round(idle, 0)} MB idle, ${round(connected, 0)} MB with the devices connected, ${round(after, 0)} MB after the three restarts (the last server process). Floor process (bare socket.io + pg, loaded the same way): ${round(floorIdle, 0)} MB idle, ${round(floorConnected, 0)} MB with the same sockets.`,
      `Restart floor: the same clients, the bare socket.io server restarted on its port (its start is shorter: no migrations check, no Fastify): graceful ${secs(floorStorms.graceful!)} s, crash ${secs(floorStorms.crash!)} s to all fresh.`,
      ...(memory ? [`Server memory (process.memoryUsage, MB) with the devices connected: ${JSON.stringify(memory.before)}; after a full GC: ${JSON.stringify(memory.after)}.`] : []),
      ...wave.lines.map((l) => `During the reconnect wave: ${l}`),
      ...[graceful, crash, backlog].map((s) => `${s.label}: ${s.fresh}/${s.clients} fresh snapshots; ${Number.isFinite(s.totalMs) ? `${secs(s.totalMs)} s from the stop signal, ${secs(s.afterReadyMs)} s after the new server was healthy (its start took ${secs(s.serverStartMs)} s)` : `not all within ${stormTimeoutMs / 1000} s`}${s.spread.n ? `; half of the devices were back after ${secs(s.spread.p50)} s, 90% after ${secs(s.spread.p90)} s` : ''}; ${s.errorsLeft} left disconnected or in error; disconnect reasons seen: ${JSON.stringify(s.reasons)}; failed connection attempts on the way: ${JSON.stringify(s.connectErrors)}; kernel TCP counters (machine-wide): ${s.tcp}.`),
    );
    if (graceful.fresh < tokens.length) {
      notes.push(`BUG: after a graceful restart only ${graceful.fresh} of ${tokens.length} devices came back (disconnect reasons ${JSON.stringify(graceful.reasons)}): "io server disconnect" tells socket.io clients to stay away (bug 1 of docs/reliability.md).`);
    }
    Object.assign(raw, { idle, connected, after, floorIdle, floorConnected, connectMs, graceful, crash, backlog, memory });
  } finally {
    await fleet?.close();
    await server.stop();
    await db.destroy();
  }
  return { name: 'storm', title: `Reconnect storm and memory (${tokens.length} devices)`, figures, notes, raw };
}
