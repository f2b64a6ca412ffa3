import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, freePort } from '@qms/db';
import { ApiError, createClient, issueWithRetries, type Issuer, type QmsClient } from '@qms/protocol/client';
import { fillFloorTable, prepareFloorTable, startFloorServer } from '../floor/floor.ts';
import { cpuMark, cpuSince, familyPids, postmasterPid } from '../lib/cpu.ts';
import { get, post } from '../lib/http.ts';
import { seedLoad, type LoadCounter, type LoadSite } from '../lib/load-setup.ts';
import { describeLoop, startLoopMonitor, takeLoopRecord, within, type LoopRecord } from '../lib/loop-monitor.ts';
import { ipcRequest, pssMb, ROOT, startChild, startQmsServer, type QmsServer } from '../lib/processes.ts';
import { profileServer, serverMemory, startServerLoopMonitor, takeServerLoopRecord } from '../lib/profile.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now, sleep, until } from '../lib/util.ts';

// i. A province's morning peak on one server process (issue 20, target 2).
// S sites of different sizes (the provincial centre and communes of 6 to 16 counters; 150 sites
// and 1,500 counters at full scale), each with the demo centre's commune services and counter
// layout (db/seed/demo-centre.json), and per counter what a centre has connected: the counter
// terminal and the rating tablet; per site wall displays (0.4 per counter, at least 2), kiosks
// (0.3 per counter, at least 1) and one site agent per kiosk (the kiosk's token, auth {agent:
// true}): about 3 devices per counter, 4,500 at full scale, real socket.io clients.
// The morning is replayed at --speed (10×) its real rate: arrivals by quarter hour with the
// one-stop centres' shape (the report history's: peak at 09:00, lib/report-history.ts) over
// --per-counter tickets per counter in a morning, Poisson within each quarter, services drawn by
// weight (each service as much as the demo's counters give it time); kiosks issue over HTTP; each
// counter's official calls the next ticket over HTTP when the counter screen shows someone waiting
// for its services, serves it for a log-normal time around 7 min (half for the demo's `quick`
// services, longer for the services with a longer target wait), compressed by the same speed,
// finishes it over HTTP, and calls again.
// Phone pages: the citizen's page behind the ticket's QR code (/t/:publicId) has no socket: it
// polls GET /public/tickets/:publicId every 12 s (5 s while the rating is open; after an error
// 3 s, doubling to a minute, ±25 %), as server/src/phone/client/phone-page.ts does. --phones pages (500)
// follow the first tickets issued, and the next ones as their tickets end; their "call → seen"
// time is bounded by the poll period and is reported on its own, not against the floor.
// Timed: call → the site's first display (display 1 of each site, in the bench process; every
// other socket lives in a child process, lib/fleet-child.ts). Floor: bare pg + socket.io
// (floor/floor-server.ts) with the same sockets in the same site rooms, in turns with the
// system (--slice seconds of the system, then half as long of the floor replaying the calls of
// the system's turn at the same moments, the same counters and sites): the replay's clock stops
// during the floor's turns. Memory: the server's RSS from /proc every second. Drops: every
// client's disconnects during the peak. Then a crash (SIGKILL) and a restart on the same port,
// the officials and kiosks going on through it: time until every device has a fresh snapshot
// and every phone page a successful poll, and how each call made meanwhile reached its site's
// display (live, or only in the snapshot it got back with: said late or shown only).

interface DemoService { code: string; prefix: string; name: { vi: string; en: string }; targetWaitSeconds?: number; quick?: boolean }
interface DemoCentre { sites: { level: string; openingHours: Record<string, [string, string][]>; services: DemoService[]; counters: { services: string[] }[] }[] }

/** Share of a day's arrivals per quarter hour of the morning session (lib/report-history.ts, g_quarter). */
const QUARTERS: [string, number][] = [
  ['07:30', 0.5], ['07:45', 0.8], ['08:00', 1.0], ['08:15', 1.2], ['08:30', 1.35], ['08:45', 1.45], ['09:00', 1.5],
  ['09:15', 1.45], ['09:30', 1.35], ['09:45', 1.2], ['10:00', 1.05], ['10:15', 0.9], ['10:30', 0.75], ['10:45', 0.6],
  ['11:00', 0.4], ['11:15', 0.2],
];
const MORNING_WEIGHT = QUARTERS.reduce((a, [, w]) => a + w, 0);
const PHONE_POLL_MS = 12_000;
const PHONE_RATING_POLL_MS = 5_000;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A small seeded generator (mulberry32): the same morning on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(mean: number, rnd: () => number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(rnd)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rnd(); p > limit; p *= rnd()) k++;
  return k;
}
const gauss = (rnd: () => number) => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());

/** What the bench reads of a display's snapshot: its recent calls, and the counters' current tickets. */
interface CrashSnapshot {
  recentCalls: { ticket: { id: string; status: string; counterId?: string | null }; counter: { id: string } }[];
  counters: { counterId: string; ticket?: { id: string; status: string; counterId?: string | null } | null }[];
}

/**
 * How each call made during the crash reached its site's display: live (its ticket:called), or
 * only in the display's first snapshot after it reconnected (its recent calls or the counter's
 * current ticket), the ticket still `called` at that counter (a display says it late: the rule
 * of display-ui's missedCalls, whose 2-minute bound a crash of seconds never reaches) or
 * already answered (shown only), or neither.
 */
function crashCallsSeen(calls: readonly { ticketId: string; counterId: string; site: number }[], live: readonly Set<string>[], snapshots: readonly (CrashSnapshot | undefined)[]) {
  const seen = { live: 0, late: 0, shown: 0, neither: 0 };
  for (const call of calls) {
    if (live[call.site]!.has(call.ticketId)) {
      seen.live++;
      continue;
    }
    const snapshot = snapshots[call.site];
    const ticket = snapshot?.recentCalls.find((c) => c.ticket.id === call.ticketId)?.ticket
      ?? snapshot?.counters.find((c) => c.ticket?.id === call.ticketId)?.ticket;
    if (!ticket) seen.neither++;
    else if (ticket.status === 'called' && ticket.counterId === call.counterId) seen.late++;
    else seen.shown++;
  }
  return seen;
}

