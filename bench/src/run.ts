// npm run bench: runs each benchmark, prints a table, and writes the figures for
// docs/performance.md to bench/results/ (latest.md and a JSON file per run).
//
//   npm run bench                       everything at full scale (about 15-20 minutes)
//   npm run bench -- --quick            scaled down (a few minutes)
//   npm run bench -- --only=latency,render
//   npm run bench -w bench -- --quick --only=notify   (latency with notifications off, then on)
//   npm run bench -- --sites=10 --duration=30   (see README.md for every option)
import { execSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { coldStartBench } from './benchmarks/coldstart.ts';
import { e2eBench } from './benchmarks/e2e.ts';
import { latencyBench } from './benchmarks/latency.ts';
import { notifyBench } from './benchmarks/notify.ts';
import { provinceBench } from './benchmarks/province.ts';
import { proxyBench } from './benchmarks/proxy.ts';
import { renderBench } from './benchmarks/render.ts';
import { reportBench } from './benchmarks/report.ts';
import { reportLoadBench } from './benchmarks/reportload.ts';
import { stormBench } from './benchmarks/storm.ts';
import { throughputBench } from './benchmarks/throughput.ts';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.ts';
import { cleanupNamespaces } from './lib/netns.ts';
import { killAll, ROOT, serverNodeArgs } from './lib/processes.ts';
import type { BenchContext, BenchResult } from './lib/result.ts';
import { fmt, parseArgs } from './lib/util.ts';

const BENCHMARKS: { name: string; needsDb: boolean; run: (ctx: BenchContext) => Promise<BenchResult> }[] = [
  { name: 'latency', needsDb: true, run: (ctx) => latencyBench(ctx) },
  { name: 'notify', needsDb: true, run: notifyBench },
  { name: 'throughput', needsDb: true, run: throughputBench },
  { name: 'e2e', needsDb: true, run: e2eBench },
  { name: 'storm', needsDb: true, run: stormBench },
  { name: 'proxy', needsDb: true, run: proxyBench },
  { name: 'render', needsDb: false, run: renderBench },
  { name: 'coldstart', needsDb: false, run: coldStartBench },
  { name: 'report', needsDb: true, run: reportBench },
  { name: 'reportload', needsDb: true, run: reportLoadBench },
  { name: 'province', needsDb: true, run: provinceBench },
];

// Options come from argv (`npm run bench -w bench -- --quick`), from QMS_BENCH_ARGS, or from
// what npm makes of unknown flags given to the root script (`npm run bench -- --quick` sets
// npm_config_quick=true); `--only` collides with an npm option, so `--benchmarks=` also works.
const args = parseArgs([...(process.env.QMS_BENCH_ARGS ?? '').split(/\s+/).filter(Boolean), ...process.argv.slice(2)]);
for (const [key, value] of Object.entries(process.env)) {
  const m = /^npm_config_(.+)$/.exec(key);
  if (!m || value === undefined) continue;
  const name = m[1]!.replace(/_/g, '-');
  if (['quick', 'benchmarks', 'sites', 'counters', 'displays', 'kiosks', 'devices', 'duration', 'call-rate', 'issue-rate',
    'concurrency', 'warm-queue', 'render-iterations', 'coldstart-runs', 'timeout-min', 'storm-timeout',
    'report-tickets', 'report-sites', 'report-runs', 'report-cold-runs', 'report-keep', 'notify', 'notify-order', 'webhook-delay',
    'counter-screens', 'rounds', 'turn', 'warm', 'backlog', 'processes', 'phases', 'netns', 'netem', 'pin', 'profile-seconds',
    'reportload-tickets', 'reportload-sites', 'reportload-modes', 'managers', 'report-connections',
    'phones', 'speed', 'per-counter', 'from', 'to', 'slice', 'profile', 'alloc-profile', 'statements'].includes(name) && !args.has(name)) {
    args.set(name, value === 'true' || value === '' ? true : value);
  }
}
if (args.has('benchmarks') && !args.has('only')) args.set('only', args.get('benchmarks')!);
const quick = args.has('quick') || process.env.QMS_BENCH_QUICK === '1';
const only = typeof args.get('only') === 'string' ? String(args.get('only')).split(',') : BENCHMARKS.map((b) => b.name);
const unknown = only.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const log = (line: string) => console.log(line);

// a watchdog: nothing the bench starts outlives it
const limitMin = Number(args.get('timeout-min') ?? (quick ? 20 : 60));
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${limitMin} min, stopping everything`);
  killAll();
  cleanupNamespaces(); // e2e --netns
  process.exit(3);
}, limitMin * 60_000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    cleanupNamespaces();
    process.exit(130);
  });
}

let fdLimit = Number.NaN;
try {
  fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
} catch {
  // unknown
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Linux ${os.release()}, Node ${process.version}; the queue server run with ${serverNodeArgs().join(' ') || 'no Node flags'}`;
log(`qms bench (${quick ? 'quick' : 'full'}) on ${machine}; open files limit ${fdLimit}`);

let pg: BenchPostgres | undefined;
let dbCount = 0;
const ctx: BenchContext = {
  quick,
  args,
  log,
  num(name, normal, quickValue) {
    const v = args.get(name);
    if (typeof v === 'string' && Number.isFinite(Number(v))) return Number(v);
    return quick && quickValue !== undefined ? quickValue : normal;
  },
  async database(name) {
    pg ??= await startBenchPostgres({ fast: false });
    return pg.createDatabase(`bench_${name}_${++dbCount}`);
  },
};
(ctx as BenchContext & { fdLimit: number }).fdLimit = fdLimit;

const results: BenchResult[] = [];
const started = new Date();
try {
  for (const bench of BENCHMARKS.filter((b) => only.includes(b.name))) {
    log(`\n== ${bench.name} ==`);
    const t0 = Date.now();
    try {
      const result = await bench.run(ctx);
      results.push(result);
      log(`  done in ${Math.round((Date.now() - t0) / 1000)} s`);
    } catch (error) {
      console.error(`  ${bench.name} failed:`, error);
      results.push({ name: bench.name, title: bench.name, figures: [], notes: [], error: String((error as Error).stack ?? error) });
    }
    killAll(); // nothing of one benchmark may disturb the next
  }
} finally {
  await pg?.stop();
}

// ---- report ----
const rows: string[][] = [['benchmark', 'figure', 'value', 'floor', 'ratio', 'target', 'met']];
for (const r of results) {
  if (r.error) rows.push([r.name, 'ERROR', r.error.split('\n')[0]!.slice(0, 80), '', '', '', '✗']);
  for (const f of r.figures) {
    rows.push([r.name, f.label, `${fmt(f.value, 2)} ${f.unit}`, f.floor !== undefined ? `${fmt(f.floor, 3)} ${f.unit}` : '',
      f.ratio !== undefined ? `${fmt(f.ratio, 2)}×` : '', f.target ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
log('');
for (const [i, row] of rows.entries()) {
  log(row.map((cell, j) => cell.padEnd(widths[j]!)).join('  '));
  if (i === 0) log(widths.map((w) => '-'.repeat(w)).join('  '));
}

const stamp = started.toISOString().replace(/[:.]/g, '-');
const outDir = path.join(ROOT, 'bench/results');
await mkdir(outDir, { recursive: true });
const md = [
  `Run of ${started.toISOString()} (${quick ? 'quick' : 'full'} scale), ${machine}.`,
  '',
  '| benchmark | figure | value | floor | ratio | target | met |',
  '|---|---|---|---|---|---|---|',
  ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
  '',
  ...results.flatMap((r) => [`### ${r.title}`, '', ...r.notes.map((n) => `- ${n}`), ...(r.error ? ['', '```', r.error, '```'] : []), '']),
].join('\n');
await writeFile(path.join(outDir, 'latest.md'), md);
await writeFile(path.join(outDir, `run-${stamp}${quick ? '-quick' : ''}.json`), JSON.stringify({ started, quick, machine, fdLimit, results }, null, 2));
log(`\nfigures written to bench/results/latest.md and bench/results/run-${stamp}${quick ? '-quick' : ''}.json`);
process.exit(results.some((r) => r.error) ? 1 : 0);
