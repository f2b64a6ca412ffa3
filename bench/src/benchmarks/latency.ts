import { createDb } from '@qms/db';
import { prepareFloorTable, fillFloorTable, startFloorServer } from '../floor/floor.ts';
import { post } from '../lib/http.ts';
import { seedLoad, type LoadCounter, type LoadSite } from '../lib/load-setup.ts';
import { ipcRequest, startQmsServer } from '../lib/processes.ts';
import { cpuMark, cpuSince } from '../lib/cpu.ts';
import { profileServer, sqlProfile } from '../lib/profile.ts';
import type { BenchContext, BenchResult } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now, pool, sleep, steady } from '../lib/util.ts';

// a. Call-to-screen latency. N sites with their open counters (staff sockets), displays and
// kiosks (device sockets) connected to the server, all real socket.io clients over WebSocket.
// Kiosks issue and counters call at a steady rate; for each call we time from just before the
// HTTP call-next request to the moment the site's first display receives `ticket:called`
// (and to the moment every display of the site has it).
// Floor, same run, same sockets layout and rooms: a bare UPDATE ... FOR UPDATE SKIP LOCKED on
// the same database followed by a bare socket.io broadcast to the site's room, in a plain
// Node process (pg + socket.io, nothing else), timed the same way. Measured before and after
// the system, and pooled.

interface Pending {
  t0: number;
  seen: number;
  first?: number;
}

