import { spawn } from 'node:child_process';
import { chown, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { IDLE_SESSION_NICE, postgresUser, schedIdle, sessionScheduled, setSessionNice, type Db } from '@qms/db';
import { seedAdmin } from '../lib/load-setup.ts';
import { generateReportHistory, REPORT_YEAR, settleYear } from '../lib/report-history.ts';
import type { BenchContext, BenchResult } from '../lib/result.ts';
import { round, summarize } from '../lib/stats.ts';
import type { Pull } from '../lib/managers-child.ts';
import { ipcRequest, ROOT, startChild, type Child } from '../lib/processes.ts';
import { now } from '../lib/util.ts';
import { latencyBench, type TurnLoad } from './latency.ts';

// h. A report never slows a call. The `latency` scenario (call → first display, floor in turns
// with the system) on a database that also holds a year of history (lib/report-history.ts, the
// `report` benchmark's generator: its own sites, in the same tables as the timed sites'
// tickets), run up to three ways in one bench run, each on a fresh database:
// - `own`: with --managers (5) managers pulling year-long reports and exports over HTTP in the
//   system's turns, reports on their own pool and thread (the server as shipped:
//   QMS_REPORT_CONNECTIONS, server/src/reports/thread/);
// - `none`: the same without the managers (the reference for what the managers cost);
// - `main`: the managers again, the server started with --reports-on-main-pool (reports on the
//   queue's 20 connections, as before this pool existed);
// - `summaries` (not by default): the managers pulling the JSON summaries only, no export, on
//   the reports' own pool and thread;
// - `inline` (not by default): the managers again, reports on their own pool but on the main
//   thread (QMS_REPORT_THREAD=0, as before the report thread): what parsing and formatting
//   them on the queue's event loop costs the calls;
// - `niced` (not by default): as `own`, with the reports' thread and backends niced only, not
//   under SCHED_IDLE (QMS_REPORT_SCHED_IDLE=0, as before it);
// - `paced` (not by default): as `own`, with the reports held to a fifth of the time while the
//   queue is busy (QMS_REPORT_BUSY_SHARE=0.2, reports/pace.ts; off by default);
// - `unpaced` (not by default): as `own`, QMS_REPORT_BUSY_SHARE=1 said explicitly (the default
//   since 7 December, 15:40; `own` was paced in the runs of 13:42-15:16 that measured it);
// - `tmpfs` (not by default): as `own`, with the database's temporary files (the reports' sorts
//   past their work_mem) in a tablespace on /dev/shm, not on the disk the WAL is flushed to;
// - `burn` (not by default): no managers, but a process at the lowest priority (idleBurner)
//   walking 256 MB of memory on one core in the system's turns: what work that takes only the cores the calls
//   leave still costs them (the caches, memory and the host's scheduling of the two vCPUs a
//   report backend shares with the calls), with no report code at all;
// - `spin` (not by default): as `burn`, the process touching one cache line only: the core's
//   time taken without the memory's, to tell which of the two the calls feel.
// The managers run in a child process (lib/managers-child.ts), not in the one that times the
// displays, and pull for 5 s before the timed turns (the report thread and its connections
// start then, as on a server whose managers have been reading for a while).
// The floor is the bare server of `latency`, in turns with the system: the managers' load runs
// in the system's turns only (paused, in-flight reports finished, before each floor turn), so
// it is part of what the system is measured with, never of the floor.

type Mode = 'own' | 'none' | 'main' | 'summaries' | 'inline' | 'niced' | 'paced' | 'unpaced' | 'tmpfs' | 'burn' | `burn:${string}` | 'spin' | `spin:${string}`;

/**
 * Managers each pulling, one after the other, year-long reports and exports of the history's
 * sites, in a child process of their own (lib/managers-child.ts): their downloads' parsing and
 * garbage stay out of the process that timestamps the displays' messages, as a manager's
 * browser is another machine than a wall display.
 */
function managers(count: number, token: () => string, history: () => { siteIds: string[]; busiestSiteId: string }, exports = true): TurnLoad & { pulls: Pull[]; activeMs(): number } {
  const pulls: Pull[] = [];
  let activeMs = 0;
  const child: Child = startChild(path.join(ROOT, 'bench/src/lib/managers-child.ts'), {});
  return {
    pulls,
    activeMs: () => activeMs,
    pid: child.pid,
    name: 'managers (child)',
    async start(serverUrl: string) {
      await ipcRequest(child, { op: 'start', url: serverUrl, token: token(), history: history(), count, exports });
    },
    async pause() {
      // in-flight reports finish first (a year's export may take a while on a loaded machine)
      const done = await ipcRequest<{ pulls: Pull[]; activeMs: number }>(child, { op: 'pause' }, 300_000);
      pulls.push(...done.pulls);
      activeMs += done.activeMs;
    },
    close: () => child.stop(5_000),
    forget() {
      pulls.length = 0;
      activeMs = 0;
    },
  };
}

/**
 * One core's worth of work at the lowest priority, in the system's turns only: a process walking a
 * 256 MB buffer (a scan's memory traffic, past the caches), stopped (SIGSTOP) in the floor's.
 * The lowest priority that holds against other sessions: where Linux weighs tasks by session
 * (db/src/backend-nice.ts, sessionScheduled), its session's nice value at 19 and the normal
 * policy; elsewhere SCHED_IDLE. (Before 7 December, 23:00 it was SCHED_IDLE in a session of its
 * own, which on this machine weighed as much as a task at normal priority.)
 * With `duty` < 1 it walks for that share of every 50 ms and sleeps the rest: work that asks
 * for less than the whole core, as a report pool held to a share of one would.
 */
function idleBurner(duty = 1, memory = true): TurnLoad {
  // `spin` (memory = false) touches one cache line over and over: the core's time, not the memory's
  const size = memory ? '256 << 20' : '64';
  const walk = duty >= 1
    ? `const b = new Uint8Array(${size}); for (;;) for (let i = 0; i < b.length; i += 64) b[i]++;`
    : `const b = new Uint8Array(${size}); let i = 0;
       const step = () => { const end = performance.now() + ${50 * duty}; while (performance.now() < end) for (let k = 0; k < 4096; k++) { b[i]++; i = (i + 64) % b.length; } setTimeout(step, ${50 * (1 - duty)}); };
       step();`;
  // a process group of its own: a stopped process in the bench's group would be sent SIGHUP by
  // the kernel whenever that group is left orphaned (the bench started in the background, a
  // child of it that exits)
  const child = spawn(process.execPath, ['-e', walk], { stdio: 'ignore', detached: true });
  child.kill('SIGSTOP');
  process.once('exit', () => child.kill('SIGKILL'));
  const bySession = child.pid !== undefined && sessionScheduled(child.pid);
  if (child.pid !== undefined) void (bySession ? setSessionNice(child.pid, IDLE_SESSION_NICE) : schedIdle(child.pid));
  const priority = bySession ? `its session at nice ${IDLE_SESSION_NICE}` : 'SCHED_IDLE';
  return {
    pid: child.pid,
    name: `idle ${memory ? 'burner' : 'spinner'} (${priority})`,
    start: () => void child.kill('SIGCONT'),
    pause: async () => void child.kill('SIGSTOP'),
    close: async () => void child.kill('SIGKILL'),
  };
}

/** Where the `tmpfs` way's database keeps its temporary files (a tablespace in memory). */
const TMPFS_TEMP = '/dev/shm/qms-bench-pg-temp';

export async function reportLoadBench(ctx: BenchContext): Promise<BenchResult> {
  const tickets = ctx.num('reportload-tickets', 1_000_000, 200_000);
  const historySites = ctx.num('reportload-sites', 20, 10);
  const managerCount = ctx.num('managers', 5, 5);
  // the server's QMS_REPORT_CONNECTIONS (default: the server's own, half the cores)
  const reportConnections = ctx.args.get('report-connections');
  const modesArg = ctx.args.get('reportload-modes');
  // `burn` walks the whole time, `burn:<duty>` that share of it (0.25: a quarter of every 50 ms)
  const burnDuty = new Map<string, number>();
  // a way may add `+timing` (the bench's timestamping thread at nice -10) and `+main` (the queue
  // server's main thread at nice -10), e.g. own+timing, in both sides' turns
  const niceOf = (way: string): { timing?: number; serverMain?: number } | undefined => {
    const boosts = way.split('+').slice(1);
    return boosts.length ? { ...(boosts.includes('timing') ? { timing: -10 } : {}), ...(boosts.includes('main') ? { serverMain: -10 } : {}) } : undefined;
  };
  const modes = (typeof modesArg === 'string' ? modesArg.split(',') : ['own', 'none', 'main']).filter((m) => {
    const base = m.split('+')[0]!;
    const duty = /^(?:burn|spin)(?::(0?\.\d+|1))?$/.exec(base);
    if (duty) burnDuty.set(m, duty[1] === undefined ? 1 : Number(duty[1]));
    return duty !== null || ['own', 'none', 'main', 'summaries', 'inline', 'niced', 'paced', 'unpaced', 'tmpfs'].includes(base);
  });
  const figures: BenchResult['figures'] = [];
  const notes: string[] = [
    `A year (${REPORT_YEAR}) of history: ${tickets} tickets over ${historySites} sites of their own (lib/report-history.ts) with its report facts built, as the day-end runner builds them each night, then frozen and checkpointed (VACUUM (FREEZE, ANALYZE), CHECKPOINT: a year-old server's history, its hint bits set), in the same tables as the timed sites' tickets; ${managerCount} managers (an admin session each) pull year-long summaries (all sites and one site, in every grouping), the busiest site's year as CSV, a site's year as XLSX, the all-sites summary as XLSX and a quarter's satisfaction XLSX, one after the other, reading every byte, in the system's turns only. The floor is latency's bare server, in turns with the system: the managers' load is part of the system's turns only.`,
  ];
  if (typeof reportConnections === 'string') notes.push(`The server runs with QMS_REPORT_CONNECTIONS=${reportConnections}.`);
  const raw: Record<string, unknown> = { reportConnections: reportConnections ?? 'default (half the cores)' };
  for (const way of modes) {
    const mode = way.split('+')[0] as Mode;
    const nice = niceOf(way);
    const boosted = nice ? `${nice.timing !== undefined ? ', the bench\'s timing thread at nice -10' : ''}${nice.serverMain !== undefined ? ', the queue server\'s main thread at nice -10' : ''}` : '';
    const label = (({
      own: 'managers pulling, reports on their own pool and thread', none: 'no managers', main: 'managers pulling, reports on the queue\'s pool',
      summaries: 'managers pulling summaries only (no exports), reports on their own pool and thread',
      inline: 'managers pulling, reports on their own pool, on the main thread',
      niced: 'managers pulling, reports on their own pool and thread, niced only (QMS_REPORT_SCHED_IDLE=0)',
      paced: 'managers pulling, reports on their own pool and thread, a fifth of the time while the queue is busy (QMS_REPORT_BUSY_SHARE=0.2)',
      unpaced: 'managers pulling, reports on their own pool and thread, never paced (QMS_REPORT_BUSY_SHARE=1)',
      tmpfs: 'managers pulling, reports on their own pool and thread, PostgreSQL\'s temporary files in memory (tmpfs)',
      burn: 'no managers, one core of lowest-priority work',
      spin: 'no managers, one core of lowest-priority work in the core alone (no memory)',
    } as Record<string, string>)[mode] ?? `no managers, lowest-priority work${mode.startsWith('spin') ? ' in the core alone' : ''} ${Math.round(burnDuty.get(way)! * 100)}% of the time`) + boosted;
    const burn = burnDuty.get(way);
    ctx.log(`  -- reportload: ${label}`);
    let admin = '';
    let history = { siteIds: [] as string[], busiestSiteId: '' };
    const load = mode === 'none' || burn !== undefined ? undefined : managers(managerCount, () => admin, () => history, mode !== 'summaries');
    const loadBefore = (await import('node:os')).loadavg()[0]!;
    const result = await latencyBench(ctx, {
      notify: 'off', profile: ctx.args.has('profile'), allocations: ctx.args.has('alloc-profile'), database: `reportload_${way.replace(/\W/g, '_')}`,
      title: `h. latency with reports (${way})`,
      prepare: async (db: Db) => {
        const t0 = now();
        const h = await generateReportHistory(db, { tickets, sites: historySites });
        history = { siteIds: h.siteIds, busiestSiteId: h.busiestSiteId };
        admin = await seedAdmin(db);
        ctx.log(`  history: ${h.counts.tickets} tickets, ${h.counts.events} events in ${round((now() - t0) / 1000, 0)} s`);
        // the reports then read facts from pages written out long ago, as on a server that has run for a year
        const settled = await settleYear(db, h.siteIds);
        ctx.log(`  report facts of the history built in ${round(settled.factsSeconds, 0)} s, frozen and checkpointed in ${round(settled.settleSeconds, 0)} s`);
        if (mode === 'tmpfs') {
          // the database's temporary files (a report's sorts past its work_mem) on a tmpfs: not
          // on the disk whose journal the queue's commits wait for
          await mkdir(TMPFS_TEMP, { recursive: true });
          // (owned by PostgreSQL's own user when the bench runs as root)
          const user = postgresUser();
          if (user) await chown(TMPFS_TEMP, user.uid, user.gid);
          await sql`CREATE TABLESPACE qms_bench_temp LOCATION ${sql.lit(TMPFS_TEMP)}`.execute(db);
          // (a temporary tablespace the role may not create in is ignored)
          await sql`GRANT CREATE ON TABLESPACE qms_bench_temp TO PUBLIC`.execute(db);
          await sql`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET temp_tablespaces = qms_bench_temp', current_database()); END $$`.execute(db);
        }
      },
      ...(mode === 'main' ? { serverArgs: ['--reports-on-main-pool'] } : {}),
      serverEnv: {
        ...(typeof reportConnections === 'string' ? { QMS_REPORT_CONNECTIONS: reportConnections } : {}),
        ...(mode === 'inline' ? { QMS_REPORT_THREAD: '0' } : {}),
        ...(mode === 'niced' ? { QMS_REPORT_SCHED_IDLE: '0' } : {}),
        ...(mode === 'unpaced' ? { QMS_REPORT_BUSY_SHARE: '1' } : mode === 'paced' ? { QMS_REPORT_BUSY_SHARE: '0.2' } : {}),
      },
      ...(load ? { turnLoad: load } : burn !== undefined ? { turnLoad: idleBurner(burn, !mode.startsWith('spin')) } : {}),
      ...(nice ? { nice } : {}),
    });
    if (mode === 'tmpfs') await rm(TMPFS_TEMP, { recursive: true, force: true });
    const p99 = result.figures.find((f) => f.label === 'call → first display, p99')!;
    const p50 = result.figures.find((f) => f.label === 'call → first display, p50')!;
    figures.push(
      { label: `call → first display p50, ${label}`, value: p50.value, unit: 'ms', floor: p50.floor, ratio: p50.ratio },
      { label: `call → first display p99, ${label}`, value: p99.value, unit: 'ms', floor: p99.floor, ratio: p99.ratio, ...(way === 'own' ? { target: 'p99 ≤ 2× floor', met: (p99.ratio ?? Infinity) <= 2 } : {}) },
    );
    const modeNotes = [...result.notes];
    if (load) {
      const pulls = load.pulls;
      const ok = pulls.filter((p) => p.status === 200);
      const byCode: Record<string, number> = {};
      for (const p of pulls) if (p.status !== 200) byCode[`${p.status} ${p.code ?? ''}`.trim()] = (byCode[`${p.status} ${p.code ?? ''}`.trim()] ?? 0) + 1;
      const seconds = load.activeMs() / 1000;
      const kinds = [...new Set(ok.map((p) => p.kind))].map((k) => {
        const s = summarize(ok.filter((p) => p.kind === k).map((p) => p.ms));
        return { kind: k, n: s.n, p50: round(s.p50, 0), max: round(s.max, 0) };
      });
      const all = summarize(ok.map((p) => p.ms));
      figures.push(
        { label: `reports answered per second (${way})`, value: round(ok.length / seconds, 2), unit: '/s' },
        { label: `report time p50 (${way})`, value: round(all.p50, 0), unit: 'ms' },
        { label: `reports refused: timed out / busy (${way})`, value: (byCode['503 REPORT_TIMED_OUT'] ?? 0) + (byCode['503 REPORTS_BUSY'] ?? 0), unit: '' },
      );
      modeNotes.unshift(`Managers (${way}): ${pulls.length} requests in ${round(seconds, 1)} s of system turns, ${ok.length} answered 200 (${round(ok.reduce((a, p) => a + p.bytes, 0) / 1e6, 1)} MB), ${Object.entries(byCode).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none refused'}; all answered: p50 ${round(all.p50, 0)} ms, p99 ${round(all.p99, 0)} ms. By kind: ${kinds.map((k) => `${k.kind} ×${k.n} p50 ${k.p50} ms max ${k.max} ms`).join('; ')}.`);
      raw[way] = { latency: result.raw, pulls: { count: pulls.length, ok: ok.length, byCode, seconds, kinds, all } };
    } else {
      raw[way] = { latency: result.raw };
    }
    notes.push(`[${way}] load average ${round(loadBefore, 2)} before this mode. ${modeNotes.join(' ')}`);
  }
  return { name: 'reportload', title: 'h. A report never slows a call', figures, notes, raw };
}
