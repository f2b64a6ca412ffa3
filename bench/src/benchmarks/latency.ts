import { createDb } from '@qms/db';
import { prepareFloorTable, fillFloorTable, startFloorServer } from '../floor/floor.ts';
import { sql } from 'kysely';
import { post } from '../lib/http.ts';
import { seedAdmin, seedLoad, type LoadCounter, type LoadSite } from '../lib/load-setup.ts';
import { setPriority } from 'node:os';
import path from 'node:path';
import { ipcRequest, ROOT, startChild, startQmsServer, type Child } from '../lib/processes.ts';
import { cpuMark, cpuSince, familyCpu, postmasterPid, RunQueueMeter, type RunQueueGroup } from '../lib/cpu.ts';
import { describeLoop, startLoopMonitor, takeLoopRecord, within, worstIn, type LoopRecord } from '../lib/loop-monitor.ts';
import { checkpointCount, growthIn, samplePg, serverBusyMax, shareWith, waitsIn, waitsWithin } from '../lib/pg-waits.ts';
import { allocationProfileServer, profileServer, sqlProfile, startServerLoopMonitor, takeServerLoopRecord } from '../lib/profile.ts';
import type { BenchContext, BenchResult } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize, type Summary } from '../lib/stats.ts';
import { now, pool, sleep, steady, until } from '../lib/util.ts';

// a. Call-to-screen latency. N sites with their open counters (staff sockets), displays and
// kiosks (device sockets) connected to the server, all real socket.io clients over WebSocket.
// Kiosks issue and counters call at a steady rate; for each call we time from just before the
// HTTP call-next request to the moment the site's first display receives `ticket:called`
// (and to the moment every display of the site has it).
// Floor, same run, same sockets layout and rooms: a bare UPDATE ... FOR UPDATE SKIP LOCKED on
// the same database followed by a bare socket.io broadcast to the site's room, in a plain
// Node process (pg + socket.io, nothing else), timed the same way.
// When: by default (--floor-mode=interleaved) the floor and the system take turns in slices
// of --slice seconds (floor, system, floor, system...), so both meet the same moments of a
// shared, noisy machine: a neighbour's burst or a checkpoint falls on either with the same
// odds. The system's issue load runs in its own slices only (it is part of the system, not of
// the floor). --floor-mode=around measures the floor before and after the whole system run,
// as the first runs of issue 9 did.
// Where the tail comes from: event-loop delay and GC pauses of the server, the floor and the
// bench process, second by second, and PostgreSQL's active backends and waits sampled every
// 100 ms; the slowest calls are listed with what each process was doing then.
// Notifications (--notify=on, the default): every site subscribes a webhook to all ticket
// events, pointing at a receiver in a child process on 127.0.0.1 (lib/webhook-receiver.ts,
// answers 200 after --webhook-delay ms, 3) so the server's worker relays and delivers while the
// calls are timed; the result says how many deliveries arrived and their lag (the event's
// occurredAt to arrival). --notify=off starts the server with QMS_NOTIFY_POLL_MS=0 (outbox rows
// are still written by the trigger, nothing is relayed or delivered). `notify` (notify.ts) runs
// both and compares them.

interface Pending {
  t0: number;
  seen: number;
  first?: number;
  /** epoch ms at t0 (to match with the loop and PostgreSQL records) */
  at: number;
  http?: number;
}

interface Timed {
  at: number;
  first: number;
  http?: number;
}

export interface LatencyOptions {
  /** notifications flowing (webhooks to a local receiver) or the worker off; default --notify, else 'on' */
  notify?: 'on' | 'off';
  /** the CPU and SQL profiles after the measured runs (default true) */
  profile?: boolean;
  /** an allocation profile of the server's main thread under the same load, after the measured runs (default false) */
  allocations?: boolean;
  /** the database's name (default latency) */
  database?: string;
  /** more data in the database before the server starts (reportload: a year of history) */
  prepare?: (db: import('@qms/db').Db, url: string) => Promise<void>;
  /** arguments of server/src/main.ts (reportload: --reports-on-main-pool) */
  serverArgs?: string[];
  /** more environment of the server (reportload: QMS_REPORT_CONNECTIONS) */
  serverEnv?: NodeJS.ProcessEnv;
  /** more load in the system's turns only (reportload: managers pulling reports), started and paused with each */
  turnLoad?: TurnLoad;
  /** the result's title (default: call-to-screen latency, notifications on/off) */
  title?: string;
  /**
   * Nice values for the measured runs, both sides' turns (root needed below 0): `timing`, the
   * bench's main thread, which timestamps the displays' messages (displays are other machines
   * in a centre: meant to keep the bench's own wait for a core out of the figures, which it did
   * not, 7 December 20:39: docs/performance.md, section h); `serverMain`,
   * the queue server's main thread (its other threads, the report thread among them, keep theirs)
   */
  nice?: { timing?: number; serverMain?: number };
}

/** Load that is part of the system: it runs in the system's turns and is paused (in-flight work finished) for the floor's. */
export interface TurnLoad {
  start(serverUrl: string): void | Promise<void>;
  pause(): Promise<void>;
  /** a process of its own, counted in the CPU accounting under `name` */
  pid?: number;
  name?: string;
  /** at the end of the benchmark */
  close?(): Promise<void>;
  /** after the warm-up: what it did is not counted */
  forget?(): void;
}

/** Webhook deliveries seen by the receiver during the measured runs (notifications on). */
export interface DeliveryFigures {
  /** deliveries of events that occurred during the timed turns (after the warm-up and its deliveries) */
  received: number;
  byType: Record<string, number>;
  repeats: number;
  badSignatures: number;
  /** occurredAt → arrival, ms */
  lag: Summary;
  /** ticket events the server wrote to the outbox during the measured runs */
  outboxWritten: number;
  /** at the end (after a short settle): outbox rows not relayed, webhook messages pending / failed */
  unrelayed: number;
  pending: number;
  failed: number;
}

