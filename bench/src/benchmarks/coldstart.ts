import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, startChild, type Child } from '../lib/processes.ts';
import type { BenchContext, BenchResult } from '../lib/result.ts';
import { median, round } from '../lib/stats.ts';
import { now, sleep } from '../lib/util.ts';

// f. Cold start: `npm start`'s entry point (server/src/main.ts) with a fresh QMS_DATA_DIR in a
// temp dir and PORT=0, timed from spawn to the first 200 from /api/health: initdb, start
// PostgreSQL, migrate, seed the demo centre, create the admin, listen. Then a warm start on
// the same directory. Floor: a Node process (same loader) that only initialises and starts
// the embedded PostgreSQL in a fresh directory (warm: in the existing one).

interface Timing {
  totalMs: number;
  phases: Record<string, number>;
}

function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.DATABASE_URL;
  delete env.QMS_PG_PORT;
  return env;
}

/** A postmaster left behind if a child had to be killed: stop it by its pid file. */
function stopOrphan(dir: string) {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
}

async function watch(c: Child, ready: RegExp, timeoutMs: number, marks: Record<string, RegExp>): Promise<Timing & { url?: string }> {
  const began = now();
  const phases: Record<string, number> = {};
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (Date.now() < deadline) {
    const out = c.output();
    for (const [name, re] of Object.entries(marks)) if (!(name in phases) && re.test(out)) phases[name] = now() - began;
    const m = ready.exec(out);
    if (m) {
      url = m[1];
      if (!url) return { totalMs: now() - began, phases };
      try {
        const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return { totalMs: now() - began, phases, url };
      } catch {
        // not yet
      }
    }
    if (c.child.exitCode !== null) throw new Error(`exited early:\n${out.slice(-3000)}`);
    await sleep(5);
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${c.output().slice(-3000)}`);
}

async function serverStart(dataDir: string): Promise<Timing> {
  const began = now();
  const c = startChild(path.join(ROOT, 'server/src/main.ts'), cleanEnv({
    QMS_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', QMS_RATE_LIMITS: 'on',
  }));
  try {
    const t = await watch(c, /health\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/health/, 120_000, {
      initdb: /initialising a new cluster/,
      seeded: /Seeded the demo centre/,
      listening: /Queue management system is running/,
    });
    return { totalMs: now() - began, phases: t.phases };
  } finally {
    await c.stop(20_000);
    stopOrphan(path.join(dataDir, 'pg'));
  }
}

async function floorStart(dir: string): Promise<Timing> {
  const began = now();
  const c = startChild(path.join(ROOT, 'bench/src/floor/pg-only.ts'), cleanEnv({ QMS_BENCH_PG_DIR: dir }));
  try {
    await watch(c, /^ready$/m, 120_000, {});
    return { totalMs: now() - began, phases: {} };
  } finally {
    await c.stop(20_000);
    stopOrphan(dir);
  }
}

export async function coldStartBench(ctx: BenchContext): Promise<BenchResult> {
  const reps = ctx.num('coldstart-runs', 3, 1);
  const cold: Timing[] = [];
  const warm: Timing[] = [];
  const floorCold: number[] = [];
  const floorWarm: number[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const serverDir = await mkdtemp(path.join(tmpdir(), 'qms-bench-start-'));
      const floorDir = await mkdtemp(path.join(tmpdir(), 'qms-bench-floor-pg-'));
      dirs.push(serverDir, floorDir);
      await chmod(serverDir, 0o755);
      await chmod(floorDir, 0o755);
      // alternate, so a noisy minute hurts both sides
      floorCold.push((await floorStart(path.join(floorDir, 'pg'))).totalMs);
      cold.push(await serverStart(serverDir));
      ctx.log(`  cold start ${i + 1}/${reps}: ${Math.round(cold.at(-1)!.totalMs)} ms (floor ${Math.round(floorCold.at(-1)!)} ms)`);
      floorWarm.push((await floorStart(path.join(floorDir, 'pg'))).totalMs);
      warm.push(await serverStart(serverDir));
      ctx.log(`  warm start ${i + 1}/${reps}: ${Math.round(warm.at(-1)!.totalMs)} ms (floor ${Math.round(floorWarm.at(-1)!)} ms)`);
    }
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  const c = median(cold.map((t) => t.totalMs));
  const w = median(warm.map((t) => t.totalMs));
  const fc = median(floorCold);
  const fw = median(floorWarm);
  const phase = (name: string) => median(cold.map((t) => t.phases[name] ?? Number.NaN));
  return {
    name: 'coldstart',
    title: 'Cold start of npm start (embedded PostgreSQL) to healthy',
    figures: [
      { label: 'cold start (fresh data dir), median', value: round(c / 1000, 2), unit: 's', floor: round(fc / 1000, 2), ratio: round(c / fc, 2) },
      { label: 'warm start (existing data dir), median', value: round(w / 1000, 2), unit: 's', floor: round(fw / 1000, 2), ratio: round(w / fw, 2) },
    ],
    notes: [
      `${reps} run(s) of each; \`node --import tsx server/src/main.ts\` with QMS_DATA_DIR in a new temp dir, PORT=0, HOST=127.0.0.1, demo seeding on (as npm start). The UI build of \`prestart\` is not included (it is skipped when unchanged).`,
      `Cold start milestones (median, from spawn): initdb begins ${round(phase('initdb') / 1000, 2)} s, demo seeded ${round(phase('seeded') / 1000, 2)} s, listening ${round(phase('listening') / 1000, 2)} s.`,
      'Floor: a Node process started the same way that only initialises (cold) or starts (warm) the embedded PostgreSQL.',
    ],
    raw: { cold, warm, floorCold, floorWarm },
  };
}
