import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { createDb, migrateToLatest, startEmbeddedPostgres, type Db, type EmbeddedPostgresHandle } from '@qms/db';
import { arrivalsByDayHour } from '../../../server/src/reports/arrivals.ts';
import {
  readPlan, reportBounds, summaryReport, summaryStatement, type ReportGroupBy, type SummaryQuery,
} from '../../../server/src/reports/report.service.ts';
import { batchStatement, streamTicketsCsv } from '../../../server/src/reports/tickets.export.ts';
import { withDatabase } from '../lib/postgres.ts';
import { buildFactsDayByDay, generateReportHistory, REPORT_TZ, type GeneratedHistory } from '../lib/report-history.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { percentile, round } from '../lib/stats.ts';
import { now } from '../lib/util.ts';

// g. Reports on a large history (issue 8): a year of tickets at every centre of a province
// (5 million over 50 sites by default), generated inside PostgreSQL, then the summary report
// the manager console asks for, for the busiest site over one month and for every site over
// the same month, in each grouping of the screen; warm (median, p95 of several runs) and cold
// (PostgreSQL's buffers emptied and the database's files dropped from the OS page cache).
// Floor, same rows, same run: the tickets of the range and their queue events read with one
// bare aggregate (what any exact computation of the figures must at least read). Also the
// report screen as the browser loads it (summary + by hour + arrivals heat map, in parallel)
// and the streaming CSV export of one site-month, with the heap sampled while it streams.

const GROUPS: ReportGroupBy[] = ['service', 'counter', 'staff', 'day', 'hour', 'procedure'];
const MONTH_FROM = new Date('2026-06-01T00:00:00+07:00');
const MONTH_TO = new Date('2026-07-01T00:00:00+07:00');
const YEAR_FROM = new Date('2026-01-01T00:00:00+07:00');
const YEAR_TO = new Date('2027-01-01T00:00:00+07:00');
/** the targets docs/performance.md states */
const ONE_SITE_TARGET_MS = 1000;
const ALL_SITES_TARGET_MS = 1000;

interface Timing {
  warm: number[];
  cold: number[];
}

const ms = (t0: number) => now() - t0;
const med = (xs: number[]) => percentile(xs, 50);
const p95 = (xs: number[]) => percentile(xs, 95);

