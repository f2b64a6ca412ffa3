import { readFileSync } from 'node:fs';
import { appendFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createDb } from '@qms/db';
import { prepareReferenceTables, startReferenceServer, writeReferenceTokens } from '../floor/reference.ts';
import { CpuMeter, describeCpu, postmasterOf, type CpuAccount, type CpuGroup } from '../lib/cpu.ts';
import { KeepAliveClient } from '../lib/keepalive-http.ts';
import { seedLoad, type LoadSite } from '../lib/load-setup.ts';
import { cleanupNamespaces, createNamespaces, leftovers, type NetnsLink } from '../lib/netns.ts';
import { startBenchPostgres, type BenchPostgres } from '../lib/postgres.ts';
import { startQmsServer, type Child, type QmsServer } from '../lib/processes.ts';
import { profileBackends } from '../lib/pg-perf.ts';
import { profileByKind, profileServer, topFunctions } from '../lib/profile.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now, sleep } from '../lib/util.ts';

// g. End to end: kiosks issue, counters call the next ticket and finish it, screens receive
// the events, all at once, closed loop (each kiosk and each counter sends its next request when
// the last one answered), over several sites. The figure is completed tickets per second
// (issued, called and finished), with the issue and call latencies.
//
// Balance: each site's waiting queue is held at `--backlog` tickets per counter: a kiosk waits
// while its site has that many waiting (counted by the bench from the replies), so the kiosks
// feed the counters without outrunning them for ever, and the counters never run dry (an empty
// call, 204, is counted and retried after 2 ms). The steady state is measured: a warm-up turn
// of each target first fills the queues.
//
// Reference: a bare Fastify + pg + socket.io server with no domain rules (floor/reference-server.ts):
// the same routes, bodies, tokens, clients and sockets, one statement and one event per
// request. Targets (the reference, the queue server as 1 process and, with --processes=1,2,
// as 2 processes with QMS_CLUSTER=1 and the clients alternating between them; 1c: 1 process
// with QMS_CLUSTER=1, the adapter's cost without a second process) take turns,
// --rounds times, so each meets the same moments of a shared machine; each has its own database.
// Phases (--phases): flow (the above), issue (the kiosks alone, no waiting), call (the counters
// alone, on what the issue phase left, until the backlog is back to its level).
//
// CPU accounting per target and phase: each server process, PostgreSQL (the postmaster and its
// backends), the bench process (the load generator and the screens' sockets), and the rest.
//
// --netns: each server process in its own network namespace (lib/netns.ts), reached over a
// veth pair (10.77.<i>.0/24), PostgreSQL listening on the root ends too, --netem=<ms> delay on
// each end, --pin: server i pinned to CPU i-1 (taskset). --profile: a CPU profile of the
// 1-process server during a separate flow run after the turns. --statements: PostgreSQL with
// pg_stat_statements, and a separate flow run of the reference and of the 1-process server that
// counts the statements each completed ticket cost, nested ones (functions, triggers) too.
// --pg-profile: a separate flow run of the reference and of the 1-process server with `perf
// record` on the PostgreSQL backends serving each one's database (lib/pg-perf.ts).

type Phase = 'flow' | 'issue' | 'call';

interface PhaseStats {
  seconds: number;
  issued: number;
  called: number;
  finished: number;
  empty: number;
  errors: Record<string, number>;
  issueMs: number[];
  callMs: number[];
  finishMs: number[];
}

const newStats = (): PhaseStats => ({ seconds: 0, issued: 0, called: 0, finished: 0, empty: 0, errors: {}, issueMs: [], callMs: [], finishMs: [] });

interface Target {
  name: string;
  kind: 'reference' | 'system';
  servers: (Child & { url: string })[];
  /** its database (from the bench's namespace), and its ticket table */
  dbUrl: string;
  table: 'ticket' | 'bench_ref_ticket';
  clients: KeepAliveClient[];
  sites: LoadSite[];
  fleet?: Fleet;
  /** waiting tickets per site, from the replies (issued 201 minus called 200) */
  backlog: number[];
  waiters: (() => void)[][];
  /** counters waiting for a site's next issue */
  issueWaiters: (() => void)[][];
  /** socket events received by the screens, by name */
  events: Record<string, number>;
  stats: Record<Phase, PhaseStats>;
  cpu: Record<Phase, CpuMeter>;
}