/** Figures of one run for the notify comparison: the system's and the floor's first-display times, whole and by halves. */
export interface LatencyRaw {
  notify: 'on' | 'off';
  first: Summary;
  floorFirst: Summary;
  /** the system's calls of the first and the second half of the turns (or of the run, --floor-mode=around) */
  firstHalves: [Summary, Summary];
  floorHalves: [Summary, Summary];
  /** p50 of each system turn, and of each floor turn */
  sliceP50: { system: number[]; floor: number[] };
  deliveries?: DeliveryFigures;
  loadBefore: number;
  loadAfter: number;
}

export async function latencyBench(ctx: BenchContext, options: LatencyOptions = {}): Promise<BenchResult> {
  const notify = options.notify ?? (ctx.args.get('notify') === 'off' ? 'off' : 'on');
  const webhookDelayMs = ctx.num('webhook-delay', 3, 3);
  const sitesN = ctx.num('sites', 20, 5);
  const countersTotal = ctx.num('counters', 1000, 250);
  const displaysTotal = ctx.num('displays', 300, 75);
  const kiosksTotal = ctx.num('kiosks', 100, 25);
  const rate = ctx.num('call-rate', 20, 10); // calls per second, all sites together
  const issueRate = ctx.num('issue-rate', rate, rate);
  const durationS = ctx.num('duration', 60, 20);
  const floorS = Math.max(10, Math.round(durationS / 2));
  const floorMode = ctx.args.get('floor-mode') === 'around' ? 'around' : 'interleaved';
  const sliceS = ctx.num('slice', 5, 5);
  const perSite = {
    counters: Math.ceil(countersTotal / sitesN), displays: Math.ceil(displaysTotal / sitesN), kiosks: Math.ceil(kiosksTotal / sitesN),
  };
  const fdLimit = (ctx as BenchContext & { fdLimit?: number }).fdLimit ?? Number.NaN;
  const socketsPerSet = sitesN * (perSite.counters + perSite.displays + perSite.kiosks);
  const notes: string[] = [];
  if (Number.isFinite(fdLimit) && fdLimit < socketsPerSet * 2 + 500) {
    throw new Error(`open files limit ${fdLimit} is too low for ${socketsPerSet * 2} sockets: raise it (ulimit -n) or pass --counters/--displays/--kiosks`);
  }

  const url = await ctx.database(options.database ?? 'latency');
  const db = createDb(url, { max: 5 });
  await options.prepare?.(db, url);
  const sites = await seedLoad(db, { sites: sitesN, countersPerSite: perSite.counters, displaysPerSite: perSite.displays, kiosksPerSite: perSite.kiosks, openCounters: true });
  await prepareFloorTable(url);
  await fillFloorTable(url, sites, Math.ceil((rate * floorS * 2.5) / sitesN / 2) + 20);

  const server = await startQmsServer({
    databaseUrl: url, nodeArgs: ['--inspect-port=127.0.0.1:0'], env: { ...(notify === 'off' ? { QMS_NOTIFY_POLL_MS: '0' } : {}), ...options.serverEnv }, ...(options.serverArgs ? { args: options.serverArgs } : {}),
  });
  const floor = await startFloorServer(url);
  const fleets: Fleet[] = [];
  let clientsChild: Child | undefined;
  let receiver: Child | undefined;
  try {
    // ---- notifications: a webhook per site, to all ticket events, at a receiver of our own ----
    if (notify === 'on') {
      const secret = `bench-webhook-${Math.random().toString(36).slice(2)}-secret`;
      receiver = startChild(path.join(ROOT, 'bench/src/lib/webhook-receiver.ts'), {}, [], [secret, String(webhookDelayMs)]);
      const { port } = await ipcRequest<{ port: number }>(receiver, { op: 'address' });
      // an admin session straight in the database, like the officials' (lib/load-setup.ts): the
      // server's own admin (QMS_ADMIN_PASSWORD) exists only when it starts on an empty database
      const adminToken = await seedAdmin(db);
      for (const s of sites) {
        const r = await post(server.url, `/sites/${s.siteId}/webhooks`, adminToken, {
          url: `http://127.0.0.1:${port}/qms/${s.code}`, secret, events: ['ticket:issued', 'ticket:called', 'ticket:updated'],
        });
        if (r.status !== 201) throw new Error(`webhook subscription: ${r.status} ${JSON.stringify(r.body)}`);
      }
      ctx.log(`  notifications on: ${sites.length} webhooks (all ticket events) to a receiver on 127.0.0.1:${port} answering after ${webhookDelayMs} ms`);
    } else {
      ctx.log('  notifications off: the server runs with QMS_NOTIFY_POLL_MS=0 (outbox written, nothing relayed or delivered)');
    }
    // ---- sockets: the same layout on both servers ----
    const layout = sites.flatMap((s) => [
      ...s.counters.map((c) => ({ site: s, kind: 'counter' as const, token: c.staffToken, display: -1 })),
      ...s.displays.map((d, i) => ({ site: s, kind: 'display' as const, token: d.token, display: i })),
      ...s.kiosks.map((k) => ({ site: s, kind: 'kiosk' as const, token: k.token, display: -1 })),
    ]);
    // The displays' sockets, whose messages are timed, live in this process; the counters' and
    // kiosks' sockets (connected the same, receiving the same) in a child process of their own
    // (lib/fleet-child.ts), unless --one-client-process: they would otherwise stall the timing
    // loop with their parsing and garbage (see docs/performance.md, the latency analysis).
    const oneProcess = ctx.args.has('one-client-process');
    const timedLayout = oneProcess ? layout : layout.filter((l) => l.kind === 'display');
    const otherLayout = oneProcess ? [] : layout.filter((l) => l.kind !== 'display');
    let t = now();
    let otherReady = 0;
    if (otherLayout.length) {
      clientsChild = startChild(path.join(ROOT, 'bench/src/lib/fleet-child.ts'), {});
      otherReady = (await ipcRequest<{ ready: number }>(clientsChild, { op: 'connect', url: server.url, tokens: otherLayout.map((l) => l.token) }, 120_000)).ready;
    }
    const qmsFleet = await Fleet.connect(server.url, timedLayout.map((l) => l.token), { concurrency: 50 });
    fleets.push(qmsFleet);
    const qmsReady = qmsFleet.ready() + otherReady;
    ctx.log(`  ${qmsReady} of ${layout.length} sockets connected to the server with their snapshot in ${Math.round(now() - t)} ms (${qmsFleet.ready()} in the bench process, ${otherReady} in a child process)`);
    if (qmsReady < layout.length) throw new Error(`only ${qmsReady} of ${layout.length} sockets got a snapshot`);
    t = now();
    let otherFloorReady = 0;
    if (clientsChild) {
      otherFloorReady = (await ipcRequest<{ ready: number }>(clientsChild, { op: 'connect', url: floor.url, tokens: otherLayout.map((l) => l.token), rooms: otherLayout.map((l) => `site:${l.site.siteId}`) }, 120_000)).ready;
    }
    const floorFleet = await Fleet.connect(floor.url, timedLayout.map((l) => l.token), { concurrency: 50, auth: (i) => ({ room: `site:${timedLayout[i]!.site.siteId}` }) });
    fleets.push(floorFleet);
    ctx.log(`  ${floorFleet.ready() + otherFloorReady} of ${layout.length} sockets connected to the floor in ${Math.round(now() - t)} ms`);

    // ---- observers: every display of every site ----
    const displaysOf = new Map<string, number>(sites.map((s) => [s.siteId, s.displays.length]));
    const pendingQms = new Map<string, Pending>(); // counterId -> call in flight
    const pendingFloor = new Map<number, Pending & { site: string }>(); // tag -> call in flight
    const qmsFirst: number[] = [];
    const qmsAll: number[] = [];
    const floorFirst: number[] = [];
    const floorAll: number[] = [];
    let floorPhase = 0;
    const floorFirstByPhase: number[][] = [[], []];
    let slice = 0;
    const qmsBySlice: number[][] = [[]];
    const floorBySlice: number[][] = [[]];
    const qmsTimed: Timed[] = [];
    const issueTimed: Timed[] = []; // first = the issue's HTTP reply time
    const floorTimed: Timed[] = [];
    timedLayout.forEach((l, i) => {
      if (l.kind !== 'display') return;
      qmsFleet.clients[i]!.socket.on('ticket:called', (payload: { counter: { id: string }; recall: boolean }) => {
        const at = now();
        const p = pendingQms.get(payload.counter.id);
        if (!p || payload.recall) return;
        if (p.first === undefined) {
          p.first = at - p.t0;
          qmsFirst.push(p.first);
          (qmsBySlice[slice] ??= []).push(p.first);
          qmsTimed.push({ at: p.at, first: p.first, get http() { return p.http; } });
        }
        if (++p.seen === displaysOf.get(l.site.siteId)) {
          qmsAll.push(at - p.t0);
          pendingQms.delete(payload.counter.id);
        }
      });
      floorFleet.clients[i]!.socket.on('ticket:called', (payload: { tag: number }) => {
        const at = now();
        const p = pendingFloor.get(payload.tag);
        if (!p) return;
        if (p.first === undefined) {
          p.first = at - p.t0;
          floorFirst.push(p.first);
          floorFirstByPhase[floorPhase]!.push(p.first);
          (floorBySlice[slice] ??= []).push(p.first);
          floorTimed.push({ at: p.at, first: p.first });
        }
        if (++p.seen === displaysOf.get(p.site)) {
          floorAll.push(at - p.t0);
          pendingFloor.delete(payload.tag);
        }
      });
    });

    // the i-th call of a run: sites in turn, each site's counters in turn
    const counterFor = (i: number): { site: LoadSite; counter: LoadCounter } => {
      const site = sites[i % sites.length]!;
      return { site, counter: site.counters[Math.floor(i / sites.length) % site.counters.length]! };
    };

    // ---- floor ----
    let tag = 0;
    let floorCalls = 0;
    const runFloor = async (seconds: number, settleMs = 1000) => {
      const offset = floorCalls;
      const r = await steady({
        ratePerSecond: rate, durationMs: seconds * 1000, maxInFlight: 200,
        tick: async (i) => {
          const { site, counter } = counterFor(offset + i);
          const id = ++tag;
          pendingFloor.set(id, { t0: now(), at: Date.now(), seen: 0, site: site.siteId });
          const reply = await ipcRequest<{ found: boolean }>(floor, { op: 'call', room: `site:${site.siteId}`, serviceIds: counter.serviceIds, counterId: counter.id, tag: id });
          if (!reply.found) pendingFloor.delete(id);
        },
      });
      floorCalls += r.started + r.shed;
      // every broadcast of the turn arrives before the next turn (or is counted out after 5 s):
      // a slow call must not be dropped from the figures by the end of its turn
      await sleep(settleMs);
      await until(() => pendingFloor.size === 0, 5_000);
      pendingFloor.clear();
      return r;
    };

    const loadPid = options.turnLoad?.pid;
    const pids = [server.pid, floor.pid, ...(clientsChild ? [clientsChild.pid] : []), ...(loadPid ? [loadPid] : [])];
    const named = (names: string[]) => [...names, ...(clientsChild ? ['untimed clients (child)'] : []), ...(loadPid ? [options.turnLoad?.name ?? 'load'] : [])];
    // what the processes and PostgreSQL do, from here to the end of the measured runs
    startLoopMonitor();
    takeLoopRecord();
    await startServerLoopMonitor(server);
    await ipcRequest(floor, { op: 'loop-start' });
    const checkpointsBefore = await checkpointCount(url).catch(() => Number.NaN);
    const pgSampler = samplePg(url, 100);
    const measuredFrom = Date.now();
    const loadBefore = (await import('node:os')).loadavg()[0]!;

    let floorCpuLine = '';
    if (floorMode === 'around') {
      ctx.log(`  floor (before): ${rate} calls/s for ${floorS} s`);
      const floorCpu = cpuMark(pids);
      await runFloor(floorS);
      floorCpuLine = cpuSince(floorCpu, pids, named(['queue server (idle)', 'floor server']));
    }

    // ---- the system ----
    // A centre in full swing before the clock starts: a queue in every service, and every
    // counter serving a ticket (one untimed call each, which also takes a ticket per counter
    // from the queue), so each timed call is what an official does all day: finish the
    // current ticket, call the next. (Without it most timed calls were a counter's first of
    // the run, with nothing to finish, and the official's token, resolved by the socket's
    // handshake minutes before, no longer cached: a lookup a working counter does not pay.)
    const warmPerService = ctx.num('warm-queue', 12, 6);
    const warm = sites.flatMap((s) => {
      const perService = warmPerService + 2 * Math.ceil(s.counters.length / s.services.length);
      return s.services.flatMap((serviceId) => Array.from({ length: perService }, (_, i) => ({ s, serviceId, k: s.kiosks[i % s.kiosks.length]! })));
    });
    await pool(warm, 8, async ({ s, serviceId, k }) => {
      const r = await post(server.url, `/sites/${s.siteId}/tickets`, k.token, { serviceId });
      if (r.status !== 201) throw new Error(`warm-up issue: ${r.status} ${JSON.stringify(r.body)}`);
    });
    const current = new Map<string, string>(); // counterId -> ticket it holds
    await pool(sites.flatMap((s) => s.counters), 8, async (counter) => {
      const r = await post(server.url, `/counters/${counter.id}/call-next`, counter.staffToken);
      if (r.status !== 200) throw new Error(`warm-up call: ${r.status} ${JSON.stringify(r.body)}`);
      current.set(counter.id, r.body.ticket.id);
    });
    // the warm-up's events (about a thousand webhooks) are delivered before the clock starts:
    // the timed calls meet the worker's steady state, not a backlog
    if (notify === 'on') {
      const t1 = now();
      const drained = await until(async () => drainedOf(await backlog(db)), 120_000, 250);
      ctx.log(`  warm-up's notifications ${drained ? 'delivered' : 'NOT all delivered'} in ${round((now() - t1) / 1000, 1)} s`);
    }
    // the system's load warms up too (the reports' thread and connections start, their code is
    // compiled), as on a server where managers have been reading reports for a while
    if (options.turnLoad) {
      await options.turnLoad.start(server.url);
      await sleep(5_000);
      await options.turnLoad.pause();
      options.turnLoad.forget?.();
    }
    let outboxBefore = await outboxCount(db);
    // the timed turns start here (measuredFrom, for the loop and PostgreSQL records, is before the warm-up)
    let timedFrom = Date.now();
    const busy = new Set<string>();
    const callHttp: number[] = [];
    const statuses: Record<string, number> = {};
    const count = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
    const issueHttp: number[] = [];
    let systemCalls = 0;
    let systemIssues = 0;
    const runSystem = async (seconds: number) => {
      const callOffset = systemCalls;
      const issueOffset = systemIssues;
      const [c, iss] = await Promise.all([
      steady({
        ratePerSecond: rate, durationMs: seconds * 1000, maxInFlight: 200,
        tick: async (j) => {
          const i = callOffset + j;
          const { counter } = counterFor(i);
          if (busy.has(counter.id)) {
            count('counter busy (skipped)');
            return;
          }
          busy.add(counter.id);
          try {
            const held = current.get(counter.id);
            if (held) {
              const f = await post(server.url, `/tickets/${held}/finish`, counter.staffToken);
              count(`finish ${f.status}`);
              current.delete(counter.id);
            }
            const pending: Pending = { t0: now(), at: Date.now(), seen: 0 };
            pendingQms.set(counter.id, pending);
            const r = await post(server.url, `/counters/${counter.id}/call-next`, counter.staffToken);
            count(`call-next ${r.status}`);
            if (r.status === 200) {
              callHttp.push(r.ms);
              pending.http = r.ms;
              current.set(counter.id, r.body.ticket.id);
            } else pendingQms.delete(counter.id);
          } finally {
            busy.delete(counter.id);
          }
        },
      }),
      steady({
        ratePerSecond: issueRate, durationMs: seconds * 1000, maxInFlight: 200,
        tick: async (j) => {
          const i = issueOffset + j;
          const site = sites[i % sites.length]!;
          const kiosk = site.kiosks[Math.floor(i / sites.length) % site.kiosks.length]!;
          const r = await post(server.url, `/sites/${site.siteId}/tickets`, kiosk.token, { serviceId: site.services[i % site.services.length] });
          count(`issue ${r.status}`);
          if (r.status === 201) issueHttp.push(r.ms);
          issueTimed.push({ at: Date.now() - r.ms, first: r.ms });
        },
      }),
      ]);
      systemCalls += c.started + c.shed;
      systemIssues += iss.started + iss.shed;
      return [c, iss] as const;
    };
    const calls = { started: 0, shed: 0 };
    const issues = { started: 0 };
    const addUp = ([c, iss]: readonly [{ started: number; shed: number }, { started: number }]) => {
      calls.started += c.started;
      calls.shed += c.shed;
      issues.started += iss.started;
    };

    // A few seconds of each side's load, untimed, in the turns' order: the first moments of load
    // on a process just started (the finish's first run on each of the pool's connections, the
    // code V8 has not compiled yet) made several of the slowest calls of a run, 0.2-0.4 s into
    // the first system turn (run-2026-12-07T12-00-00-987Z.json: 6 of the 20 slowest), and the
    // floor's first call was among its own slowest. A server at a centre's peak has been running
    // since the morning.
    const warmTurnS = ctx.num('warm-turn', 2, 2);
    if (warmTurnS > 0) {
      ctx.log(`  untimed warm-up turns: floor ${warmTurnS} s, system ${warmTurnS} s`);
      await runFloor(warmTurnS, 300);
      await runSystem(warmTurnS);
      await sleep(300);
      await until(() => pendingQms.size === 0, 5_000);
      pendingQms.clear();
      for (const kept of [qmsFirst, qmsAll, floorFirst, floorAll, callHttp, issueHttp, qmsTimed, issueTimed, floorTimed, ...floorFirstByPhase, ...qmsBySlice, ...floorBySlice]) kept.length = 0;
      for (const key of Object.keys(statuses)) delete statuses[key];
      if (notify === 'on') await until(async () => drainedOf(await backlog(db)), 60_000, 250);
      outboxBefore = await outboxCount(db);
      timedFrom = Date.now();
    }

    let systemCpuLine = '';
    let runQueue: RunQueueMeter | undefined;
    const turns: { kind: 'floor' | 'system'; from: number }[] = [];
    let lost = 0;
    if (floorMode === 'around') {
      ctx.log(`  system: ${rate} calls/s and ${issueRate} issues/s for ${durationS} s over ${sites.length} sites`);
      const systemCpu = cpuMark(pids);
      await options.turnLoad?.start(server.url);
      addUp(await runSystem(durationS));
      await options.turnLoad?.pause();
      systemCpuLine = cpuSince(systemCpu, pids, named(['queue server', 'floor server (idle)']));
      await sleep(1000);
      lost = pendingQms.size;
      floorPhase = 1;
      ctx.log(`  floor (after): ${rate} calls/s for ${floorS} s`);
      await runFloor(floorS);
    } else {
      const slices = Math.max(1, Math.round(durationS / sliceS));
      const floorSlice = (floorS * 2) / slices;
      ctx.log(`  floor and system in turns: ${slices} × (floor ${round(floorSlice, 1)} s, system ${round(durationS / slices, 1)} s); ${rate} calls/s, and ${issueRate} issues/s in the system's turns, over ${sites.length} sites`);
      const both = cpuMark(pids);
      const postmaster = await postmasterPid(db);
      const pgCpu = familyCpu(postmaster);
      const waitGroups: Record<string, RunQueueGroup> = {
        'queue server': { pids: [server.pid] }, 'its main thread': { thread: server.pid }, 'floor server': { pids: [floor.pid] }, 'bench process (timing)': { self: true }, 'its main thread (timestamps)': { thread: process.pid },
        ...(clientsChild ? { 'untimed clients (child)': { pids: [clientsChild.pid] } } : {}), PostgreSQL: { family: postmaster },
      };
      runQueue = new RunQueueMeter(waitGroups);
      // (setpriority on a pid sets that thread's: the main thread alone)
      if (options.nice?.timing !== undefined) setPriority(0, options.nice.timing);
      if (options.nice?.serverMain !== undefined) setPriority(server.pid, options.nice.serverMain);
      for (let k = 0; k < slices; k++) {
        floorPhase = k < slices / 2 ? 0 : 1;
        slice = k;
        turns.push({ kind: 'floor', from: Date.now() });
        runQueue.mark('floor');
        await runFloor(floorSlice, 300);
        turns.push({ kind: 'system', from: Date.now() });
        runQueue.mark('system');
        await options.turnLoad?.start(server.url);
        addUp(await runSystem(durationS / slices));
        // the load's requests in flight finish before the floor's turn (the floor runs bare)
        await options.turnLoad?.pause();
        await sleep(300); // the last events of the turn arrive (a call's displays, the stats count)
        await until(() => pendingQms.size === 0, 5_000);
        lost += pendingQms.size;
        pendingQms.clear();
      }
      runQueue.mark();
      if (options.nice?.timing !== undefined) setPriority(0, 0);
      systemCpuLine = cpuSince(both, pids, named(['queue server', 'floor server'])) + ` Of the rest, the bench's PostgreSQL ${pgCpu()}% (floor and system turns together).`;
    }
    const measuredTo = Date.now();
    const loadAfter = (await import('node:os')).loadavg()[0]!;
    let deliveries: DeliveryFigures | undefined;
    if (receiver) {
      // the last events of the measured runs: their webhooks arrive within a few hundred ms
      await until(async () => drainedOf(await backlog(db)), 10_000, 100);
      const outboxWritten = (await outboxCount(db)) - outboxBefore;
      const taken = await ipcRequest<{ deliveries: [number, number, string, number][]; badSignatures: number }>(receiver, { op: 'take' });
      const during = taken.deliveries.filter(([arrived, lag]) => arrived - lag >= timedFrom && arrived - lag <= measuredTo);
      const byType: Record<string, number> = {};
      for (const d of during) byType[d[2]] = (byType[d[2]] ?? 0) + 1;
      const b = await backlog(db);
      deliveries = {
        received: during.length, byType, repeats: during.filter((d) => d[3]).length, badSignatures: taken.badSignatures,
        lag: summarize(during.map((d) => d[1])), outboxWritten, unrelayed: b.unrelayed, pending: b.pending, failed: b.failed,
      };
    }
    const pgSamples = await pgSampler.stop();
    const checkpoints = (await checkpointCount(url).catch(() => Number.NaN)) - checkpointsBefore;
    const loops: Record<string, LoopRecord> = {
      'queue server': within(await takeServerLoopRecord(server).catch(() => ({ seconds: [], gc: [] })), measuredFrom, measuredTo),
      'floor server': within((await ipcRequest<{ record: LoopRecord }>(floor, { op: 'loop-take' }).catch(() => ({ record: { seconds: [], gc: [] } }))).record, measuredFrom, measuredTo),
      'bench process (clients, timing)': within(takeLoopRecord(), measuredFrom, measuredTo),
    };

    // ---- where the time goes: a CPU profile of the server under the same load, then SQL ----
    /** The measured runs' load again for 15 s: the system's calls and issues, with its turns' load (the managers of `reportload`, say). */
    const profileLoad = async () => {
      await options.turnLoad?.start(server.url);
      await steady({
        ratePerSecond: rate, durationMs: 15_000, maxInFlight: 200,
        tick: async (i) => {
          const { counter } = counterFor(i + 1_000_000);
          if (busy.has(counter.id)) return;
          busy.add(counter.id);
          try {
            const held = current.get(counter.id);
            if (held) {
              await post(server.url, `/tickets/${held}/finish`, counter.staffToken);
              current.delete(counter.id);
            }
            const site = sites.find((s) => s.counters.includes(counter))!;
            await post(server.url, `/sites/${site.siteId}/tickets`, site.kiosks[0]!.token, { serviceId: counter.serviceIds[0] });
            const r = await post(server.url, `/counters/${counter.id}/call-next`, counter.staffToken);
            if (r.status === 200) current.set(counter.id, r.body.ticket.id);
          } finally {
            busy.delete(counter.id);
          }
        },
      });
      await options.turnLoad?.pause();
    };
    const withProfile = options.profile ?? true;
    if (withProfile) ctx.log('  profile: the same load again for 15 s with the CPU profiler on');
    const profile = !withProfile ? { lines: [] as string[] } : await profileServer(server, 15_000, profileLoad)
      .catch((error) => ({ lines: [`CPU profile not taken: ${(error as Error).message}`] }));
    if (options.allocations) ctx.log('  allocations: the same load again for 15 s with the sampling heap profiler on');
    const allocations = !options.allocations ? { lines: [] as string[] } : await allocationProfileServer(server, 15_000, profileLoad)
      .catch((error) => ({ lines: [`Allocation profile not taken: ${(error as Error).message}`] }));
    const sqlLines = !withProfile ? { lines: [] as string[] } : await sqlProfile(url, sites[0]!, 100).catch((error) => ({ lines: [`SQL profile not taken: ${(error as Error).message}`] }));

    /** The floor's turns or the system's, each to the start of the next (the last to the end of the measured runs). */
    const spansOf = (kind: 'floor' | 'system') => turns.map((x, i) => ({ ...x, to: turns[i + 1]?.from ?? measuredTo })).filter((x) => x.kind === kind);
    /** What PostgreSQL wrote in the floor's turns / the system's ("2.1 MB / 18.3 MB"). */
    const grownByTurns = (key: 'walBytes' | 'tempBytes') => (['floor', 'system'] as const).map((kind) => `${round(growthIn(pgSamples, spansOf(kind), key) / 1e6, 1)} MB`).join(' / ');
    const q = summarize(qmsFirst);
    const qa = summarize(qmsAll);
    const f = summarize(floorFirst);
    const fa = summarize(floorAll);
    const h = summarize(callHttp);
    const before = summarize(floorFirstByPhase[0]!);
    const after = summarize(floorFirstByPhase[1]!);
    const ratio99 = q.p99 / f.p99;
    notes.push(
      `${sites.length} sites, ${sites.length * perSite.counters} open counters (official's socket each), ${sites.length * perSite.displays} displays, ${sites.length * perSite.kiosks} kiosks: ${layout.length} WebSocket clients per server, ${oneProcess ? 'all in the bench process' : `the ${timedLayout.length} displays (timed) in the bench process, the ${otherLayout.length} others in a child process`}; server = server/src/main.ts as a child process on an embedded PostgreSQL (fsync on).`,
      `Load: ${rate} calls/s (each preceded by the counter's finish of its previous ticket) and ${issueRate} issues/s for ${durationS} s; ${calls.started} calls started, ${calls.shed} shed, ${issues.started} issues. Replies: ${Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(', ')}. Calls whose event never reached every display: ${lost}.`,
      `Call-next HTTP reply time: p50 ${round(h.p50, 1)} ms, p99 ${round(h.p99, 1)} ms; issue reply p50 ${round(summarize(issueHttp).p50, 1)} ms, p99 ${round(summarize(issueHttp).p99, 1)} ms.`,
      floorMode === 'around'
        ? `Floor before the system run: p50 ${round(before.p50, 2)} ms, p99 ${round(before.p99, 2)} ms; after: p50 ${round(after.p50, 2)} ms, p99 ${round(after.p99, 2)} ms (${floorS} s each at the same call rate, the same ${layout.length} sockets and rooms).`
        : `Floor in turns with the system (--floor-mode=interleaved, ${sliceS} s turns, ${floorS * 2} s of floor in all): first half p50 ${round(before.p50, 2)} ms, p99 ${round(before.p99, 2)} ms; second half p50 ${round(after.p50, 2)} ms, p99 ${round(after.p99, 2)} ms (same call rate, the same ${layout.length} sockets and rooms).`,
      floorMode === 'around' ? `During the system run: ${systemCpuLine} During the first floor run: ${floorCpuLine}` : `During the measured runs: ${systemCpuLine}`,
      `Load average (1 min) ${round(loadBefore, 2)} before the measured runs, ${round(loadAfter, 2)} after; PostgreSQL checkpoints during them: ${checkpoints}; the checkpointer was busy in ${round(shareWith(pgSamples, /^checkpointer:/) * 100, 0)}% of ${pgSamples.length} samples (every 100 ms); the queue server's pool (20 connections) had at most ${serverBusyMax(pgSamples)} busy at once in them.`,
      `PostgreSQL backends seen in the timed turns, the floor's and the system's (every 100 ms; server: the queue server's pool, reports: the reports' own pool, facts: the report facts' builder, floor: the floor server's pool, client: any other): ${waitsIn(pgSamples, timedFrom, measuredTo, 8)}.`,
      ...Object.entries(loops).map(([name, r]) => describeLoop(name, r) + '.'),
      ...(turns.length ? [`In the floor's turns / the system's turns: ${Object.entries(loops).map(([name, r]) => {
        const part = (kind: 'floor' | 'system') => {
          const spans = spansOf(kind);
          const gc = r.gc.filter((g) => spans.some((x) => g.at >= x.from && g.at < x.to));
          const windows = r.seconds.filter((w) => spans.some((x) => w.at > x.from && w.at <= x.to));
          return `GC ${round(gc.reduce((a, g) => a + g.ms, 0), 0)} ms (${gc.filter((g) => g.ms > 10).length} over 10 ms), ${windows.filter((w) => w.max > 20).length} windows with a loop delay over 20 ms`;
        };
        return `${name}: ${part('floor')} / ${part('system')}`;
      }).join('; ')}. PostgreSQL in the floor's turns / the system's turns (every 100 ms): WAL inserted ${grownByTurns('walBytes')}, temporary files written ${grownByTurns('tempBytes')} (as reported at each file's close); backends seen in the floor's turns: ${waitsWithin(pgSamples, spansOf('floor'), 6)}; in the system's: ${waitsWithin(pgSamples, spansOf('system'), 6)}.`] : []),
      ...(runQueue ? [`Waiting for a core while runnable, every thread (the kernel's run delay, /proc/<pid>/task/*/schedstat), per second of the floor's turns / of the system's turns, with the time run: ${runQueue.describe(['floor', 'system'])}.`] : []),
      ...tail('system', qmsTimed, q.p99, loops, pgSamples, issueTimed),
      ...tail('floor', floorTimed, f.p99, loops, pgSamples, issueTimed),
      serverWarnings(server.output()),
      ...profile.lines,
      ...allocations.lines,
      ...sqlLines.lines,
    );
    const halves = (bySlice: number[][], all: number[]): [Summary, Summary] => {
      const filled = bySlice.filter((x) => x?.length);
      if (filled.length >= 2) {
        const mid = Math.ceil(filled.length / 2);
        return [summarize(filled.slice(0, mid).flat()), summarize(filled.slice(mid).flat())];
      }
      return [summarize(all.slice(0, Math.floor(all.length / 2))), summarize(all.slice(Math.floor(all.length / 2)))];
    };
    const firstHalves = halves(qmsBySlice, qmsFirst);
    const lr: LatencyRaw = {
      notify, first: q, floorFirst: f, firstHalves, floorHalves: [before, after],
      sliceP50: { system: qmsBySlice.filter((x) => x?.length).map((x) => round(summarize(x).p50, 2)), floor: floorBySlice.filter((x) => x?.length).map((x) => round(summarize(x).p50, 2)) },
      ...(deliveries ? { deliveries } : {}), loadBefore, loadAfter,
    };
    notes.push(
      `Notifications ${notify}${notify === 'off' ? ' (QMS_NOTIFY_POLL_MS=0)' : ''}. System first display by halves of the run: p50 ${round(firstHalves[0].p50, 2)} / ${round(firstHalves[1].p50, 2)} ms, p95 ${round(firstHalves[0].p95, 2)} / ${round(firstHalves[1].p95, 2)} ms, p99 ${round(firstHalves[0].p99, 2)} / ${round(firstHalves[1].p99, 2)} ms; p50 per turn: system ${lr.sliceP50.system.join(', ')} ms, floor ${lr.sliceP50.floor.join(', ')} ms.`,
      ...(deliveries ? [`Webhooks during the measured runs: ${deliveries.received} deliveries (${Object.entries(deliveries.byType).map(([k, v]) => `${k} ${v}`).join(', ')}) of ${deliveries.outboxWritten} outbox rows written, ${deliveries.repeats} repeats, ${deliveries.badSignatures} bad signatures; lag from the event's occurredAt to arrival p50 ${round(deliveries.lag.p50, 1)} ms, p95 ${round(deliveries.lag.p95, 1)} ms, max ${round(deliveries.lag.max, 1)} ms; at the end ${deliveries.unrelayed} outbox rows unrelayed, ${deliveries.pending} webhook messages pending, ${deliveries.failed} failed.`] : []),
    );
    return {
      name: 'latency',
      title: options.title ?? `Call-to-screen latency (notifications ${notify})`,
      figures: [
        { label: 'call → first display, p50', value: round(q.p50, 2), unit: 'ms', floor: round(f.p50, 2), ratio: round(q.p50 / f.p50, 2) },
        { label: 'call → first display, p95', value: round(q.p95, 2), unit: 'ms', floor: round(f.p95, 2), ratio: round(q.p95 / f.p95, 2) },
        { label: 'call → first display, p99', value: round(q.p99, 2), unit: 'ms', floor: round(f.p99, 2), ratio: round(ratio99, 2), target: 'p99 ≤ 2× floor', met: ratio99 <= 2 },
        { label: 'call → every display of the site, p99', value: round(qa.p99, 2), unit: 'ms', floor: round(fa.p99, 2), ratio: round(qa.p99 / fa.p99, 2) },
        ...(deliveries ? [
          { label: 'webhook deliveries while timed', value: deliveries.received, unit: '' },
          { label: 'webhook lag (occurredAt → arrival), p50', value: round(deliveries.lag.p50, 1), unit: 'ms' },
          { label: 'webhook lag (occurredAt → arrival), p95', value: round(deliveries.lag.p95, 1), unit: 'ms' },
        ] : []),
      ],
      notes,
      raw: {
        notify: lr, floorMode, sliceS, turns, first: q, all: qa, floorFirst: f, floorAll: fa, floorBefore: before, floorAfter: after, callHttp: h, statuses,
        loops: Object.fromEntries(Object.entries(loops).map(([k, r]) => [k, { seconds: r.seconds.map((x) => [x.at, round(x.max, 1)]), gcOver5ms: r.gc.filter((p) => p.ms > 5).map((p) => [Math.round(p.at), round(p.ms, 1), p.kind]) }])),
        slowest: { system: slowest(qmsTimed, 20), floor: slowest(floorTimed, 20) },
        pgWaits: waitsIn(pgSamples, timedFrom, measuredTo, 12),
      },
    };
  } finally {
    if (receiver) {
      await ipcRequest(receiver, { op: 'close' }, 10_000).catch(() => {});
      await receiver.stop(5_000);
    }
    for (const fleet of fleets) await fleet.close();
    if (clientsChild) {
      await ipcRequest(clientsChild, { op: 'close' }, 30_000).catch(() => {});
      await clientsChild.stop(5_000);
    }
    await options.turnLoad?.close?.();
    await server.stop();
    await floor.stop();
    await db.destroy();
  }
}