/** Counters per site: the provincial centre (site 1) four times a commune, communes of 6 to 16, summing to `total`. */
export function siteSizes(sites: number, total: number): number[] {
  const weights = Array.from({ length: sites }, (_, s) => (s === 0 ? 40 : 6 + ((s * 7) % 11)));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(6, Math.floor((w * total) / sum)));
  for (let s = 1, left = total - sizes.reduce((a, b) => a + b, 0); left > 0; s = (s % (sites - 1)) + 1, left--) sizes[s]!++;
  return sizes;
}

/** A min-heap of actions on the replay's clock. */
class Agenda {
  private heap: { at: number; run: () => void }[] = [];
  add(at: number, run: () => void): void {
    const h = this.heap;
    h.push({ at, run });
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  /** Runs every action due by `t`. */
  due(t: number): void {
    const h = this.heap;
    while (h.length && h[0]!.at <= t) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length) {
        h[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && h[l]!.at < h[m]!.at) m = l;
          if (r < h.length && h[r]!.at < h[m]!.at) m = r;
          if (m === i) break;
          [h[m], h[i]] = [h[i]!, h[m]!];
          i = m;
        }
      }
      top.run();
    }
  }
}

interface Phone { publicId: string; ticketId: string; calledAt?: number; seenCalled?: boolean; fails: number; lastOkAt: number; closed: boolean; ratingLook?: boolean }

