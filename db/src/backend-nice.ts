import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { setPriority } from 'node:os';
import type pg from 'pg';

// A connection's PostgreSQL backend at a lower CPU priority (Linux: its nice value, and for the
// reports' pool the SCHED_IDLE policy as well), so that when the cores are short the scheduler
// gives them to the other backends first: a year-long report takes what the queue's statements
// leave (docs/performance.md, section h). Only a backend on this machine can be reniced, and
// only by its own user or root: elsewhere, or when not allowed, nothing changes.
//
// Where Linux groups tasks by session (its autogroups: kernel.sched_autogroup_enabled, for the
// tasks outside any cgroup of the cpu controller), a task's nice value and policy only order it
// against the tasks of its own session, and each session weighs the same against the others.
// PostgreSQL starts every backend in a session of its own, so there a backend's nice value and
// SCHED_IDLE change nothing: measured on this project's machines, two SCHED_IDLE spinners in
// sessions of their own made a task that wakes every millisecond wait 0.25 ms per ms it ran (0.04
// alone, 0.25 with spinners at normal priority), and 0.04 with their sessions' nice at 19 and
// their policy left normal (0.40 with SCHED_IDLE as well). So a backend alone in its session gets
// the session's nice value instead (docs/performance.md, h, "Sessions").

/** Whether `url` names a server on this machine (a loopback address or a Unix socket). */
export function isLocalDatabase(url: string): boolean {
  // a Unix socket's folder comes as ?host=/path (the URL's own host may then be empty)
  const socket = /[?&]host=([^&]*)/.exec(url);
  let host: string;
  if (socket) {
    host = decodeURIComponent(socket[1]!);
  } else {
    try {
      host = decodeURIComponent(new URL(url).hostname);
    } catch {
      return false;
    }
  }
  return host === 'localhost' || host.startsWith('/') || /^127\./.test(host) || host === '[::1]' || host === '::1';
}

/** Whether `pid` is a PostgreSQL process of this machine (its command name, from /proc). */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}

/** The nice value a backend's own session gets for `idle` work: the lowest there is. */
export const IDLE_SESSION_NICE = 19;

/**
 * Sets the nice value of each new connection's backend to `nice`, and with `idle` its policy
 * to SCHED_IDLE (schedIdle); returns whether it will (a database on this machine). Where the
 * kernel weighs the backend by its session (sessionScheduled), its session's nice value is set
 * instead of the policy: `nice`, or IDLE_SESSION_NICE with `idle`. A backend it may not renice
 * (another user's) is left as it is.
 */
export function niceBackends(pool: pg.Pool, url: string, nice: number, idle = false): boolean {
  if (!isLocalDatabase(url)) return false;
  pool.on('connect', (client) => {
    const pid = (client as unknown as { processID?: number }).processID;
    if (!pid || !isPostgres(pid)) return;
    try {
      setPriority(pid, nice);
    } catch {
      // EPERM or EACCES: a server run by another user; its priority stays
      return;
    }
    if (sessionScheduled(pid)) void setSessionNice(pid, idle ? IDLE_SESSION_NICE : nice);
    else if (idle) void schedIdle(pid);
  });
  return true;
}

/**
 * Whether Linux weighs `pid` against other sessions' tasks by its session's autogroup, and the
 * session is its own (a PostgreSQL backend's): autogroups on (/proc/sys/kernel/sched_autogroup_enabled),
 * the task in the root of the cpu controller (cgroup v1's `cpu` hierarchy, or v2 without `cpu` in
 * the root's subtree_control), and its session id its pid. In any other case a session's nice
 * value would change nothing, or other tasks too.
 */
export function sessionScheduled(pid: number): boolean {
  try {
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() !== '1') return false;
    // the session is field 6
    if (Number(statFields(`/proc/${pid}/stat`)[3]) !== pid) return false;
    return inCpuRoot(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), () => readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8'));
  } catch {
    return false;
  }
}

/** Whether a task's /proc/<pid>/cgroup puts it in the root of the cpu controller's hierarchy. */
export function inCpuRoot(cgroups: string, rootSubtree: () => string): boolean {
  const lines = cgroups.split('\n').filter(Boolean).map((line) => line.split(':'));
  const v1 = lines.find(([, controllers]) => controllers!.split(',').includes('cpu'));
  if (v1) return v1.slice(2).join(':') === '/';
  const v2 = lines.find(([id]) => id === '0');
  if (!v2) return false;
  if (v2.slice(2).join(':') === '/') return true;
  return !rootSubtree().split(/\s+/).includes('cpu');
}

/**
 * Sets the nice value of `pid`'s session (/proc/<pid>/autogroup). Without CAP_SYS_ADMIN the
 * kernel takes one such change a tenth of a second across the machine (EAGAIN before): tried
 * again a few times. Resolves whether it did.
 */
export async function setSessionNice(pid: number, nice: number): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      writeFileSync(`/proc/${pid}/autogroup`, String(nice));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      await sleep(110 + Math.random() * 100);
    }
  }
  return false;
}

/**
 * The fields of /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) from the third on (the state):
 * after the command name, which may hold spaces and parentheses.
 */
export function statFields(statPath: string): string[] {
  const stat = readFileSync(statPath, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * Puts a task (Linux: a process's or a thread's id) under the SCHED_IDLE policy, with util-linux's
 * `chrt`: it then runs only on a core no other task wants, and gives it up the moment one wakes
 * up there, where a nice value only shrinks its share and lets it finish its time slice first
 * (a few ms, which a call waiting behind it would pay). Resolves whether it did; without `chrt`,
 * or not allowed, the task keeps its nice value. An unprivileged user may lower its own tasks so.
 */
export function schedIdle(tid: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('chrt', ['--idle', '--pid', '0', String(tid)], { timeout: 5_000 }, (error) => resolve(!error));
  });
}

/** This thread's task id (Linux: /proc/thread-self), to give schedIdle or setPriority; undefined elsewhere. */
export function threadTaskId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || undefined;
  } catch {
    return undefined;
  }
}