const slowest = (timed: Timed[], n: number) => [...timed].sort((a, b) => b.first - a.first).slice(0, n)
  .map((t) => ({ at: t.at, first: round(t.first, 1), ...(t.http !== undefined ? { http: round(t.http, 1) } : {}) }));

/**
 * The calls at or above the p99 of `which`: when they happened, how long their HTTP reply took,
 * and what each process (worst event-loop delay, GC time) and PostgreSQL did meanwhile.
 */
function tail(which: string, timed: Timed[], p99: number, loops: Record<string, LoopRecord>, pg: import('../lib/pg-waits.ts').PgSample[], issues: Timed[]): string[] {
  const slow = timed.filter((t) => t.first >= p99).sort((a, b) => b.first - a.first).slice(0, 6);
  if (!slow.length) return [];
  const t0 = Math.min(...timed.map((t) => t.at));
  return [`Slowest ${which} calls (at or over its p99, ${round(p99, 1)} ms): ` + slow.map((t) => {
    const from = t.at;
    const to = t.at + t.first;
    const procs = Object.entries(loops).map(([name, r]) => {
      const w = worstIn(r, from, to);
      return `${name.split(' ')[0]} loop ≤${round(w.loop, 0)} ms/GC ${round(w.gc, 0)} ms`;
    }).join(', ');
    const overlapping = issues.filter((x) => x.at < to && x.at + x.first > from);
    const issueLine = overlapping.length ? `; issues overlapping: ${overlapping.length}, slowest ${round(Math.max(...overlapping.map((x) => x.first)), 0)} ms` : '';
    return `+${round((t.at - t0) / 1000, 1)} s: ${round(t.first, 1)} ms${t.http !== undefined ? ` (HTTP reply ${round(t.http, 1)} ms)` : ''} [${procs}${issueLine}; PostgreSQL ${waitsIn(pg, from - 50, to + 50)}]`;
  }).join('; ') + '.'];
}

