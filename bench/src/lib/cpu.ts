import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sql } from 'kysely';
import type { Db } from '@qms/db';
import { round } from './stats.ts';
import { now } from './util.ts';

// Where the machine's CPU went during a phase: the server process(es), the bench process (the
// load generator and its sockets), and the rest (PostgreSQL, and whoever else shares the box).

const TICK_MS = 10; // USER_HZ = 100 on Linux

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

function processTicks(pid: number): number {
  return userSystemTicks(pid).reduce((a, b) => a + b, 0);
}

/** A process's CPU ticks in user space and in the kernel (utime, stime); NaN once it is gone. */
function userSystemTicks(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[11]), Number(fields[12])];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

export interface CpuMark {
  at: number;
  machine: { busy: number; total: number };
  procs: number[];
  self: NodeJS.CpuUsage;
}

export function cpuMark(pids: number[]): CpuMark {
  return { at: now(), machine: machineTicks(), procs: pids.map(processTicks), self: process.cpuUsage() };
}

/** Percentages of one core over the phase, and of the whole machine. */
export function cpuSince(mark: CpuMark, pids: number[], names: string[]): string {
  const wallMs = now() - mark.at;
  const m = machineTicks();
  const machineBusyMs = (m.busy - mark.machine.busy) * TICK_MS;
  const procMs = pids.map((pid, i) => (processTicks(pid) - mark.procs[i]!) * TICK_MS);
  const self = process.cpuUsage(mark.self);
  const selfMs = (self.user + self.system) / 1000;
  const rest = machineBusyMs - selfMs - procMs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const pct = (ms: number) => `${round((ms / wallMs) * 100, 0)}%`;
  return `CPU over ${round(wallMs / 1000, 1)} s (% of one core; the machine has ${cpus().length}): machine busy ${pct(machineBusyMs)}, ` +
    `${names.map((n, i) => `${n} ${pct(procMs[i]!)}`).join(', ')}, bench process (clients) ${pct(selfMs)}, rest (PostgreSQL and others) ${pct(rest)}.`;
}

