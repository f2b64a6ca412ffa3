import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type pg from 'pg';

// A connection's PostgreSQL backend at a lower CPU priority (Linux: its nice value, and for the
// reports' pool the SCHED_IDLE policy as well), so that when the cores are short the scheduler
// gives them to the other backends first: a year-long report takes what the queue's statements
// leave (docs/performance.md, section h). Only a backend on this machine can be reniced, and
// only by its own user or root: elsewhere, or when not allowed, nothing changes.

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

/**
 * Sets the nice value of each new connection's backend to `nice`, and with `idle` its policy
 * to SCHED_IDLE (schedIdle); returns whether it will (a database on this machine). A backend it
 * may not renice (another user's) is left as it is.
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
    if (idle) void schedIdle(pid);
  });
  return true;
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
