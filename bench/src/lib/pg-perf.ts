import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { round } from './stats.ts';
import { sleep } from './util.ts';

// Where PostgreSQL's CPU goes, by its own functions: `perf record` with DWARF call stacks of the
// backends serving one database while a load runs, then the share of samples under each of a few
// functions of PostgreSQL's that stand for a kind of work (a sample counts for every kind on its
// stack: the kinds overlap, e.g. a foreign-key check runs in the executor). pg_stat_statements
// says which statements ran; this says what running them cost the backend (executor set-up,
// triggers, index entries, the commit's WAL flush...), which no statement count shows.
// Needs Linux's `perf` (Debian: linux-perf) and the right to trace the backends (root, or
// kernel.perf_event_paranoid ≤ 1 for one's own processes).

/** Kinds of work, each the samples with this function of PostgreSQL's on their stack. */
const KINDS: [label: string, fn: string][] = [
  ['PL/pgSQL functions (their statements included)', 'plpgsql_call_handler'],
  ['executor set-up of a statement (ExecutorStart)', 'standard_ExecutorStart'],
  ['executor tear-down (ExecutorEnd)', 'standard_ExecutorEnd'],
  ['planning', 'pg_plan_queries'],
  ['SQL-language functions', 'fmgr_sql'],
  ['triggers in PL/pgSQL (the outbox)', 'plpgsql_exec_trigger'],
  ['foreign-key checks', 'RI_FKey_check'],
  ['index entries written', 'ExecInsertIndexTuples'],
  ['row locks (FOR UPDATE, foreign keys)', 'heap_lock_tuple'],
  ['commit', 'CommitTransaction'],
  ['WAL flush at commit', 'XLogFlush'],
  ['reading from the client', 'secure_read'],
  ['writing to the client', 'secure_write'],
];

export function perfAvailable(): string | undefined {
  const r = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'perf not found (Debian: apt-get install linux-perf)';
}

function run(command: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', (error) => resolve({ status: null, stderr: error.message }));
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

/** The client backends connected to the database of `url` (not this one's), on this machine. */
async function backendsOf(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    return rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

interface Tally {
  samples: number;
  under: Map<string, number>;
  leaves: Map<string, number>;
}

/** Reads `perf script` of a recording: each sample a header line, its stack (leaf first), a blank line. */
async function tally(file: string): Promise<Tally> {
  const wanted = new Set(KINDS.map(([, fn]) => fn));
  const t: Tally = { samples: 0, under: new Map(), leaves: new Map() };
  const child = spawn('perf', ['script', '-i', file, '-F', 'comm,tid,ip,sym'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stack: string[] = [];
  const end = () => {
    if (!stack.length) return;
    t.samples++;
    t.leaves.set(stack[0]!, (t.leaves.get(stack[0]!) ?? 0) + 1);
    for (const fn of new Set(stack.filter((s) => wanted.has(s)))) t.under.set(fn, (t.under.get(fn) ?? 0) + 1);
    stack = [];
  };
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.trim() || !/^\s/.test(line)) {
      end();
      continue;
    }
    // "\t    55d0c1a2b3c4 standard_ExecutorStart+0x2f (/path/postgres)"
    const sym = line.trim().split(/\s+/)[1] ?? '?';
    stack.push(sym.replace(/\+0x[0-9a-f]+$/, ''));
  }
  end();
  await new Promise((resolve) => child.once('close', resolve));
  return t;
}

/**
 * Runs `work` (a load on the database of `url` for about `seconds`) and records the backends
 * serving that database from 1 s into it until 1 s before its end; returns the lines for the
 * notes. Never throws: a profile that cannot be taken says why.
 */
export async function profileBackends(name: string, url: string, seconds: number, work: () => Promise<unknown>): Promise<string[]> {
  const missing = perfAvailable();
  if (missing) {
    await work();
    return [`PostgreSQL profile of ${name} not taken: ${missing}.`];
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qms-pg-perf-'));
  const file = path.join(dir, 'perf.data');
  const recordS = Math.max(1, seconds - 2);
  const running = work();
  try {
    await sleep(1000);
    const pids = await backendsOf(url);
    if (!pids.length) return [`PostgreSQL profile of ${name} not taken: no backend serves its database.`];
    // not spawnSync: the load runs on this process's event loop
    const record = await run('perf', ['record', '-q', '-F', '499', '--call-graph', 'dwarf,16384', '-o', file, '-p', pids.join(','), '--', 'sleep', String(recordS)]);
    if (record.status !== 0) return [`PostgreSQL profile of ${name} not taken: perf record said ${(record.stderr || `status ${record.status}`).trim().split('\n').pop()}.`];
    await running;
    const t = await tally(file);
    if (!t.samples) return [`PostgreSQL profile of ${name} not taken: no samples of its ${pids.length} backends.`];
    const pct = (n: number | undefined) => `${round((100 * (n ?? 0)) / t.samples, 1)}%`;
    const top = [...t.leaves].sort((a, b) => b[1] - a[1]).slice(0, 12);
    return [
      `PostgreSQL profile of ${name} (perf, DWARF stacks of its ${pids.length} backends, ${t.samples} samples over ${recordS} s of a flow; a sample counts for every kind on its stack): ` +
        `${KINDS.map(([label, fn]) => `${label} ${pct(t.under.get(fn))}`).join('; ')}.`,
      `Top self-time functions of ${name}'s PostgreSQL backends: ${top.map(([fn, n]) => `${fn} ${pct(n)}`).join('; ')}.`,
    ];
  } catch (error) {
    return [`PostgreSQL profile of ${name} not taken: ${(error as Error).message}.`];
  } finally {
    await running.catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