/** Waits until woken (the first waiter of `list` is shifted and called) or `ms` pass, whichever first. */
function waitOn(list: (() => void)[], ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      const i = list.indexOf(wake);
      if (i >= 0) list.splice(i, 1);
      resolve();
    }, ms);
    list.push(wake);
  });
}

export async function e2eBench(ctx: BenchContext): Promise<BenchResult> {
  const sitesN = ctx.num('sites', 5, 5);
  const kiosksN = ctx.num('kiosks', 10, 10);
  const countersN = ctx.num('counters', 20, 20);
  const displaysN = ctx.num('displays', 30, 20);
  const screensN = ctx.num('counter-screens', 10, 5);
  const rounds = ctx.num('rounds', 3, 2);
  const turnS = ctx.num('turn', 10, 5);
  const warmS = ctx.num('warm', 4, 2);
  const backlogPerCounter = ctx.num('backlog', 8, 8);
  // 1: one process; 2: two with QMS_CLUSTER=1; 1c: one process with QMS_CLUSTER=1 (what the adapter alone costs)
  const variants = String(ctx.args.get('processes') ?? '1').split(',').filter((v) => v === '1' || v === '2' || v === '1c');
  const processes = variants.map((v) => (v === '2' ? 2 : 1));
  const phases = String(ctx.args.get('phases') ?? 'flow').split(',').filter((p): p is Phase => p === 'flow' || p === 'issue' || p === 'call');
  const netns = ctx.args.has('netns');
  const netemMs = ctx.num('netem', 0, 0);
  const pin = ctx.args.has('pin');
  const withProfile = ctx.args.has('profile') && !netns;
  const profileS = ctx.num('profile-seconds', 10, 6);
  // --statements: the run's own PostgreSQL, with pg_stat_statements
  const pgSettings = ctx.args.has('statements') ? STATEMENT_SETTINGS : undefined;
  // --trim-vacuum=off: leave the tickets the trim cancels to autovacuum, as before 7 December
  const vacuumTrim = ctx.args.get('trim-vacuum') !== 'off';
  const countersPerSite = Math.ceil(countersN / sitesN);
  // as many services as counters at a site (at most 10): counter c serves services c and c+1, so
  // every service has two counters and a kiosk's round of services loads every counter alike
  const servicesPerSite = Math.min(countersPerSite, 10);
  const cap = backlogPerCounter * countersPerSite;
  const notes: string[] = [];
  const figures: Figure[] = [];
  const load = readFileSync('/proc/loadavg', 'utf8').trim();

  // ---- where the databases live: the run's PostgreSQL, or with --netns our own, listening on the veth ends too ----
  let links: NetnsLink[] = [];
  let ownPg: BenchPostgres | undefined;
  let dbN = 0;
  const database = async (name: string): Promise<{ url: string; urlFor: (i: number) => string }> => {
    if (!ownPg) {
      const url = await ctx.database(name);
      return { url, urlFor: () => url };
    }
    const dbName = `bench_e2e_${name}_${++dbN}`;
    const url = await ownPg.createDatabase(dbName);
    // the server in namespace i reaches PostgreSQL at the root end of its link
    return { url, urlFor: (i) => { if (!links[i]) return url; const u = new URL(url); u.hostname = links[i].hostAddress; return u.toString(); } };
  };

  const targets: Target[] = [];
  const tokenFiles: string[] = [];
  const started: Child[] = [];
  let pgPid = Number.NaN;
  try {
    if (pgSettings && !netns) ownPg = await startBenchPostgres({ fast: false, settings: pgSettings });
    if (netns) {
      links = createNamespaces(Math.max(...processes, 1), netemMs);
      ctx.log(`  netns: ${links.map((l) => `${l.name} ${l.nsAddress} ↔ ${l.hostAddress}`).join(', ')}${netemMs ? `, netem delay ${netemMs} ms each way` : ''}`);
      ownPg = await startBenchPostgres({ fast: false, listenAddresses: ['127.0.0.1', ...links.map((l) => l.hostAddress)], settings: pgSettings });
      await appendFile(path.join(ownPg.dataDir, 'pg_hba.conf'), '\n# qms bench: the servers in the bench\'s network namespaces\nhost all all 10.77.0.0/16 scram-sha-256\n');
      const admin = new pg.Client({ connectionString: ownPg.adminUrl });
      await admin.connect();
      await admin.query('SELECT pg_reload_conf()');
      await admin.end();
    }
    const wrapFor = (i: number) => (netns ? [...links[i]!.exec, ...(pin ? ['taskset', '-c', String(i % 2)] : [])] : pin ? ['taskset', '-c', String(i % 2)] : []);
    const hostFor = (i: number) => (netns ? links[i]!.nsAddress : '127.0.0.1');

    const seed = async (url: string) => {
      const db = createDb(url, { max: 4 });
      try {
        return await seedLoad(db, {
          sites: sitesN, countersPerSite, servicesPerSite, displaysPerSite: Math.ceil(displaysN / sitesN),
          kiosksPerSite: Math.ceil(kiosksN / sitesN), counterDevicesPerSite: Math.ceil(screensN / sitesN), openCounters: true,
        });
      } finally {
        await db.destroy();
      }
    };
    const target = (name: string, kind: Target['kind'], servers: (Child & { url: string })[], sites: LoadSite[], dbUrl: string): Target => {
      const t: Target = {
        name, kind, servers, sites, dbUrl, table: kind === 'reference' ? 'bench_ref_ticket' : 'ticket', clients: servers.map((s) => new KeepAliveClient(s.url, kiosksN + countersN)),
        backlog: sites.map(() => 0), waiters: sites.map(() => []), issueWaiters: sites.map(() => []), events: {},
        stats: { flow: newStats(), issue: newStats(), call: newStats() },
        cpu: {} as Target['cpu'],
      };
      targets.push(t);
      return t;
    };

    // ---- the reference ----
    {
      const { url, urlFor } = await database('reference');
      const sites = await seed(url);
      await prepareReferenceTables(url);
      const file = await writeReferenceTokens(sites);
      tokenFiles.push(file);
      const ref = await startReferenceServer(urlFor(0), file, { host: hostFor(0), wrap: wrapFor(0) });
      started.push(ref);
      target('reference', 'reference', [ref], sites, url);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      pgPid = postmasterOf(Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid));
      await c.end();
    }
    // ---- the queue server, 1 and/or 2 processes ----
    let profiled: QmsServer | undefined;
    for (const variant of variants) {
      const n = variant === '2' ? 2 : 1;
      const cluster = variant !== '1';
      const { url, urlFor } = await database(`system${variant}`);
      const sites = await seed(url);
      const servers: QmsServer[] = [];
      for (let i = 0; i < n; i++) {
        const server = await startQmsServer({
          databaseUrl: urlFor(i), cluster, host: hostFor(i), wrap: wrapFor(i),
          // the inspector stays closed (no cost) until the profile opens it with SIGUSR1
          nodeArgs: withProfile && variant === '1' ? ['--inspect-port=127.0.0.1:0'] : [],
        });
        started.push(server);
        servers.push(server);
      }
      if (variant === '1') profiled = servers[0];
      target(variant === '1' ? '1 process' : variant === '1c' ? '1 process, QMS_CLUSTER=1' : '2 processes', 'system', servers, sites, url);
    }

    // ---- screens: displays and counter terminals of every site, on each target (spread over its processes) ----
    for (const t of targets) {
      const tokens = t.sites.flatMap((s) => [...s.displays, ...s.counterDevices].map((d) => d.token));
      t.fleet = await Fleet.connect((i) => t.servers[i % t.servers.length]!.url, tokens, { concurrency: 20 });
      for (const c of t.fleet.clients) {
        for (const name of ['ticket:issued', 'ticket:called', 'ticket:updated', 'queue:stats']) c.socket.on(name, () => (t.events[name] = (t.events[name] ?? 0) + 1));
      }
      const cpuGroups: Record<string, CpuGroup> = {};
      t.servers.forEach((s, i) => (cpuGroups[t.kind === 'reference' ? 'reference server' : t.servers.length > 1 ? `server ${i + 1}` : 'server'] = { pids: [s.pid] }));
      cpuGroups.PostgreSQL = { family: pgPid };
      cpuGroups['load generator (bench process)'] = { self: true };
      for (const p of ['flow', 'issue', 'call'] as const) t.cpu[p] = new CpuMeter(cpuGroups);
      ctx.log(`  ${t.name}: ${t.servers.map((s) => s.url).join(', ')}, ${t.fleet.ready()}/${tokens.length} screens connected`);
    }

    // ---- one phase of one target ----
    const runPhase = async (t: Target, phase: Phase, seconds: number, stats: PhaseStats) => {
      const t0 = now();
      const end = t0 + seconds * 1000;
      const wake = (s: number) => t.waiters[s]!.shift()?.();
      const issuedAt = (s: number, ms: number) => waitOn(t.issueWaiters[s]!, ms);
      const fail = (what: string) => (stats.errors[what] = (stats.errors[what] ?? 0) + 1);
      const kiosk = async (k: number) => {
        const s = k % t.sites.length;
        const site = t.sites[s]!;
        const device = site.kiosks[Math.floor(k / t.sites.length) % site.kiosks.length]!;
        const client = t.clients[k % t.clients.length]!;
        for (let j = Math.floor(k / t.sites.length); now() < end; j++) {
          // flow: wait while the site's queue is full (woken by a call, or every 50 ms to see the end)
          while (phase === 'flow' && t.backlog[s]! >= cap && now() < end) {
            await waitOn(t.waiters[s]!, 50);
          }
          if (now() >= end) return;
          const began = now();
          try {
            const r = await client.post(`/api/v1/sites/${site.siteId}/tickets`, device.token, { serviceId: site.services[j % site.services.length] });
            if (r.status !== 201) {
              fail(`issue ${r.status}`);
              continue;
            }
            t.backlog[s]!++;
            t.issueWaiters[s]!.shift()?.();
            stats.issueMs.push(now() - began);
            if (now() <= end) stats.issued++;
          } catch (error) {
            fail(`issue ${(error as Error).message.slice(0, 60)}`);
          }
        }
      };
      const counter = async (c: number) => {
        const s = c % t.sites.length;
        const site = t.sites[s]!;
        const desk = site.counters[Math.floor(c / t.sites.length) % site.counters.length]!;
        const client = t.clients[c % t.clients.length]!;
        while (now() < end) {
          // calls alone: down to the flow's backlog, no further (the next flow starts where the last ended)
          if (phase === 'call' && t.backlog[s]! <= cap) return;
          // the site's queue is empty as far as the replies tell: wait for its next issue
          if (t.backlog[s]! <= 0) {
            await issuedAt(s, 50);
            continue;
          }
          try {
            const began = now();
            const r = await client.post(`/api/v1/counters/${desk.id}/call-next`, desk.staffToken);
            if (r.status === 204) {
              // nothing this counter may call: wait for the site's next issue (or 20 ms), no polling storm
              stats.empty++;
              await issuedAt(s, 20);
              continue;
            }
            if (r.status !== 200) {
              fail(`call-next ${r.status}`);
              continue;
            }
            t.backlog[s]!--;
            wake(s);
            stats.callMs.push(now() - began);
            if (now() <= end) stats.called++;
            const f0 = now();
            const f = await client.post(`/api/v1/tickets/${r.body.ticket.id}/finish`, desk.staffToken);
            if (f.status !== 200) {
              fail(`finish ${f.status}`);
              continue;
            }
            stats.finishMs.push(now() - f0);
            if (now() <= end) stats.finished++;
          } catch (error) {
            fail(`call ${(error as Error).message.slice(0, 60)}`);
          }
        }
      };
      await Promise.all([
        ...(phase !== 'call' ? Array.from({ length: kiosksN }, (_, k) => kiosk(k)) : []),
        ...(phase !== 'issue' ? Array.from({ length: countersN }, (_, c) => counter(c)) : []),
      ]);
      // a call phase that reached the backlog early lasted less than the turn
      stats.seconds += (Math.min(now(), end) - t0) / 1000;
    };

    /**
     * After issuing alone (and calling alone), each site's queue back to the flow's level, untimed:
     * the newest waiting tickets beyond it are cancelled straight in the database (the issue phase
     * outruns the call phase, and the next flow must not start on a queue that holds its kiosks back).
     * Then the target's ticket table is vacuumed and analysed, still untimed: the thousands of tickets
     * cancelled at once, which no centre does, otherwise left their autovacuum to run during the next
     * turn, often the other target's. (The third-round fall of the fifth round was not these dead rows
     * but plans that changed at the table's first analyse: docs/performance.md, g.)
     */
    const trim = async (t: Target) => {
      const c = new pg.Client({ connectionString: t.dbUrl });
      await c.connect();
      try {
        let cancelled = 0;
        for (const [s, site] of t.sites.entries()) {
          const excess = t.backlog[s]! - cap;
          if (excess <= 0) continue;
          const r = await c.query(`UPDATE ${t.table} SET status = 'cancelled', finished_at = now()
            WHERE id IN (SELECT id FROM ${t.table} WHERE site_id = $1 AND status = 'waiting' ORDER BY queued_at DESC LIMIT $2)`, [site.siteId, excess]);
          cancelled += r.rowCount ?? 0;
          t.backlog[s] = cap;
        }
        if (vacuumTrim && cancelled) {
          const began = now();
          await c.query(`VACUUM (ANALYZE) ${t.table}`);
          ctx.log(`    ${t.name}: ${cancelled} waiting tickets cancelled, ${t.table} vacuumed in ${round(now() - began, 0)} ms (untimed)`);
        }
      } finally {
        await c.end();
      }
    };

    // ---- warm-up, then the turns ----
    for (const t of targets) {
      ctx.log(`  warm-up: ${t.name}, flow for ${warmS} s`);
      await runPhase(t, 'flow', warmS, newStats());
    }
    for (const t of targets) t.events = {};
    ctx.log(`  ${rounds} rounds of turns (${targets.map((t) => t.name).join(', ')}; phases ${phases.join(', ')}; ${turnS} s each); ${sitesN} sites, ${kiosksN} kiosks, ${countersN} counters, ${displaysN} displays, ${screensN} counter screens; queue held at ${backlogPerCounter} tickets per counter`);
    for (let r = 0; r < rounds; r++) {
      // the order turns each round: no target always first after a pause
      const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
      for (const t of order) {
        for (const phase of phases) {
          t.cpu[phase].start();
          const before = { ...t.stats[phase] };
          await runPhase(t, phase, turnS, t.stats[phase]);
          t.cpu[phase].stop();
          const st = t.stats[phase];
          const dt = st.seconds - before.seconds;
          ctx.log(`    round ${r + 1}, ${t.name}, ${phase}: ${round((st.finished - before.finished) / dt, 0)} finished/s, ${round((st.issued - before.issued) / dt, 0)} issued/s, ${round((st.called - before.called) / dt, 0)} called/s${st.empty - before.empty ? `, ${st.empty - before.empty} empty calls` : ''}`);
          await sleep(200);
        }
        if (phases.includes('issue')) await trim(t);
      }
    }

    // ---- profile: a separate flow run of the 1-process server with the CPU profiler on ----
    let profileLines: string[] = [];
    let profileKinds: Record<string, number> | undefined;
    const one = targets.find((t) => t.name === '1 process');
    if (withProfile && profiled && one) {
      ctx.log(`  profile: 1 process, flow for ${profileS} s with the CPU profiler on (not in the figures)`);
      try {
        const { profile, lines } = await profileServer(profiled, profileS * 1000, () => runPhase(one, 'flow', profileS, newStats()));
        const byKind = profileByKind(profile);
        profileKinds = byKind.kinds;
        profileLines = [byKind.line, `Top self-time functions of the server: ${topFunctions(profile, 15).join('; ')}.`, ...lines];
      } catch (error) {
        profileLines = [`CPU profile not taken: ${(error as Error).message}`];
      }
    }

    // ---- statements: a separate flow run of each target, counting what PostgreSQL executed ----
    const statementLines: string[] = [];
    if (pgSettings && ownPg) {
      for (const t of targets.filter((x) => x.kind === 'reference' || x.name === '1 process')) {
        ctx.log(`  statements: ${t.name}, flow for ${profileS} s with pg_stat_statements (not in the figures)`);
        statementLines.push(...await statementsOf(t.name, t.dbUrl, async () => {
          const st = newStats();
          await runPhase(t, 'flow', profileS, st);
          return st.finished;
        }));
      }
    }

    // ---- PostgreSQL's own profile: a separate flow run of each target, perf on its backends ----
    const pgProfileLines: string[] = [];
    if (ctx.args.has('pg-profile')) {
      for (const t of targets.filter((x) => x.kind === 'reference' || x.name === '1 process')) {
        ctx.log(`  pg-profile: ${t.name}, flow for ${profileS} s with perf on its PostgreSQL backends (not in the figures)`);
        pgProfileLines.push(...await profileBackends(t.name, t.dbUrl, profileS, () => runPhase(t, 'flow', profileS, newStats())));
      }
    }

    // ---- figures ----
    const ref = targets.find((t) => t.kind === 'reference')!;
    const rate = (t: Target, phase: Phase, what: 'finished' | 'issued' | 'called') => t.stats[phase][what] / t.stats[phase].seconds;
    const cpuOf: Record<string, Partial<Record<Phase, CpuAccount>>> = {};
    for (const t of targets) for (const p of phases) (cpuOf[t.name] ??= {})[p] = t.cpu[p].result();
    const systems = targets.filter((t) => t.kind === 'system');
    for (const t of systems) {
      if (phases.includes('flow')) {
        const v = rate(t, 'flow', 'finished');
        const fl = rate(ref, 'flow', 'finished');
        figures.push({ label: `completed tickets (issue + call + finish), ${t.name}`, value: round(v, 1), unit: '/s', floor: round(fl, 1), ratio: round(v / fl, 2), target: '≥ 0.6× reference', met: v / fl >= 0.6 });
        const il = summarize(t.stats.flow.issueMs).p50;
        const cl = summarize(t.stats.flow.callMs).p50;
        figures.push({ label: `issue latency p50 in the flow, ${t.name}`, value: round(il, 2), unit: 'ms', floor: round(summarize(ref.stats.flow.issueMs).p50, 2), ratio: round(il / summarize(ref.stats.flow.issueMs).p50, 2) });
        figures.push({ label: `call-next latency p50 in the flow, ${t.name}`, value: round(cl, 2), unit: 'ms', floor: round(summarize(ref.stats.flow.callMs).p50, 2), ratio: round(cl / summarize(ref.stats.flow.callMs).p50, 2) });
      }
      if (phases.includes('issue')) {
        const v = rate(t, 'issue', 'issued');
        const fl = rate(ref, 'issue', 'issued');
        figures.push({ label: `issues alone, ${t.name}`, value: round(v, 1), unit: '/s', floor: round(fl, 1), ratio: round(v / fl, 2) });
      }
      if (phases.includes('call')) {
        const v = rate(t, 'call', 'finished');
        const fl = rate(ref, 'call', 'finished');
        figures.push({ label: `calls alone (call-next + finish), ${t.name}`, value: round(v, 1), unit: '/s', floor: round(fl, 1), ratio: round(v / fl, 2) });
      }
    }
    const t1 = targets.find((t) => t.name === '1 process');
    const t2 = targets.find((t) => t.name === '2 processes');
    if (t1 && t2) {
      for (const p of phases) {
        const what = p === 'issue' ? 'issued' : 'finished';
        const v = rate(t2, p, what);
        const base = rate(t1, p, what);
        figures.push({ label: `2 processes ÷ 1 process, ${p === 'flow' ? 'completed tickets' : p === 'issue' ? 'issues alone' : 'calls alone'}`, value: round(v, 1), unit: '/s', floor: round(base, 1), ratio: round(v / base, 2), target: '> 1× (two beat one)', met: v > base });
      }
    }

    // % of one core ÷ operations per second = ms of CPU per operation, per process
    const perOp = (a: CpuAccount, perSecond: number) => Object.entries(a.groups).map(([n, pct]) => `${n} ${round((pct * 10) / perSecond, 2)}`).join(', ');
    const lat = (ms: number[]) => { const x = summarize(ms); return `p50 ${round(x.p50, 2)} / p99 ${round(x.p99, 2)} ms (${x.n})`; };
    notes.push(
      `Load average at the start: ${load}; at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()} (2 cores shared with other work: see "others" in the CPU lines).`,
      `${sitesN} sites, each with ${servicesPerSite} services and ${countersPerSite} open counters (counter c serves services c and c+1); ${kiosksN} kiosks and ${countersN} counters in closed loop over node:http keep-alive clients in the bench process; ${displaysN} displays and ${screensN} counter screens on socket.io (WebSocket) per target; each site's queue held at ${cap} waiting tickets; ${rounds} rounds of ${turnS} s turns per phase after a ${warmS} s warm-up of each target.${phases.includes('issue') ? ` After each target's turns, the waiting tickets past that level cancelled in the database, ${vacuumTrim ? 'then its ticket table vacuumed (VACUUM (ANALYZE)), untimed' : 'left to autovacuum (--trim-vacuum=off)'}.` : ''}`,
      'Reference: bare Fastify + pg + socket.io (bench/src/floor/reference-server.ts): the same routes, JSON bodies with a Fastify schema, the same bearer tokens from an in-memory map, one statement per request (issue: the service\'s next number from its sequence row and the INSERT in one statement), one event per change to the site\'s room. Ratios: system ÷ reference (throughput: higher is better; latency: lower is better).',
      ...(netns ? [`Network namespaces: each server process in its own namespace (${links.map((l) => `${l.name} at ${l.nsAddress}`).join(', ')}), reached over veth pairs from the root namespace where PostgreSQL (listening on ${links.map((l) => l.hostAddress).join(', ')} too) and the load generator run${netemMs ? `; netem ${netemMs} ms delay on each end of each link (round trip +${netemMs * 2} ms)` : ''}${pin ? '; servers pinned with taskset: reference and 1 process on CPU 0, 2 processes on CPUs 0 and 1 (PostgreSQL and the load generator are not pinned: they still share both cores)' : ''}.`] : pin ? ['Servers pinned with taskset: reference and 1 process on CPU 0, 2 processes on CPUs 0 and 1 (PostgreSQL and the load generator not pinned).'] : []),
      ...targets.flatMap((t) => phases.map((p) => {
        const st = t.stats[p];
        return `${t.name}, ${p}: ${round(st.finished / st.seconds, 1)} finished/s, ${round(st.issued / st.seconds, 1)} issued/s, ${round(st.called / st.seconds, 1)} called/s over ${round(st.seconds, 1)} s; issue ${lat(st.issueMs)}, call-next ${lat(st.callMs)}, finish ${lat(st.finishMs)}` +
          `${st.empty ? `; ${st.empty} empty calls` : ''}${Object.keys(st.errors).length ? `; errors ${JSON.stringify(st.errors)}` : ''}. CPU (% of one core): ${describeCpu(cpuOf[t.name]![p]!)}; ` +
          `CPU ms per ${p === 'issue' ? 'issue' : 'completed ticket'}: ${perOp(cpuOf[t.name]![p]!, p === 'issue' ? st.issued / st.seconds : st.finished / st.seconds)}.`;
      })),
      `Screens' events during the turns: ${targets.map((t) => `${t.name} ${JSON.stringify(t.events)}`).join('; ')}.`,
      ...profileLines,
      ...statementLines,
      ...pgProfileLines,
    );
    for (const line of notes.slice(3)) ctx.log(`  ${line}`);
    return {
      name: 'e2e', title: 'End to end: issue, call and finish with screens, against a bare Fastify + pg + socket.io reference',
      figures, notes,
      raw: {
        load, sitesN, kiosksN, countersN, displaysN, screensN, rounds, turnS, warmS, cap, variants, phases, netns, netemMs, pin,
        cpu: cpuOf, profileKinds, profile: profileLines, statements: statementLines, pgProfile: pgProfileLines,
        stats: Object.fromEntries(targets.map((t) => [t.name, Object.fromEntries(phases.map((p) => {
          const st = t.stats[p];
          return [p, { seconds: st.seconds, issued: st.issued, called: st.called, finished: st.finished, empty: st.empty, errors: st.errors, issue: summarize(st.issueMs), call: summarize(st.callMs), finish: summarize(st.finishMs) }];
        }))])),
        events: Object.fromEntries(targets.map((t) => [t.name, t.events])),
      },
    };
  } finally {
    for (const t of targets) {
      await t.fleet?.close();
      for (const c of t.clients) c.close();
    }
    await Promise.all(started.map((s) => s.stop()));
    for (const f of tokenFiles) await rm(f, { force: true });
    await ownPg?.stop();
    if (netns) {
      cleanupNamespaces();
      const left = leftovers();
      if (left.length) ctx.log(`  netns: LEFT after cleanup: ${left.join(', ')}`);
      else ctx.log('  netns: namespaces and veth links removed (ip netns list, ip link: none left)');
    }
  }
}