export async function latencyBench(ctx: BenchContext): Promise<BenchResult> {
  const sitesN = ctx.num('sites', 20, 5);
  const countersTotal = ctx.num('counters', 1000, 250);
  const displaysTotal = ctx.num('displays', 300, 75);
  const kiosksTotal = ctx.num('kiosks', 100, 25);
  const rate = ctx.num('call-rate', 20, 10); // calls per second, all sites together
  const issueRate = ctx.num('issue-rate', rate, rate);
  const durationS = ctx.num('duration', 60, 20);
  const floorS = Math.max(10, Math.round(durationS / 2));
  const perSite = {
    counters: Math.ceil(countersTotal / sitesN), displays: Math.ceil(displaysTotal / sitesN), kiosks: Math.ceil(kiosksTotal / sitesN),
  };
  const fdLimit = (ctx as BenchContext & { fdLimit?: number }).fdLimit ?? Number.NaN;
  const socketsPerSet = sitesN * (perSite.counters + perSite.displays + perSite.kiosks);
  const notes: string[] = [];
  if (Number.isFinite(fdLimit) && fdLimit < socketsPerSet * 2 + 500) {
    throw new Error(`open files limit ${fdLimit} is too low for ${socketsPerSet * 2} sockets: raise it (ulimit -n) or pass --counters/--displays/--kiosks`);
  }

  const url = await ctx.database('latency');
  const db = createDb(url, { max: 5 });
  const sites = await seedLoad(db, { sites: sitesN, countersPerSite: perSite.counters, displaysPerSite: perSite.displays, kiosksPerSite: perSite.kiosks, openCounters: true });
  await prepareFloorTable(url);
  await fillFloorTable(url, sites, Math.ceil((rate * floorS * 2.5) / sitesN / 2) + 20);

  const server = await startQmsServer({ databaseUrl: url, nodeArgs: ['--inspect-port=127.0.0.1:0'] });
  const floor = await startFloorServer(url);
  const fleets: Fleet[] = [];
  try {
    // ---- sockets: the same layout on both servers ----
    const layout = sites.flatMap((s) => [
      ...s.counters.map((c) => ({ site: s, kind: 'counter' as const, token: c.staffToken, display: -1 })),
      ...s.displays.map((d, i) => ({ site: s, kind: 'display' as const, token: d.token, display: i })),
      ...s.kiosks.map((k) => ({ site: s, kind: 'kiosk' as const, token: k.token, display: -1 })),
    ]);
    let t = now();
    const qmsFleet = await Fleet.connect(server.url, layout.map((l) => l.token), { concurrency: 50 });
    fleets.push(qmsFleet);
    ctx.log(`  ${qmsFleet.ready()} of ${layout.length} sockets connected to the server with their snapshot in ${Math.round(now() - t)} ms`);
    if (qmsFleet.ready() < layout.length) throw new Error(`only ${qmsFleet.ready()} of ${layout.length} sockets got a snapshot`);
    t = now();
    const floorFleet = await Fleet.connect(floor.url, layout.map((l) => l.token), { concurrency: 50, auth: (i) => ({ room: `site:${layout[i]!.site.siteId}` }) });
    fleets.push(floorFleet);
    ctx.log(`  ${floorFleet.ready()} of ${layout.length} sockets connected to the floor in ${Math.round(now() - t)} ms`);

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
    layout.forEach((l, i) => {
      if (l.kind !== 'display') return;
      qmsFleet.clients[i]!.socket.on('ticket:called', (payload: { counter: { id: string }; recall: boolean }) => {
        const at = now();
        const p = pendingQms.get(payload.counter.id);
        if (!p || payload.recall) return;
        if (p.first === undefined) {
          p.first = at - p.t0;
          qmsFirst.push(p.first);
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
    const runFloor = async () => {
      const r = await steady({
        ratePerSecond: rate, durationMs: floorS * 1000, maxInFlight: 200,
        tick: async (i) => {
          const { site, counter } = counterFor(i);
          const id = ++tag;
          pendingFloor.set(id, { t0: now(), seen: 0, site: site.siteId });
          const reply = await ipcRequest<{ found: boolean }>(floor, { op: 'call', room: `site:${site.siteId}`, serviceIds: counter.serviceIds, counterId: counter.id, tag: id });
          if (!reply.found) pendingFloor.delete(id);
        },
      });
      await sleep(1000);
      pendingFloor.clear();
      return r;
    };

    ctx.log(`  floor (before): ${rate} calls/s for ${floorS} s`);
    const floorCpu = cpuMark([server.pid, floor.pid]);
    await runFloor();
    const floorCpuLine = cpuSince(floorCpu, [server.pid, floor.pid], ['queue server (idle)', 'floor server']);

    // ---- the system ----
    // a queue in every service before the clock starts, so calls find tickets
    const warmPerService = ctx.num('warm-queue', 12, 6);
    const warm = sites.flatMap((s) => s.services.flatMap((serviceId) => Array.from({ length: warmPerService }, (_, i) => ({ s, serviceId, k: s.kiosks[i % s.kiosks.length]! }))));
    await pool(warm, 8, async ({ s, serviceId, k }) => {
      const r = await post(server.url, `/sites/${s.siteId}/tickets`, k.token, { serviceId });
      if (r.status !== 201) throw new Error(`warm-up issue: ${r.status} ${JSON.stringify(r.body)}`);
    });
    const current = new Map<string, string>(); // counterId -> ticket it holds
    const busy = new Set<string>();
    const callHttp: number[] = [];
    const statuses: Record<string, number> = {};
    const count = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
    const issueHttp: number[] = [];
    ctx.log(`  system: ${rate} calls/s and ${issueRate} issues/s for ${durationS} s over ${sites.length} sites`);
    const systemCpu = cpuMark([server.pid, floor.pid]);
    const [calls, issues] = await Promise.all([
      steady({
        ratePerSecond: rate, durationMs: durationS * 1000, maxInFlight: 200,
        tick: async (i) => {
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
            pendingQms.set(counter.id, { t0: now(), seen: 0 });
            const r = await post(server.url, `/counters/${counter.id}/call-next`, counter.staffToken);
            count(`call-next ${r.status}`);
            if (r.status === 200) {
              callHttp.push(r.ms);
              current.set(counter.id, r.body.ticket.id);
            } else pendingQms.delete(counter.id);
          } finally {
            busy.delete(counter.id);
          }
        },
      }),
      steady({
        ratePerSecond: issueRate, durationMs: durationS * 1000, maxInFlight: 200,
        tick: async (i) => {
          const site = sites[i % sites.length]!;
          const kiosk = site.kiosks[Math.floor(i / sites.length) % site.kiosks.length]!;
          const r = await post(server.url, `/sites/${site.siteId}/tickets`, kiosk.token, { serviceId: site.services[i % site.services.length] });
          count(`issue ${r.status}`);
          if (r.status === 201) issueHttp.push(r.ms);
        },
      }),
    ]);
    const systemCpuLine = cpuSince(systemCpu, [server.pid, floor.pid], ['queue server', 'floor server (idle)']);
    await sleep(1000);
    const lost = pendingQms.size;

    floorPhase = 1;
    ctx.log(`  floor (after): ${rate} calls/s for ${floorS} s`);
    await runFloor();

    // ---- where the time goes: a CPU profile of the server under the same load, then SQL ----
    ctx.log('  profile: the same load again for 15 s with the CPU profiler on');
    const profile = await profileServer(server, 15_000, async () => {
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
    }).catch((error) => ({ lines: [`CPU profile not taken: ${(error as Error).message}`] }));
    const sql = await sqlProfile(url, sites[0]!, 100).catch((error) => ({ lines: [`SQL profile not taken: ${(error as Error).message}`] }));

    const q = summarize(qmsFirst);
    const qa = summarize(qmsAll);
    const f = summarize(floorFirst);
    const fa = summarize(floorAll);
    const h = summarize(callHttp);
    const before = summarize(floorFirstByPhase[0]!);
    const after = summarize(floorFirstByPhase[1]!);
    const ratio99 = q.p99 / f.p99;
    notes.push(
      `${sites.length} sites, ${sites.length * perSite.counters} open counters (official's socket each), ${sites.length * perSite.displays} displays, ${sites.length * perSite.kiosks} kiosks: ${layout.length} WebSocket clients in the bench process; server = server/src/main.ts as a child process on an embedded PostgreSQL (fsync on).`,
      `Load: ${rate} calls/s (each preceded by the counter's finish of its previous ticket) and ${issueRate} issues/s for ${durationS} s; ${calls.started} calls started, ${calls.shed} shed, ${issues.started} issues. Replies: ${Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(', ')}. Calls whose event never reached every display: ${lost}.`,
      `Call-next HTTP reply time: p50 ${round(h.p50, 1)} ms, p99 ${round(h.p99, 1)} ms; issue reply p50 ${round(summarize(issueHttp).p50, 1)} ms, p99 ${round(summarize(issueHttp).p99, 1)} ms.`,
      `Floor before the system run: p50 ${round(before.p50, 2)} ms, p99 ${round(before.p99, 2)} ms; after: p50 ${round(after.p50, 2)} ms, p99 ${round(after.p99, 2)} ms (${floorS} s each at the same call rate, the same ${layout.length} sockets and rooms).`,
      `During the system run: ${systemCpuLine} During the first floor run: ${floorCpuLine}`,
      ...profile.lines,
      ...sql.lines,
    );
    return {
      name: 'latency',
      title: 'Call-to-screen latency',
      figures: [
        { label: 'call → first display, p50', value: round(q.p50, 2), unit: 'ms', floor: round(f.p50, 2), ratio: round(q.p50 / f.p50, 2) },
        { label: 'call → first display, p99', value: round(q.p99, 2), unit: 'ms', floor: round(f.p99, 2), ratio: round(ratio99, 2), target: 'p99 ≤ 2× floor', met: ratio99 <= 2 },
        { label: 'call → every display of the site, p99', value: round(qa.p99, 2), unit: 'ms', floor: round(fa.p99, 2), ratio: round(qa.p99 / fa.p99, 2) },
      ],
      notes,
      raw: { first: q, all: qa, floorFirst: f, floorAll: fa, floorBefore: before, floorAfter: after, callHttp: h, statuses },
    };
  } finally {
    for (const fleet of fleets) await fleet.close();
    await server.stop();
    await floor.stop();
    await db.destroy();
  }
}