/** The bench's PostgreSQL: the postmaster of the backend serving `backendPid` (from /proc). */
export function postmasterOf(backendPid: number): number {
  try {
    const stat = readFileSync(`/proc/${backendPid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

/** The postmaster of the PostgreSQL that serves `db` (through one of its backends). */
export async function postmasterPid(db: Db): Promise<number> {
  const r = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
  return postmasterOf(Number(r.rows[0]!.pid));
}

/** A process and its children now, each with its CPU ticks (PostgreSQL: the postmaster and its backends and workers). */
function familyTicks(parent: number): Map<number, number> {
  const out = new Map<number, number>();
  if (!Number.isFinite(parent)) return out;
  out.set(parent, processTicks(parent));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent) out.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone
    }
  }
  return out;
}

/** A process and its children now (PostgreSQL: the postmaster and its backends and workers). */
export const familyPids = (parent: number): number[] => [...familyTicks(parent).keys()];

/** Starts counting the CPU of a process family; the returned function gives its % of one core since (a backend that exited meanwhile is missed). */
export function familyCpu(parent: number): () => number {
  const t0 = now();
  const before = familyTicks(parent);
  return () => {
    let ticks = 0;
    for (const [pid, t] of familyTicks(parent)) ticks += t - (before.get(pid) ?? 0);
    return round(((ticks * TICK_MS) / (now() - t0)) * 100, 0);
  };
}

/**
 * CPU of named groups of processes over one or more windows (start/stop, summed): a group is
 * fixed pids (a server), a process family (the postmaster and its backends), or the bench
 * process itself (the load generator and its sockets). The rest of the machine's busy time
 * is whoever else shares it.
 */
export type CpuGroup = { pids: number[] } | { family: number } | { self: true };

export interface CpuAccount {
  wallS: number;
  cores: number;
  /** % of one core, the whole machine (up to cores × 100) */
  machineBusy: number;
  /** % of one core per group */
  groups: Record<string, number>;
  /**
   * Of that, % of one core in the kernel (system time), for the servers and the bench process:
   * a CPU profile's samples in a socket write also count the time the thread waited for its core
   * after waking the reader (PostgreSQL's backend), which this does not.
   */
  kernel?: Record<string, number>;
  /** machine busy minus the groups: other processes (other benchmarks on a shared machine) */
  rest: number;
}

/** A process's CPU ticks: all of them, and those in the kernel. */
interface Ticks {
  all: number;
  kernel: number;
}

export class CpuMeter {
  private wallMs = 0;
  private machineMs = 0;
  private readonly ms = new Map<string, number>();
  private readonly kernelMs = new Map<string, number>();
  private open: { at: number; machine: number; ticks: Map<string, Map<number, Ticks>>; self: NodeJS.CpuUsage } | undefined;

  constructor(private readonly groups: Record<string, CpuGroup>) {}

  /** Each process's ticks now, one read of its stat: all of them, and those in the kernel (fixed pids only). */
  private ticks(group: CpuGroup): Map<number, Ticks> {
    if ('self' in group) return new Map();
    if ('family' in group) return new Map([...familyTicks(group.family)].map(([pid, all]) => [pid, { all, kernel: Number.NaN }]));
    return new Map(group.pids.map((pid) => {
      const [user, system] = userSystemTicks(pid);
      return [pid, { all: user + system, kernel: system }];
    }));
  }

  start(): void {
    this.open = {
      at: now(), machine: machineTicks().busy, self: process.cpuUsage(),
      ticks: new Map(Object.entries(this.groups).map(([name, g]) => [name, this.ticks(g)])),
    };
  }

  stop(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    this.wallMs += now() - o.at;
    this.machineMs += (machineTicks().busy - o.machine) * TICK_MS;
    for (const [name, g] of Object.entries(this.groups)) {
      let ms = 0;
      if ('self' in g) {
        const u = process.cpuUsage(o.self);
        ms = (u.user + u.system) / 1000;
        this.kernelMs.set(name, (this.kernelMs.get(name) ?? 0) + u.system / 1000);
      } else {
        const before = o.ticks.get(name)!;
        let kernel = 0;
        for (const [pid, t] of this.ticks(g)) {
          if (!Number.isFinite(t.all)) continue;
          const was = before.get(pid);
          ms += (t.all - (was?.all ?? 0)) * TICK_MS;
          kernel += (t.kernel - (was?.kernel ?? 0)) * TICK_MS;
        }
        if ('pids' in g) this.kernelMs.set(name, (this.kernelMs.get(name) ?? 0) + kernel);
      }
      this.ms.set(name, (this.ms.get(name) ?? 0) + ms);
    }
  }

  result(): CpuAccount {
    const pct = (ms: number) => round((ms / this.wallMs) * 100, 0);
    const groups = Object.fromEntries([...this.ms.entries()].map(([n, ms]) => [n, pct(ms)]));
    const used = [...this.ms.values()].reduce((a, b) => a + b, 0);
    const kernel = Object.fromEntries([...this.kernelMs.entries()].map(([n, ms]) => [n, pct(ms)]));
    return { wallS: round(this.wallMs / 1000, 1), cores: cpus().length, machineBusy: pct(this.machineMs), groups, kernel, rest: pct(this.machineMs - used) };
  }
}

export const describeCpu = (a: CpuAccount) =>
  `${Object.entries(a.groups).map(([n, p]) => `${n} ${p}%${a.kernel?.[n] !== undefined ? ` (${a.kernel[n]}% in the kernel)` : ''}`).join(', ')}, ` +
  `others ${a.rest}%; machine busy ${a.machineBusy}% of ${a.cores * 100}% (over ${a.wallS} s)`;

/**
 * A process's threads' time on a core and time runnable but waiting for one (ns; the first two
 * fields of /proc/<pid>/task/<tid>/schedstat), summed; threads gone meanwhile are missed.
 */
function schedTimes(pid: number, mainThreadOnly = false): { ran: number; waited: number } {
  let ran = 0;
  let waited = 0;
  try {
    for (const tid of mainThreadOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
      try {
        const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        ran += r!;
        waited += w!;
      } catch {
        // gone
      }
    }
  } catch {
    // gone
  }
  return { ran, waited };
}

/** A CpuGroup, or a process's main thread alone (`thread`: its pid's task). */
export type RunQueueGroup = CpuGroup | { thread: number };

/**
 * How long named groups of processes (every thread of them) waited for a core while runnable,
 * against how long they ran, in the phases of each kind ("floor" turns, "system" turns): what
 * the kernel's scheduler cost them, apart from how fast they ran once on a core.
 */
export class RunQueueMeter {
  readonly #totals = new Map<string, Map<string, { ran: number; waited: number; wallMs: number }>>();
  #open: { kind: string; at: number; times: Map<string, Map<number, { ran: number; waited: number }>> } | undefined;

  constructor(private readonly groups: Record<string, RunQueueGroup>) {}

  #pids(group: RunQueueGroup): number[] {
    return 'self' in group ? [process.pid] : 'family' in group ? familyPids(group.family) : 'thread' in group ? [group.thread] : group.pids;
  }

  #read(): Map<string, Map<number, { ran: number; waited: number }>> {
    return new Map(Object.entries(this.groups).map(([name, g]) => [name, new Map(this.#pids(g).map((pid) => [pid, schedTimes(pid, 'thread' in g)]))]));
  }

  /** Ends the open phase, if any, and opens one of `kind` (none with `undefined`). */
  mark(kind?: string): void {
    const at = now();
    const times = this.#read();
    const o = this.#open;
    if (o) {
      const byGroup = this.#totals.get(o.kind) ?? new Map();
      this.#totals.set(o.kind, byGroup);
      for (const [name, pids] of times) {
        const t = byGroup.get(name) ?? { ran: 0, waited: 0, wallMs: 0 };
        for (const [pid, x] of pids) {
          const was = o.times.get(name)?.get(pid) ?? { ran: 0, waited: 0 };
          t.ran += x.ran - was.ran;
          t.waited += x.waited - was.waited;
        }
        t.wallMs += at - o.at;
        byGroup.set(name, t);
      }
    }
    this.#open = kind === undefined ? undefined : { kind, at, times };
  }

  /** "queue server waited 12 ms a second (for 60 ms run) / 30 ms (for 70 ms)": per group, the kinds in order. */
  describe(kinds: string[]): string {
    return Object.keys(this.groups).map((name) => `${name} ${kinds.map((kind) => {
      const t = this.#totals.get(kind)?.get(name);
      if (!t || !t.wallMs) return '–';
      const perS = (ns: number) => round(ns / 1e6 / (t.wallMs / 1000), 1);
      return `${perS(t.waited)} ms (ran ${perS(t.ran)} ms)`;
    }).join(' / ')}`).join('; ');
  }
}