export async function reportBench(ctx: BenchContext): Promise<BenchResult> {
  const tickets = ctx.num('report-tickets', 5_000_000, 200_000);
  const sitesN = ctx.num('report-sites', 50);
  const runs = Math.max(2, ctx.num('report-runs', 7, 3));
  const coldRuns = Math.max(1, ctx.num('report-cold-runs', 2, 1));
  const notes: string[] = [];
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};

  // --report-keep=<dir>: the history lives in a PostgreSQL of its own in <dir>, kept after the
  // run; a later run with the same --report-tickets and --report-sites reuses it (migrated to the
  // latest schema) instead of generating it again. The report facts are rebuilt every run.
  const keep = typeof ctx.args.get('report-keep') === 'string' ? path.resolve(String(ctx.args.get('report-keep'))) : null;
  let kept: EmbeddedPostgresHandle | undefined;
  let url: string;
  if (keep) {
    kept = await startEmbeddedPostgres({ dir: path.join(keep, 'pg'), fast: false, database: 'postgres', log: ctx.log });
    url = withDatabase(kept.adminUrl, 'bench_report');
    const admin = createDb(kept.adminUrl, { max: 1 });
    try {
      const { rows } = await sql`SELECT 1 FROM pg_database WHERE datname = 'bench_report'`.execute(admin);
      let reusable = false;
      if (rows.length) {
        const probe = createDb(url, { max: 1 });
        try {
          const { rows: found } = await sql`SELECT 1 FROM bench_report_history WHERE tickets = ${tickets} AND sites = ${sitesN}`.execute(probe).catch(() => ({ rows: [] }));
          reusable = found.length > 0;
        } finally {
          await probe.destroy();
        }
      }
      // another scale, or a generation cut short: start from an empty database
      if (!reusable) {
        await sql`DROP DATABASE IF EXISTS bench_report WITH (FORCE)`.execute(admin);
        await sql`CREATE DATABASE bench_report`.execute(admin);
      }
    } finally {
      await admin.destroy();
    }
  } else {
    url = await ctx.database('report');
  }
  // as the server's reports' pool runs them (createReportDb): no parallel workers, so a report
  // and its floor take one core each
  const db = createDb(url, { max: 4, parallelWorkers: 0 });
  try {
    if (keep) await migrateToLatest(db);
    await sql`CREATE TABLE IF NOT EXISTS bench_report_history (tickets integer, sites integer, history jsonb)`.execute(db);
    const { rows: [stored] } = await sql<{ history: GeneratedHistory; seconds: number }>`
      SELECT history FROM bench_report_history WHERE tickets = ${tickets} AND sites = ${sitesN}`.execute(db);
    const t0 = now();
    let history: GeneratedHistory;
    if (stored) {
      history = stored.history;
      ctx.log(`  reusing the history kept in ${keep} (${tickets.toLocaleString('en-US')} tickets over ${sitesN} sites)`);
      notes.push(`History reused from --report-keep=${keep} (generated by an earlier run; the generation times below are that run's).`);
    } else {
      ctx.log(`  generating ${tickets.toLocaleString('en-US')} tickets over ${sitesN} sites and a year (inside PostgreSQL)`);
      history = await generateReportHistory(db, { tickets, sites: sitesN, log: ctx.log });
      await sql`INSERT INTO bench_report_history VALUES (${tickets}, ${sitesN}, ${JSON.stringify(history)}::jsonb)`.execute(db);
    }
    const generateSeconds = stored ? Object.values(history.seconds).reduce((x, y) => x + y, 0) : ms(t0) / 1000;
    const mb = (b: number | undefined) => Math.round((b ?? 0) / 2 ** 20);
    notes.push(`History: ${history.counts.tickets.toLocaleString('en-US')} tickets, ${history.counts.events.toLocaleString('en-US')} ticket events, ${history.counts.ratings.toLocaleString('en-US')} ratings, ${history.counts.counterEvents.toLocaleString('en-US')} counter events over ${sitesN} sites and 2026, generated in ${generateSeconds.toFixed(0)} s (${Object.entries(history.seconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}). On disk with indexes: ticket ${mb(history.bytes.ticket)} MB, ticket_event ${mb(history.bytes.ticket_event)} MB, rating ${mb(history.bytes.rating)} MB, counter_event ${mb(history.bytes.counter_event)} MB.`);
    figures.push({ label: `generate ${(history.counts.tickets / 1e6).toFixed(1)} M tickets (+ events, ratings), vacuumed`, value: round(generateSeconds, 0), unit: 's' });
    raw.history = history;

    const cold = await coldMaker(db);
    notes.push(cold.note);
    const { rows: [settings] } = await sql<{ sharedBuffers: string; workMem: string; parallel: string }>`
      SELECT current_setting('shared_buffers') AS "sharedBuffers", current_setting('work_mem') AS "workMem",
        current_setting('max_parallel_workers_per_gather') AS parallel`.execute(db);
    notes.push(`PostgreSQL settings as a site server runs them (bench/src/lib/postgres.ts, fast: false; the reports' pool without parallel workers): shared_buffers ${settings!.sharedBuffers}, work_mem ${settings!.workMem}, max_parallel_workers_per_gather ${settings!.parallel}.`);

    // ---- the report facts, built as a deployment builds them: each local day once it is over
    // (the day-end runner, or the first report that needs it), here for the whole year, day by day ----
    await sql`TRUNCATE report_stint, report_day`.execute(db);
    const tb = now();
    const { days: builtDays, tickets: builtTickets, perDay } = await buildFactsDayByDay(db, { from: YEAR_FROM, to: YEAR_TO, now: YEAR_TO });
    const buildSeconds = ms(tb) / 1000;
    const { rows: [factSize] } = await sql<{ rows: string; bytes: string }>`
      SELECT (SELECT count(*) FROM report_stint) AS rows, pg_total_relation_size('report_stint') + pg_total_relation_size('report_day') AS bytes`.execute(db);
    ctx.log(`  facts: ${builtDays} site-days, ${builtTickets} tickets, ${factSize!.rows} stint rows built in ${buildSeconds.toFixed(1)} s (a day of all sites: median ${med(perDay).toFixed(0)} ms, max ${Math.max(...perDay).toFixed(0)} ms)`);
    figures.push({ label: `build the report facts of the year (${builtDays.toLocaleString('en-US')} site-days, ${builtTickets.toLocaleString('en-US')} tickets), day by day`, value: round(buildSeconds, 1), unit: 's', floor: round(generateSeconds, 0), ratio: round(buildSeconds / generateSeconds, 2) });
    figures.push({ label: `build the report facts of one day of all ${sitesN} sites, median`, value: round(med(perDay), 0), unit: 'ms' });
    figures.push({ label: `build the report facts of one day of all ${sitesN} sites, max`, value: round(Math.max(...perDay), 0), unit: 'ms' });
    notes.push(`Report facts: ${Number(factSize!.rows).toLocaleString('en-US')} report_stint rows, ${mb(Number(factSize!.bytes))} MB with indexes; built in ${buildSeconds.toFixed(1)} s for the year (buildReportDays per local day, all sites at once; floor of that figure: the history's generation time).`);
    raw.build = { perDay, buildSeconds, builtDays, builtTickets, factRows: Number(factSize!.rows), factBytes: Number(factSize!.bytes) };

    const site = history.busiestSiteId;
    const { rows: [scale] } = await sql<{ one: string; all: string; oneYear: string }>`
      SELECT count(*) FILTER (WHERE site_id = ${site} AND issued_at >= ${MONTH_FROM} AND issued_at < ${MONTH_TO}) AS one,
        count(*) FILTER (WHERE issued_at >= ${MONTH_FROM} AND issued_at < ${MONTH_TO}) AS all,
        count(*) FILTER (WHERE site_id = ${site}) AS "oneYear"
      FROM ticket`.execute(db);
    notes.push(`Ranges: June 2026 (${REPORT_TZ}); the busiest site has ${Number(scale!.one).toLocaleString('en-US')} tickets that month (${Number(scale!.oneYear).toLocaleString('en-US')} in the year), all sites ${Number(scale!.all).toLocaleString('en-US')}.`);

    // ---- the floor: the tickets of the range and their events, one bare aggregate ----
    const floor = (siteId: string | null) => sql`
      SELECT count(*) AS n, sum(extract(epoch FROM e."at")) AS s, count(DISTINCT t.id) AS tickets
      FROM ticket t JOIN ticket_event e ON e.ticket_id = t.id
      WHERE t.issued_at >= ${MONTH_FROM} AND t.issued_at < ${MONTH_TO} ${siteId ? sql`AND t.site_id = ${siteId}` : sql``}`;

    const scopes: { key: string; label: string; siteId: string | null; target: number }[] = [
      { key: 'one', label: 'one site-month', siteId: site, target: ONE_SITE_TARGET_MS },
      { key: 'all', label: `all ${sitesN} sites, one month`, siteId: null, target: ALL_SITES_TARGET_MS },
    ];
    for (const scope of scopes) {
      const floorTiming: Timing = { warm: [], cold: [] };
      const serviceCold: number[] = [];
      const query = (groupBy: ReportGroupBy): SummaryQuery => ({ siteId: scope.siteId, from: MONTH_FROM, to: MONTH_TO, groupBy });
      // cold first (nothing of this scope read yet in this run), then warm
      for (let i = 0; i < coldRuns; i++) {
        await cold.make();
        let t = now();
        await floor(scope.siteId).execute(db);
        floorTiming.cold.push(ms(t));
        await cold.make();
        t = now();
        await summaryReport(db, query('service'));
        serviceCold.push(ms(t));
      }
      for (let i = 0; i < runs; i++) {
        const t = now();
        await floor(scope.siteId).execute(db);
        floorTiming.warm.push(ms(t));
      }
      const f = med(floorTiming.warm);
      const fc = med(floorTiming.cold);
      raw[`${scope.key}-floor`] = floorTiming;
      ctx.log(`  ${scope.label}: floor warm ${f.toFixed(0)} ms, cold ${fc.toFixed(0)} ms`);
      for (const groupBy of GROUPS) {
        const timing: Timing = { warm: [], cold: groupBy === 'service' ? serviceCold : [] };
        if (groupBy !== 'service') {
          await cold.make();
          const t = now();
          await summaryReport(db, query(groupBy));
          timing.cold.push(ms(t));
        }
        let issued = 0;
        for (let i = 0; i < runs; i++) {
          const t = now();
          const report = await summaryReport(db, query(groupBy));
          timing.warm.push(ms(t));
          issued = report.totals.issued;
        }
        raw[`${scope.key}-${groupBy}`] = timing;
        const w = med(timing.warm);
        const c = med(timing.cold);
        ctx.log(`  ${scope.label} by ${groupBy}: warm median ${w.toFixed(0)} ms, p95 ${p95(timing.warm).toFixed(0)} ms, cold ${c.toFixed(0)} ms (${issued} tickets)`);
        figures.push({
          label: `${scope.label} by ${groupBy}, warm median`, value: round(w, 0), unit: 'ms', floor: round(f, 1), ratio: round(w / f, 1),
          target: `< ${scope.target / 1000} s`, met: w < scope.target,
        });
        figures.push({ label: `${scope.label} by ${groupBy}, warm p95`, value: round(p95(timing.warm), 0), unit: 'ms', floor: round(p95(floorTiming.warm), 1), ratio: round(p95(timing.warm) / p95(floorTiming.warm), 1) });
        figures.push({
          label: `${scope.label} by ${groupBy}, cold`, value: round(c, 0), unit: 'ms', floor: round(fc, 1), ratio: round(c / fc, 1),
          target: `< ${scope.target / 1000} s`, met: c < scope.target,
        });
      }

      // the report screen: the chosen grouping, the hour chart and the heat map at once, as the browser asks
      const screen: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = now();
        await Promise.all([
          summaryReport(db, query('service')),
          summaryReport(db, query('hour')),
          arrivalsByDayHour(db, { siteId: scope.siteId, from: MONTH_FROM, to: MONTH_TO }),
        ]);
        screen.push(ms(t));
      }
      raw[`${scope.key}-screen`] = screen;
      figures.push({
        label: `${scope.label}, report screen (by service + by hour + heat map in parallel), warm median`, value: round(med(screen), 0), unit: 'ms',
        floor: round(f, 1), ratio: round(med(screen) / f, 1), target: `< ${scope.target / 1000} s`, met: med(screen) < scope.target,
      });
    }

    // ---- the same report read from the raw history alone (no facts), warm, as before the facts ----
    for (const scope of scopes) {
      const q: SummaryQuery = { siteId: scope.siteId, from: MONTH_FROM, to: MONTH_TO, groupBy: 'service' };
      const times: number[] = [];
      for (let i = 0; i < 2; i++) {
        const t = now();
        await summaryReport(db, q, { raw: true });
        times.push(ms(t));
      }
      raw[`${scope.key}-raw`] = times;
      ctx.log(`  ${scope.label} by service from the raw history alone: ${med(times).toFixed(0)} ms`);
      figures.push({ label: `${scope.label} by service, raw history only (no facts), warm median`, value: round(med(times), 0), unit: 'ms' });
    }

    // ---- the plans, for the doc ----
    for (const scope of scopes) {
      const q: SummaryQuery = { siteId: scope.siteId, from: MONTH_FROM, to: MONTH_TO, groupBy: 'service' };
      const { rows } = await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
        const plan = await readPlan(trx, q);
        return sql<{ 'QUERY PLAN': string }>`EXPLAIN (ANALYZE, BUFFERS) ${summaryStatement(q, await reportBounds(trx, q, plan.spans), plan)}`.execute(trx);
      });
      raw[`${scope.key}-plan`] = rows.map((r) => r['QUERY PLAN']).join('\n');
    }

    // ---- the CSV export of one site-month, then of its year: time and heap while streaming ----
    const gc = exposeGc();
    for (const [label, from, to] of [['one site-month', MONTH_FROM, MONTH_TO], ['one site-year', YEAR_FROM, YEAR_TO]] as const) {
      const q = { siteId: site, from, to };
      const floorTimes: number[] = [];
      for (let i = 0; i < 2; i++) {
        const t = now();
        let after: { issuedAt: Date; id: string } | null = null;
        for (;;) {
          const { rows } = await batchStatement(site, q, after, 1000).execute(db);
          if (rows.length < 1000) break;
          after = { issuedAt: rows.at(-1)!.issuedAt, id: rows.at(-1)!.id };
        }
        floorTimes.push(ms(t));
      }
      // timed pass: as a download runs
      let lines = 0;
      let bytes = 0;
      const t = now();
      for await (const line of streamTicketsCsv(db, q)) {
        bytes += Buffer.byteLength(line);
        lines++;
      }
      const took = ms(t);
      // heap pass: the live heap (after a full GC) every 2000 lines, against the heap before
      gc();
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      let n = 0;
      for await (const _line of streamTicketsCsv(db, q)) {
        if (++n % 2000 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }
      }
      gc();
      const after = process.memoryUsage().heapUsed;
      const growth = (peak - base) / 2 ** 20;
      ctx.log(`  CSV ${label}: ${lines} lines, ${(bytes / 2 ** 20).toFixed(1)} MB in ${took.toFixed(0)} ms; live heap ${(base / 2 ** 20).toFixed(1)} MB before, peak +${growth.toFixed(2)} MB, ${(after / 2 ** 20).toFixed(1)} MB after`);
      const fl = med(floorTimes);
      figures.push({ label: `CSV export, ${label} (${(lines - 1).toLocaleString('en-US')} tickets)`, value: round(took, 0), unit: 'ms', floor: round(fl, 0), ratio: round(took / fl, 1) });
      figures.push({ label: `CSV export, ${label}: live heap growth while streaming`, value: round(growth, 2), unit: 'MB', target: '< 8 MB (flat)', met: growth < 8 });
      raw[`csv-${label}`] = { lines, bytes, took, floor: floorTimes, heapBase: base, heapPeak: peak, heapAfter: after };
    }
    notes.push('CSV floor: the same keyset pages (batchStatement, 1000 tickets each) read without formatting. Heap: a second pass of the same export, the live heap (heapUsed right after a full GC) sampled every 2000 lines; the growth is its peak over the heap before the export.');
    notes.push(`Warm: ${runs} runs after the cold ones, median and p95. Cold: ${coldRuns} run(s) of the "by service" report (1 of the others), each after CHECKPOINT, pg_buffercache_evict_all() and dropping the database's files from the page cache (posix_fadvise DONTNEED through dd iflag=nocache); the floor is made cold the same way.`);
    notes.push('Floor: SELECT count(*), sum(at), count(DISTINCT ticket) over the tickets issued in the range joined to their ticket_event rows, on the same indexes; the report reads these plus ratings, services, counters and counter events, and sorts for the percentiles.');
    return { name: 'report', title: 'Reports on a large history (summary report, report screen, CSV export)', figures, notes, raw };
  } finally {
    await db.destroy();
    await kept?.stop();
  }
}

/** Makes the next query cold: nothing of the database in PostgreSQL's buffers nor in the OS page cache. */
async function coldMaker(db: Db): Promise<{ make: () => Promise<void>; note: string }> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_buffercache`.execute(db);
  const { rows: [where] } = await sql<{ dir: string; oid: string }>`
    SELECT current_setting('data_directory') AS dir, (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid`.execute(db);
  const folder = path.join(where!.dir, 'base', where!.oid);
  let dropped = true;
  const make = async () => {
    await sql`CHECKPOINT`.execute(db);
    await sql`SELECT pg_buffercache_evict_all()`.execute(db);
    if (!dropped) return;
    try {
      for (const file of readdirSync(folder)) {
        execFileSync('dd', [`if=${path.join(folder, file)}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
      }
    } catch {
      dropped = false; // not allowed here: cold then means PostgreSQL's buffers only
    }
  };
  await make();
  return { make, note: dropped ? 'Cold runs empty shared buffers and the OS page cache of the database.' : 'Cold runs empty shared buffers only (the OS page cache could not be dropped here).' };
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return () => gc?.();
}