/** pg_stat_statements, nested statements too (those of functions and triggers): --statements */
const STATEMENT_SETTINGS = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.max': '2000', track_io_timing: 'off' };

/**
 * What PostgreSQL executed per completed ticket while `work` ran (it returns the tickets
 * completed): statements, their execution time and the rows they touched, top statements by
 * time. Execution only: parsing, planning of unprepared statements, the network and the commit's
 * WAL flush are not in pg_stat_statements' times.
 */
async function statementsOf(name: string, url: string, work: () => Promise<number>): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
    const tickets = await work();
    const { rows } = await c.query<{ query: string; calls: string; ms: number; rows: string; toplevel: boolean; blks: string; wal: string }>(`
      SELECT query, calls, total_exec_time + total_plan_time AS ms, rows, toplevel, shared_blks_hit + shared_blks_read AS blks, wal_records AS wal
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT ILIKE '%pg_stat_statements%' ORDER BY ms DESC`);
    const per = (x: number) => round(x / Math.max(1, tickets), 3);
    const top = rows.filter((r) => r.toplevel);
    const sum = (list: typeof rows, f: (r: (typeof rows)[number]) => number) => list.reduce((a, r) => a + f(r), 0);
    return [
      `Statements, ${name} (pg_stat_statements over a flow of ${tickets} completed tickets): per ticket ${per(sum(top, (r) => Number(r.calls)))} statements from clients taking ${per(sum(top, (r) => r.ms))} ms to execute, ${per(sum(top, (r) => Number(r.blks)))} buffers, ${per(sum(top, (r) => Number(r.wal)))} WAL records.`,
      `Top statements of ${name} by execution time, per completed ticket (calls, ms, rows, buffers, WAL records; "in" = run inside a function or trigger): ${rows.slice(0, 30).map((r) =>
        `${per(Number(r.calls))} × ${r.toplevel ? '' : 'in '}«${r.query.replace(/\s+/g, ' ').slice(0, 90)}» ${per(r.ms)} ms, ${per(Number(r.rows))} rows, ${per(Number(r.blks))} buffers, ${per(Number(r.wal))} WAL`).join('; ')}.`,
      `Statements from clients of ${name}, by calls per completed ticket: ${top.toSorted((a, b) => Number(b.calls) - Number(a.calls)).slice(0, 16).map((r) =>
        `${per(Number(r.calls))} × «${r.query.replace(/\s+/g, ' ').slice(0, 70)}»`).join('; ')}.`,
    ];
  } finally {
    await c.end();
  }
}
