import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import type pg from 'pg';

// A connection's PostgreSQL backend at a lower CPU priority (Linux: its nice value), so that
// when the cores are short the scheduler gives them to the other backends first: the reports'
// pool uses it, so that a year-long report takes what the queue's statements leave (docs/
// performance.md, section h). Only a backend on this machine can be reniced, and only by its
// own user or root: elsewhere, or when not allowed, nothing changes.

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
 * Sets the nice value of each new connection's backend to `nice`; returns whether it will (a
 * database on this machine). A backend it may not renice (another user's) is left as it is.
 */
export function niceBackends(pool: pg.Pool, url: string, nice: number): boolean {
  if (!isLocalDatabase(url)) return false;
  pool.on('connect', (client) => {
    const pid = (client as unknown as { processID?: number }).processID;
    if (!pid || !isPostgres(pid)) return;
    try {
      setPriority(pid, nice);
    } catch {
      // EPERM or EACCES: a server run by another user; its priority stays
    }
  });
  return true;
}