export async function provinceBench(ctx: BenchContext): Promise<BenchResult> {
  const sitesN = ctx.num('sites', 150, 30);
  const countersTotal = ctx.num('counters', sitesN * 10, sitesN * 10);
  const phonesN = ctx.num('phones', 500, 100);
  const speed = ctx.num('speed', 10, 10);
  const perCounter = ctx.num('per-counter', 20, 20); // tickets per counter in a morning
  const from = String(ctx.args.get('from') ?? (ctx.quick ? '08:45' : '08:30'));
  const to = String(ctx.args.get('to') ?? (ctx.quick ? '09:15' : '09:30'));
  const sliceS = ctx.num('slice', 10, 10);
  const floorSliceS = sliceS / 2;
  const withProfile = ctx.args.get('profile') !== 'off';
  const notes: string[] = [];

  // ---- the demo centre: services, the commune's counter layout ----
  const demo = JSON.parse(readFileSync(path.join(ROOT, 'db/seed/demo-centre.json'), 'utf8')) as DemoCentre;
  const commune = demo.sites.find((s) => s.level === 'commune')!;
  const opens = commune.openingHours['mon-fri']![0]![0];
  if (opens !== QUARTERS[0]![0]) notes.push(`The demo centre opens at ${opens}, the arrival shape at ${QUARTERS[0]![0]}.`);
  const services = commune.services.map((s) => ({ code: s.code, prefix: s.prefix, name: s.name }));
  /** median service time (s): 7 min, half for a quick service, scaled by the target wait for the others */
  const serviceMedian = new Map(commune.services.map((s) => [s.code, s.quick ? 210 : 420 * ((s.targetWaitSeconds ?? 900) / 900)]));

  const sizes = siteSizes(sitesN, countersTotal);
  const displaysOf = sizes.map((c) => Math.max(2, Math.round(0.4 * c)));
  const kiosksOf = sizes.map((c) => Math.max(1, Math.round(0.3 * c)));
  const fdLimit = (ctx as BenchContext & { fdLimit?: number }).fdLimit ?? Number.NaN;
  const devicesN = sizes.reduce((a, c, s) => a + 2 * c + displaysOf[s]! + 2 * kiosksOf[s]!, 0);
  // the child holds every device twice (the server's and the floor's), the server and the floor once
  if (Number.isFinite(fdLimit) && fdLimit < devicesN * 2 + 1000) {
    throw new Error(`open files limit ${fdLimit} is too low for ${devicesN * 2} sockets in the clients' process: raise it (ulimit -n ${devicesN * 2 + 2000})`);
  }

  const url = await ctx.database('province');
  const db = createDb(url, { max: 5 });
  ctx.log(`  seeding ${sitesN} sites, ${countersTotal} counters, ${devicesN} devices`);
  const sites = await seedLoad(db, {
    sites: sitesN, countersPerSite: sizes, displaysPerSite: displaysOf, kiosksPerSite: kiosksOf,
    counterDevicesPerSite: sizes, ratingDevicesPerSite: sizes, openCounters: true,
    services, counterServices: (c) => commune.counters[c % commune.counters.length]!.services,
  });
  const serviceIdOf = (site: LoadSite, code: string) => site.services[services.findIndex((s) => s.code === code)] ?? site.services[0]!;
  const codeOf = new Map<string, string>();
  for (const site of sites) services.forEach((s, i) => codeOf.set(site.services[i]!, s.code));

  // ---- the morning: arrivals of [from, to) at `speed` ----
  const rnd = random(20261206);
  const fromMin = minutes(from);
  const toMin = minutes(to);
  const replayMs = ((toMin - fromMin) * 60_000) / speed;
  const arrivals: { at: number; site: number; code: string }[] = [];
  const codes = services.map((s) => s.code);
  // demand as the demo centre is staffed for it: each counter's time shared among its services,
  // divided by the service's time (a counter of a long service sees fewer citizens)
  const serviceWeight = new Map(codes.map((c) => [c, 0]));
  for (const counter of commune.counters) {
    for (const c of counter.services) serviceWeight.set(c, serviceWeight.get(c)! + 1 / counter.services.length / serviceMedian.get(c)!);
  }
  const weightSum = [...serviceWeight.values()].reduce((a, b) => a + b, 0);
  const pickCode = () => {
    let x = rnd() * weightSum;
    for (const c of codes) if ((x -= serviceWeight.get(c)!) < 0) return c;
    return codes[0]!;
  };
  let backlogMean = 0;
  for (const [start, w] of QUARTERS) {
    const q = minutes(start);
    for (let s = 0; s < sitesN; s++) {
      const mean = (perCounter * sizes[s]! * w) / MORNING_WEIGHT;
      if (q < fromMin) backlogMean += mean;
      if (q < fromMin || q >= toMin) continue;
      const n = poisson(mean, rnd);
      for (let i = 0; i < n; i++) arrivals.push({ at: (((q - fromMin) * 60 + rnd() * 900) * 1000) / speed, site: s, code: pickCode() });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  /** arrivals after the window (the crash's, below): `ms` of replay from `at`, at the rate of the window's last quarter hour */
  const arrivalsAfter = (at: number, ms: number) => {
    const w = QUARTERS.filter(([start]) => minutes(start) < toMin).at(-1)![1];
    const more: typeof arrivals = [];
    for (let s = 0; s < sitesN; s++) {
      const n = poisson(((perCounter * sizes[s]! * w) / MORNING_WEIGHT) * (ms / (900_000 / speed)), rnd);
      for (let i = 0; i < n; i++) more.push({ at: at + rnd() * ms, site: s, code: pickCode() });
    }
    return more;
  };
  // the queues at `from`: a third of the morning's arrivals so far still wait (issued untimed)
  const backlog = Math.round(backlogMean / 3);
  const peakRate = (perCounter * countersTotal * Math.max(...QUARTERS.map(([, w]) => w)) / MORNING_WEIGHT / 900) * speed;
  ctx.log(`  the morning ${from}-${to} at ${speed}×: ${arrivals.length} arrivals in ${round(replayMs / 1000, 0)} s (peak ${round(peakRate, 1)}/s), ${backlog} waiting at ${from}`);

  const floorPerService = Math.ceil((arrivals.length / sitesN / services.length) * 4) + 50;
  await prepareFloorTable(url);
  await fillFloorTable(url, sites, floorPerService);

  const port = await freePort();
  const inspectable = ['--inspect-port=127.0.0.1:0'];
  let server: QmsServer = await startQmsServer({ databaseUrl: url, port, nodeArgs: inspectable });
  const floor = await startFloorServer(url);
  floor.child.setMaxListeners(0); // a floor turn's calls wait for their IPC replies together
  const child = startChild(path.join(ROOT, 'bench/src/lib/fleet-child.ts'), {});
  const fleets: Fleet[] = [];
  try {
    // ---- sockets: display 1 of each site here (timed), every other device in the child ----
    type Slot = { site: LoadSite; token: string; agent?: boolean };
    const timed: Slot[] = sites.map((s) => ({ site: s, token: s.displays[0]!.token }));
    const others: Slot[] = sites.flatMap((s) => [
      ...s.displays.slice(1).map((d) => ({ site: s, token: d.token })),
      ...s.kiosks.map((d) => ({ site: s, token: d.token })),
      ...s.kiosks.map((d) => ({ site: s, token: d.token, agent: true })),
      ...s.counterDevices.map((d) => ({ site: s, token: d.token })),
      ...s.ratingDevices.map((d) => ({ site: s, token: d.token })),
    ]);
    const devices = timed.length + others.length;
    let t = now();
    const otherReady = (await ipcRequest<{ ready: number }>(child, {
      op: 'connect', url: server.url, tokens: others.map((o) => o.token), auths: others.map((o) => (o.agent ? { agent: true } : {})),
    }, 300_000)).ready;
    const qmsFleet = await Fleet.connect(server.url, timed.map((x) => x.token), { concurrency: 50 });
    fleets.push(qmsFleet);
    ctx.log(`  ${otherReady + qmsFleet.ready()} of ${devices} devices connected to the server with their snapshot in ${Math.round(now() - t)} ms`);
    if (otherReady + qmsFleet.ready() < devices) throw new Error(`only ${otherReady + qmsFleet.ready()} of ${devices} devices got a snapshot`);
    t = now();
    const otherFloor = (await ipcRequest<{ ready: number }>(child, {
      op: 'connect', url: floor.url, tokens: others.map((o) => o.token), rooms: others.map((o) => `site:${o.site.siteId}`),
    }, 300_000)).ready;
    const floorFleet = await Fleet.connect(floor.url, timed.map((x) => x.token), { concurrency: 50, auth: (i) => ({ room: `site:${timed[i]!.site.siteId}` }) });
    fleets.push(floorFleet);
    ctx.log(`  ${otherFloor + floorFleet.ready()} of ${devices} sockets connected to the floor in ${Math.round(now() - t)} ms`);

    /** Bytes each site's devices have received from the server so far (the child's first fleet is the server's). */
    const bytesBySite = async (): Promise<Map<string, number>> => {
      const { bytes } = await ipcRequest<{ bytes: number[][] }>(child, { op: 'bytes' });
      const out = new Map<string, number>();
      const add = (site: LoadSite, n: number) => out.set(site.siteId, (out.get(site.siteId) ?? 0) + n);
      others.forEach((o, i) => add(o.site, bytes[0]?.[i] ?? 0));
      timed.forEach((x, i) => add(x.site, qmsFleet.clients[i]!.bytes));
      return out;
    };
    const bytesConnected = await bytesBySite();

    // ---- the replay's clock: runs during the system's turns only ----
    let clockOn = false;
    let clockBase = 0;
    let clockFrom = 0;
    const vnow = () => clockBase + (clockOn ? now() - clockFrom : 0);
    const startClock = () => {
      clockFrom = now();
      clockOn = true;
    };
    const stopClock = () => {
      clockBase = vnow();
      clockOn = false;
    };
    const agenda = new Agenda();
    let ticker: NodeJS.Timeout | undefined;
    const tick = () => {
      if (clockOn) agenda.due(vnow());
      ticker = setTimeout(tick, 5);
    };
    tick();
    let inFlight = 0;
    const track = async <T>(p: Promise<T>): Promise<T> => {
      inFlight++;
      try {
        return await p;
      } finally {
        inFlight--;
      }
    };
    let replaying = true;
    /** a request that fails (the server killed under it) is counted, not thrown */
    const failures: Record<string, number> = {};
    const fire = (p: Promise<unknown>) => void p.catch((error: Error) => {
      const key = (error.cause as Error | undefined)?.message?.split(' ')[0] ?? error.message;
      failures[key] = (failures[key] ?? 0) + 1;
    });

    // ---- timing ----
    const pending = new Map<string, { t0: number; at: number }>(); // counterId -> call in flight
    const pendingFloor = new Map<number, { t0: number }>();
    const qmsFirst: number[] = [];
    const floorFirst: number[] = [];
    const callHttp: number[] = [];
    const issueHttp: number[] = [];
    const statuses: Record<string, number> = {};
    const count = (what: string, status: number) => void (statuses[`${what} ${status}`] = (statuses[`${what} ${status}`] ?? 0) + 1);
    let timing = false;
    // ---- the calls made while the province's devices come back after the crash ----
    /** from just before the kill until every device is back (and 2 s more): each successful call-next */
    let crashWatch = false;
    const crashCalls: { ticketId: string; counterId: string; site: number }[] = [];
    /** per timed display (one per site): the tickets whose ticket:called it received, and its first snapshot, while watching */
    const heardLive = qmsFleet.clients.map(() => new Set<string>());
    const snapshotBack: (CrashSnapshot | undefined)[] = qmsFleet.clients.map(() => undefined);
    qmsFleet.clients.forEach((c, i) => c.socket.on('queue:snapshot', (snapshot: CrashSnapshot) => {
      if (crashWatch) snapshotBack[i] ??= snapshot;
    }));
    const siteIndex = new Map(timed.map((x, i) => [x.site.siteId, i]));
    qmsFleet.clients.forEach((c, i) => c.socket.on('ticket:called', (payload: { ticket: { id: string }; counter: { id: string }; recall: boolean }) => {
      if (crashWatch) heardLive[i]!.add(payload.ticket.id);
      const p = pending.get(payload.counter.id);
      if (!p || payload.recall) return;
      pending.delete(payload.counter.id);
      if (timing) qmsFirst.push(now() - p.t0);
    }));
    floorFleet.clients.forEach((c) => c.socket.on('ticket:called', (payload: { tag: number }) => {
      const p = pendingFloor.get(payload.tag);
      if (!p) return;
      pendingFloor.delete(payload.tag);
      floorFirst.push(now() - p.t0);
    }));

    // ---- phone pages ----
    const phones = new Map<string, Phone>(); // ticketId -> its page
    const phoneSeen: number[] = [];
    const phoneHttp: number[] = [];
    let phoneFailures = 0;
    let phonesOpened = 0;
    const poll = (page: Phone, inMs: number) => agenda.add(vnow() + inMs, () => fire(track((async () => {
      if (page.closed) return;
      try {
        const r = await get(server.url, `/public/tickets/${encodeURIComponent(page.publicId)}`);
        if (r.status !== 200) throw new Error(String(r.status));
        phoneHttp.push(r.ms);
        page.fails = 0;
        page.lastOkAt = Date.now();
        const status = r.body.status as string;
        if (status === 'called' && !page.seenCalled && page.calledAt !== undefined) {
          page.seenCalled = true;
          if (timing) phoneSeen.push(vnow() - page.calledAt);
        }
        if (['done', 'no_show', 'cancelled', 'expired'].includes(status)) {
          // one more look while the rating is open (every 5 s), then the citizen puts the phone away
          if (status !== 'done' || !r.body.ratingOpenUntil || page.ratingLook) return close(page);
          page.ratingLook = true;
          return poll(page, PHONE_RATING_POLL_MS);
        }
        poll(page, PHONE_POLL_MS);
      } catch {
        page.fails++;
        phoneFailures++;
        // as the page: 3 s after a failure, doubling to a minute, ±25 %
        poll(page, Math.min(60_000, 3000 * 2 ** (page.fails - 1)) * (0.75 + Math.random() * 0.5));
      }
    })())));
    const close = (page: Phone) => {
      page.closed = true;
      phones.delete(page.ticketId);
    };
    const maybeOpenPhone = (ticket: { id: string; publicId: string }) => {
      if (phones.size >= phonesN) return;
      const page: Phone = { publicId: ticket.publicId, ticketId: ticket.id, fails: 0, lastOkAt: 0, closed: false };
      phones.set(ticket.id, page);
      phonesOpened++;
      poll(page, rnd() * PHONE_POLL_MS);
    };

    // ---- kiosks and officials ----
    /** tickets waiting per service, as the counter screen shows them (queue:stats): an official calls when someone waits */
    const waiting = new Map<string, number>();
    /** each kiosk's API client: a press goes as the kiosk screen's does (issueWithRetries) */
    const kioskClients = new Map<string, QmsClient>();
    /** presses a first attempt did not answer (the crash), then answered by the kiosk's retries with the press's key, or given up */
    const retried = { answered: 0, givenUp: 0 };
    const issue = async (site: LoadSite, code: string) => {
      const kiosk = site.kiosks[Math.floor(rnd() * site.kiosks.length)]!;
      let client = kioskClients.get(kiosk.token);
      if (!client) kioskClients.set(kiosk.token, (client = createClient({ baseUrl: server.url, token: kiosk.token })));
      const serviceId = serviceIdOf(site, code);
      let attempts = 0;
      // as the kiosk does: the same Idempotency-Key on every retry of the press, retried for 20 s
      // (ISSUE_RETRY) when no answer comes, so a lost answer never makes a second ticket
      const counted: Issuer = { issue: (...args) => (attempts++, client.issue(...args)) };
      const t0 = now();
      try {
        const { ticket } = await track(issueWithRetries(counted, site.siteId, { serviceId, lang: 'vi' }, randomBytes(16).toString('hex')));
        count('issue', 201);
        if (attempts > 1) retried.answered++;
        else if (timing) issueHttp.push(now() - t0);
        waiting.set(serviceId, (waiting.get(serviceId) ?? 0) + 1);
        maybeOpenPhone(ticket);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        count('issue', error.status);
        if (attempts > 1) retried.givenUp++;
      }
    };
    /** the calls of the current system turn, for the floor's next turn: [ms into the turn, site, counter] */
    let turnCalls: [number, LoadSite, LoadCounter][] = [];
    let turnStart = 0;
    const serveMs = (code: string) => {
      const median = serviceMedian.get(code) ?? 420;
      return (Math.max(90, Math.min(3600, median * Math.exp(0.55 * gauss(rnd)))) * 1000) / speed;
    };
    const official = (site: LoadSite, counter: LoadCounter) => {
      const callNext = async (): Promise<void> => {
        if (!replaying) return;
        // nobody waits for this counter's services: the official looks again a little later
        if (!counter.serviceIds.some((id) => (waiting.get(id) ?? 0) > 0)) return agenda.add(vnow() + 2_000 / speed, () => fire(callNext()));
        const t0 = now();
        if (timing) turnCalls.push([t0 - turnStart, site, counter]);
        pending.set(counter.id, { t0, at: Date.now() });
        // no reply (the server is down): the official presses again a little later
        const r = await track(post(server.url, `/counters/${counter.id}/call-next`, counter.staffToken)).catch((error: unknown) => {
          pending.delete(counter.id);
          agenda.add(vnow() + 30_000 / speed, () => fire(callNext()));
          throw error;
        });
        count('call-next', r.status);
        if (r.status !== 200) {
          pending.delete(counter.id);
          return agenda.add(vnow() + 30_000 / speed, () => fire(callNext()));
        }
        if (timing) callHttp.push(r.ms);
        const ticket = r.body.ticket as { id: string; serviceId: string };
        if (crashWatch) crashCalls.push({ ticketId: ticket.id, counterId: counter.id, site: siteIndex.get(site.siteId)! });
        waiting.set(ticket.serviceId, Math.max(0, (waiting.get(ticket.serviceId) ?? 0) - 1));
        const page = phones.get(ticket.id);
        if (page) page.calledAt = vnow() - r.ms;
        const finish = async (): Promise<void> => {
          const f = await track(post(server.url, `/tickets/${ticket.id}/finish`, counter.staffToken)).catch((error: unknown) => {
            agenda.add(vnow() + 30_000 / speed, () => fire(finish()));
            throw error;
          });
          count('finish', f.status);
          agenda.add(vnow() + 5_000 / speed, () => fire(callNext()));
        };
        agenda.add(vnow() + serveMs(codeOf.get(ticket.serviceId) ?? 'HT'), () => fire(finish()));
      };
      // at `from` every official is already serving someone: the first call comes when that
      // service ends, anywhere within a service time (not all at once: that would be a storm
      // of 1,500 calls no real morning has)
      agenda.add(vnow() + rnd() * serveMs(codeOf.get(counter.serviceIds[0]!) ?? 'HT'), () => fire(callNext()));
    };

    // ---- the queues at `from` (untimed), then the officials start ----
    t = now();
    const backlogOrder = Array.from({ length: backlog }, () => {
      let x = rnd() * countersTotal;
      let s = 0;
      while ((x -= sizes[s]!) > 0 && s < sitesN - 1) s++;
      return s;
    });
    for (let i = 0; i < backlogOrder.length; i += 20) {
      await Promise.all(backlogOrder.slice(i, i + 20).map((s) => issue(sites[s]!, pickCode())));
    }
    ctx.log(`  ${backlog} tickets waiting at ${from} issued in ${Math.round(now() - t)} ms`);
    for (const a of arrivals) agenda.add(a.at, () => fire(issue(sites[a.site]!, a.code)));
    for (const site of sites) for (const counter of site.counters) official(site, counter);

    // ---- what the processes do ----
    startLoopMonitor();
    takeLoopRecord();
    await startServerLoopMonitor(server);
    await ipcRequest(floor, { op: 'loop-start' });
    const disconnectsBefore = (await ipcRequest<{ total: number }>(child, { op: 'disconnects' })).total + qmsFleet.clients.reduce((a, c) => a + c.disconnects.length, 0);
    const loadBefore = os.loadavg();
    const rss: number[] = [];
    // PostgreSQL's memory: its processes' proportional sizes (the floor's connections included)
    const postmaster = await postmasterPid(db);
    const pgMemory: number[] = [];
    const rssTimer = setInterval(() => {
      rss.push(server.rssMb());
      pgMemory.push(pssMb(familyPids(postmaster)));
    }, 1000);
    const cpu = cpuMark([server.pid, floor.pid, child.pid]);
    const measuredFrom = Date.now();

    // ---- the replay, in turns with the floor ----
    let tag = 0;
    let lostQms = 0;
    let lostFloor = 0;
    const turnP50: { system: number[]; floor: number[] } = { system: [], floor: [] };
    timing = true;
    const bytesBefore = await bytesBySite();
    while (vnow() < replayMs) {
      const n0 = qmsFirst.length;
      turnCalls = [];
      turnStart = now();
      startClock();
      const rssFrom = rss.length;
      await sleep(Math.min(sliceS * 1000, replayMs - vnow() + 5));
      stopClock();
      // the turn's requests finish and their events arrive before the floor's turn
      await until(() => inFlight === 0, 15_000, 5);
      await sleep(200);
      await until(() => pending.size === 0, 5_000);
      lostQms += pending.size;
      pending.clear();
      turnP50.system.push(round(summarize(qmsFirst.slice(n0)).p50, 2));
      // the floor: the same calls at the same moments (the first half of the turn's)
      const f0 = floorFirst.length;
      const fStart = now();
      const floorCalls = turnCalls.filter(([ms]) => ms < floorSliceS * 1000);
      await Promise.all(floorCalls.map(async ([ms, site, counter]) => {
        const wait = fStart + ms - now();
        if (wait > 0) await sleep(wait);
        const id = ++tag;
        pendingFloor.set(id, { t0: now() });
        const reply = await ipcRequest<{ found: boolean }>(floor, { op: 'call', room: `site:${site.siteId}`, serviceIds: counter.serviceIds, counterId: counter.id, tag: id });
        if (!reply.found) pendingFloor.delete(id);
      }));
      await sleep(Math.max(0, fStart + floorSliceS * 1000 - now()));
      await until(() => pendingFloor.size === 0, 5_000);
      lostFloor += pendingFloor.size;
      pendingFloor.clear();
      turnP50.floor.push(round(summarize(floorFirst.slice(f0)).p50, 2));
      ctx.log(`  ${round(vnow() / 1000, 0)} of ${round(replayMs / 1000, 0)} s: ${qmsFirst.length} calls timed, p50 system/floor this turn ${turnP50.system.at(-1)} / ${turnP50.floor.at(-1)} ms, server RSS ${round(Math.max(...rss.slice(rssFrom), 0), 0)} MB`);
    }
    timing = false;
    const bytesAfter = await bytesBySite();
    const measuredTo = Date.now();
    const loadAfter = os.loadavg();
    const cpuLine = cpuSince(cpu, [server.pid, floor.pid, child.pid], ['queue server', 'floor server', 'clients (child)']);
    const childDrops = await ipcRequest<{ total: number; reasons: Record<string, number> }>(child, { op: 'disconnects' });
    const drops = childDrops.total + qmsFleet.clients.reduce((a, c) => a + c.disconnects.length, 0) - disconnectsBefore;
    const loops: Record<string, LoopRecord> = {
      'queue server': within(await takeServerLoopRecord(server).catch(() => ({ seconds: [], gc: [] })), measuredFrom, measuredTo),
      'floor server': within((await ipcRequest<{ record: LoopRecord }>(floor, { op: 'loop-take' }).catch(() => ({ record: { seconds: [], gc: [] } }))).record, measuredFrom, measuredTo),
      'bench process (timing, phone pages)': within(takeLoopRecord(), measuredFrom, measuredTo),
    };

    // ---- where the server's time goes: the replay goes on for 15 s with the CPU profiler on ----
    const profile = !withProfile ? { lines: [] as string[] } : await profileServer(server, 15_000, async () => {
      startClock();
      await sleep(15_000);
      stopClock();
      await until(() => inFlight === 0, 15_000, 5);
    }).catch((error) => ({ lines: [`CPU profile not taken: ${(error as Error).message}`] }));
    clearInterval(rssTimer);
    // what of the RSS is live: the server's memory before and after a full GC
    const memory = await serverMemory(server).catch(() => undefined);
    const waitingLeft = await db.selectFrom('ticket').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'waiting').executeTakeFirst();

    // ---- crash and restart: every device and phone page back ----
    // Officials and kiosks go on through it (--crash-load=off: they stop, phone pages only), as
    // at a real centre: a request with no reply is tried again a few seconds later, and the calls
    // made while the devices come back are followed to each site's display (below).
    const crashLoad = ctx.args.get('crash-load') !== 'off';
    replaying = crashLoad;
    // citizens go on arriving at the kiosks, at the window's last rate, until the clock stops after the crash
    const crashTimeout = ctx.num('storm-timeout', 60, 60) * 1000;
    if (crashLoad) for (const a of arrivalsAfter(vnow(), crashTimeout + 5_000)) agenda.add(a.at, () => fire(issue(sites[a.site]!, a.code)));
    pending.clear();
    await until(() => inFlight === 0, 15_000, 5);
    crashWatch = crashLoad;
    await ipcRequest(child, { op: 'mark' });
    const baseline = qmsFleet.clients.map((c) => c.snapshots);
    const openPages = [...phones.values()];
    startClock();
    const killedAt = Date.now();
    const killedMono = now();
    await server.kill();
    server = await startQmsServer({ databaseUrl: url, port, nodeArgs: inspectable });
    const healthyAt = Date.now();
    const pagesBack = () => openPages.filter((p) => p.closed || p.lastOkAt > killedAt).length;
    let childFresh = { fresh: 0, size: others.length, lastAt: 0, errorsLeft: 0 };
    const devicesBack = async () => {
      childFresh = await ipcRequest(child, { op: 'fresh' });
      return childFresh.fresh + qmsFleet.clients.filter((c, i) => c.socket.connected && c.snapshots > baseline[i]! && !c.lastError).length;
    };
    let devicesAllAt = Number.NaN;
    let pagesAllAt = Number.NaN;
    await until(async () => {
      // the moment this process sees it (polled every 100 ms), on its own monotonic clock: the
      // snapshots' times come from two processes whose wall clocks drift apart on this machine
      // (a run gave a negative recovery time)
      if (Number.isNaN(devicesAllAt) && (await devicesBack()) === devices) devicesAllAt = now();
      if (Number.isNaN(pagesAllAt) && pagesBack() === openPages.length) pagesAllAt = now();
      return !Number.isNaN(devicesAllAt) && !Number.isNaN(pagesAllAt);
    }, crashTimeout, 100);
    await sleep(2_000);
    crashWatch = false;
    stopClock();
    replaying = false;
    await until(() => inFlight === 0, 25_000, 5); // a kiosk's press retries for up to 20 s
    await sleep(500); // the last calls' events arrive
    const keyed = Number((await db.selectFrom('ticket').select((eb) => eb.fn.countAll<string>().as('n')).where('issueKey', 'is not', null).executeTakeFirst())?.n ?? 0);
    const crashSeen = crashCallsSeen(crashCalls, heardLive, snapshotBack);
    const devicesBackN = await devicesBack();
    const crashDevicesS = (devicesAllAt - killedMono) / 1000;
    const crashPagesS = (pagesAllAt - killedMono) / 1000;
    if (crashLoad) ctx.log(`  calls made while the devices came back: ${crashCalls.length}; at their site's display: ${JSON.stringify(crashSeen)}`);
    ctx.log(`  crash restart: ${devicesBackN}/${devices} devices fresh${Number.isFinite(crashDevicesS) ? ` in ${round(crashDevicesS, 2)} s` : ` (not all within ${crashTimeout / 1000} s)`}, ${pagesBack()}/${openPages.length} phone pages polled again${Number.isFinite(crashPagesS) ? ` in ${round(crashPagesS, 2)} s` : ''}; the server was healthy ${round((healthyAt - killedAt) / 1000, 2)} s after the kill`);
    clearTimeout(ticker);

    // ---- figures ----
    const q = summarize(qmsFirst);
    const f = summarize(floorFirst);
    const ph = summarize(phoneSeen);
    const peakRss = Math.max(...rss.filter(Number.isFinite));
    const peakPg = Math.max(...pgMemory.filter((x) => x > 0));
    const ratio99 = q.p99 / f.p99;
    const secs = (x: number) => round(x, 2);
    const figures: Figure[] = [
      { label: 'call → first display, p50', value: round(q.p50, 2), unit: 'ms', floor: round(f.p50, 2), ratio: round(q.p50 / f.p50, 2) },
      { label: 'call → first display, p99', value: round(q.p99, 2), unit: 'ms', floor: round(f.p99, 2), ratio: round(ratio99, 2), target: 'p99 ≤ 2× floor', met: ratio99 <= 2 },
      { label: `server RSS at the peak (${devices} devices, ${phonesN} phone pages)`, value: round(peakRss, 0), unit: 'MB', target: '≤ 500 MB', met: peakRss <= 500 },
      { label: 'PostgreSQL memory at the peak (its processes\' proportional set sizes; the floor\'s connections included)', value: round(peakPg, 0), unit: 'MB' },
      { label: 'sockets dropped during the peak', value: drops, unit: `of ${devices * 1}`, target: 'none', met: drops === 0 },
      { label: `crash restart → all ${devices} devices fresh`, value: secs(crashDevicesS), unit: 's', target: '< 15 s', met: crashDevicesS < 15 },
      { label: `crash restart → all ${openPages.length} phone pages polled again`, value: secs(crashPagesS), unit: 's', target: '< 15 s', met: crashPagesS < 15 },
      ...(crashLoad ? [
        { label: 'calls made from the crash until every device was back (and 2 s more)', value: crashCalls.length, unit: '' },
        { label: '… reaching their site\'s display 1 neither live nor in its reconnect snapshot', value: crashSeen.neither, unit: `of ${crashCalls.length}`, target: 'none', met: crashSeen.neither === 0 },
        { label: '… in its reconnect snapshot only, the citizen still awaited (the display says them late)', value: crashSeen.late, unit: `of ${crashCalls.length}` },
      ] : []),
      { label: 'call → phone page shows it (polls every 12 s), p50', value: round(ph.p50 / 1000, 2), unit: 's' },
      { label: 'call → phone page shows it, p99', value: round(ph.p99 / 1000, 2), unit: 's' },
    ];
    const desc = sites.map((s) => s.counters.length);
    // what each site's link to the server carries: the provincial centre, the largest commune and
    // a commune of the median size; over the replayed window, the same messages as at the real
    // rate over the window's real length
    const windowS = (toMin - fromMin) * 60;
    const communes = sites.slice(1).sort((a, b) => a.counters.length - b.counters.length);
    const link = [['the provincial centre', sites[0]!], ['the largest commune', communes.at(-1)!], ['a median commune', communes[Math.floor(communes.length / 2)]!]] as const;
    const siteDevices = (x: LoadSite) => x.displays.length + 2 * x.kiosks.length + x.counterDevices.length + x.ratingDevices.length;
    const linkOf = (x: LoadSite) => {
      const bytes = (bytesAfter.get(x.siteId) ?? 0) - (bytesBefore.get(x.siteId) ?? 0);
      return { counters: x.counters.length, devices: siteDevices(x), connectKb: round((bytesConnected.get(x.siteId) ?? 0) / 1000, 0), windowMb: round(bytes / 1e6, 2), kbitS: round((bytes * 8) / windowS / 1000, 1) };
    };
    const links = link.map(([name, x]) => ({ name, ...linkOf(x) }));
    figures.push(...links.map((l) => ({ label: `${l.name}'s devices (${l.counters} counters, ${l.devices} devices): data from the server at the real rate, average over ${from}-${to}`, value: l.kbitS, unit: 'kbit/s' })));
    notes.push(
      `What a site's link to the server carries (bytes its devices received: socket.io's packets, without WebSocket, TLS and TCP framing): on connecting, a snapshot each: ${links.map((l) => `${l.name} (${l.counters} counters, ${l.devices} devices) ${l.connectKb} kB`).join('; ')}. Over the window ${from}-${to}, replayed at ${speed}× (the same messages as at the real rate over ${windowS / 60} minutes): ${links.map((l) => `${l.name} ${l.windowMb} MB, ${l.kbitS} kbit/s on average`).join('; ')}. (The waiting counts, queue:stats, are coalesced to about ten a second a site: at ${speed}× more changes share one than at the real rate, where there may be more of them per ticket.)`,
      `${sitesN} sites (the provincial centre ${desc[0]} counters, communes ${Math.min(...desc.slice(1))} to ${Math.max(...desc.slice(1))}), ${countersTotal} open counters with the demo commune's ${services.length} services (${services.map((s) => s.code).join(', ')}) and counter layout; ${devices} device sockets: ${sites.reduce((a, s) => a + s.displays.length, 0)} displays, ${sites.reduce((a, s) => a + s.kiosks.length, 0)} kiosks and as many site agents, ${sites.reduce((a, s) => a + s.counterDevices.length, 0)} counter terminals, ${sites.reduce((a, s) => a + s.ratingDevices.length, 0)} rating tablets; display 1 of each site in the bench process (timed), the ${others.length} others in a child process; server = server/src/main.ts, one process, embedded PostgreSQL (fsync on).`,
      `The morning ${from}-${to} at ${speed}× (${round(replayMs / 1000, 0)} s of replay): ${perCounter} tickets per counter in a morning, arrivals by quarter hour (peak 09:00, ${round(peakRate, 1)} arrivals/s at ${speed}× across the province), ${arrivals.length} arrivals plus ${backlog} waiting at ${from} (issued before the timed turns). Service times log-normal (σ 0.55) around ${[...serviceMedian].map(([c, m]) => `${c} ${Math.round(m)} s`).join(', ')}, divided by ${speed}.`,
      `Replies: ${Object.entries(statuses).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}. Requests that failed (no reply): ${JSON.stringify(failures)}. Tickets still waiting at the end: ${waitingLeft?.n ?? '?'}. Calls timed ${q.n} (system) and ${f.n} (floor); calls whose event never reached the display: ${lostQms} (system), ${lostFloor} (floor).`,
      `Call-next HTTP reply p50 ${round(summarize(callHttp).p50, 1)} ms, p99 ${round(summarize(callHttp).p99, 1)} ms; issue reply p50 ${round(summarize(issueHttp).p50, 1)} ms, p99 ${round(summarize(issueHttp).p99, 1)} ms; phone page poll reply p50 ${round(summarize(phoneHttp).p50, 1)} ms, p99 ${round(summarize(phoneHttp).p99, 1)} ms (${phoneHttp.length} polls, ${phoneFailures} failed, ${phonesOpened} pages opened in all).`,
      `Floor in turns: ${sliceS} s of the system, then ${floorSliceS} s of the floor replaying the first ${floorSliceS} s of the system's calls (same counters, same sites, same moments); p50 per turn: system ${turnP50.system.join(', ')} ms; floor ${turnP50.floor.join(', ')} ms.`,
      `CPU during the turns: ${cpuLine}`,
      `Load average (1/5/15 min) ${loadBefore.map((x) => round(x, 2)).join(' / ')} before the turns, ${loadAfter.map((x) => round(x, 2)).join(' / ')} after.`,
      ...Object.entries(loops).map(([name, r]) => describeLoop(name, r) + '.'),
      ...(memory ? [`Server memory (process.memoryUsage, MB) after the peak and the profile: ${JSON.stringify(memory.before)}; after a full GC: ${JSON.stringify(memory.after)}.`] : []),
      `Disconnects during the peak: ${drops} (the child's clients since they connected: ${JSON.stringify(childDrops.reasons)}).`,
      `Crash (SIGKILL) and restart on the same port: the server healthy ${secs((healthyAt - killedAt) / 1000)} s after the kill; ${devicesBackN} of ${devices} devices with a fresh snapshot ${Number.isFinite(crashDevicesS) ? `${secs(crashDevicesS)} s after the kill` : `(not all within ${crashTimeout / 1000} s)`}, ${childFresh.errorsLeft} left in error; ${pagesBack()} of ${openPages.length} open phone pages with a successful poll ${Number.isFinite(crashPagesS) ? `${secs(crashPagesS)} s after the kill` : ''} (a page whose poll failed tries again after 3 s, doubling to a minute, ±25 %).`,
      crashLoad
        ? `Through the crash the officials went on calling and finishing (a request with no reply tried again ${round(30 / speed, 1)} s later) and the kiosks issuing (as the kiosk screen does: a press with no answer tried again after 0.3, 1, 2, then every 3 s for 20 s, under the press's Idempotency-Key): ${retried.answered + retried.givenUp} presses got no answer at first, ${retried.answered} of them answered by a retry, ${retried.givenUp} given up; tickets with a press's key ${keyed}, presses answered ${statuses['issue 201'] ?? 0} (one ticket a press). ${crashCalls.length} calls succeeded from the kill until every device and phone page was back and 2 s more. At their site's display 1 (the timed one): ${crashSeen.live} arrived live; ${crashSeen.late} only in the display's first snapshot after it reconnected, with the ticket still called at that counter (display-ui says these late: docs/display.md); ${crashSeen.shown} only in that snapshot, already answered (shown, not said); ${crashSeen.neither} neither.`
        : 'The officials and kiosks stopped before the crash (--crash-load=off).',
      ...profile.lines.map((l) => `Server CPU profile, 15 s more of the replay: ${l}`),
    );
    return {
      name: 'province',
      title: `A province's morning peak (${sitesN} sites, ${countersTotal} counters, ${devices} devices, ${phonesN} phone pages, ${speed}×)`,
      figures,
      notes,
      raw: {
        sizes: desc, first: q, floorFirst: f, phone: ph, callHttp: summarize(callHttp), issueHttp: summarize(issueHttp), phoneHttp: summarize(phoneHttp),
        statuses, turnP50, rss, pgMemory: pgMemory.map((x) => round(x, 0)), memory, drops, dropReasons: childDrops.reasons, loadBefore, loadAfter, links,
        crash: { load: crashLoad, presses: { answered: statuses['issue 201'] ?? 0, keyed, noAnswerAtFirst: retried.answered + retried.givenUp, answeredByRetry: retried.answered, givenUp: retried.givenUp }, calls: crashCalls.length, seen: crashSeen, devicesS: crashDevicesS, pagesS: crashPagesS, healthyS: (healthyAt - killedAt) / 1000, devicesBack: devicesBackN, pagesBack: pagesBack(), pages: openPages.length },
        loops: Object.fromEntries(Object.entries(loops).map(([k, r]) => [k, { seconds: r.seconds.map((x) => [x.at, round(x.max, 1)]), gcOver5ms: r.gc.filter((p) => p.ms > 5).map((p) => [Math.round(p.at), round(p.ms, 1), p.kind]) }])),
      },
    };
  } finally {
    for (const fleet of fleets) await fleet.close();
    await ipcRequest(child, { op: 'close' }, 60_000).catch(() => {});
    await child.stop(5_000);
    await server.stop();
    await floor.stop();
    await db.destroy();
  }
}
