import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
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
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return Number.NaN;
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