/** Warnings and errors the server logged during the run (pino levels 40+), in short. */
function serverWarnings(output: string): string {
  const lines = output.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
  if (!lines.length) return 'The server logged no warning or error during the run.';
  const msgs = new Map<string, number>();
  for (const l of lines) {
    const m = /"msg":"([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 80);
    msgs.set(m, (msgs.get(m) ?? 0) + 1);
  }
  return `The server logged ${lines.length} warnings/errors: ${[...msgs.entries()].map(([m, n]) => `"${m}" ×${n}`).join(', ')}.`;
}

/** Outbox rows not yet relayed; webhook messages waiting (or retrying) and failed. */
async function backlog(db: import('@qms/db').Db): Promise<{ unrelayed: number; pending: number; failed: number }> {
  const r = await sql<{ unrelayed: string; pending: string; failed: string }>`
    SELECT (SELECT count(*) FROM outbox WHERE relayed_at IS NULL) AS unrelayed,
           (SELECT count(*) FROM notification WHERE channel = 'webhook' AND status = 'pending') AS pending,
           (SELECT count(*) FROM notification WHERE channel = 'webhook' AND status = 'failed') AS failed`.execute(db);
  const row = r.rows[0]!;
  return { unrelayed: Number(row.unrelayed), pending: Number(row.pending), failed: Number(row.failed) };
}

const drainedOf = (b: { unrelayed: number; pending: number }) => b.unrelayed + b.pending === 0;

async function outboxCount(db: import('@qms/db').Db): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*) AS n FROM outbox`.execute(db);
  return Number(r.rows[0]!.n);
}
