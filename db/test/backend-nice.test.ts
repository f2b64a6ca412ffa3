import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { isLocalDatabase, schedIdle, threadTaskId } from '../src/backend-nice.ts';
import { createDb } from '../src/connection.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// A pool's backends at a lower CPU priority (backend-nice.ts): the reports' pool, so that the
// scheduler gives the cores to the queue's backends first: a nice value, and SCHED_IDLE.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

/** A task's fields in /proc (Linux: /proc/<pid>/stat, from the third on). */
const statOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};
/** Its nice value (field 19). */
const niceOf = (pid: number) => Number(statOf(pid)[16]);
/** Its scheduling policy (field 41): 0 SCHED_OTHER, 5 SCHED_IDLE. */
const policyOf = (pid: number) => Number(statOf(pid)[38]);
const SCHED_IDLE = 5;

const backendPids = async (db: ReturnType<typeof createDb>, n: number) => {
  // n statements at once, so that n connections open
  const rows = await Promise.all(Array.from({ length: n }, () => sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`.execute(db)));
  return [...new Set(rows.map((r) => r.rows[0]!.pid))];
};

describe('backends at a lower priority', () => {
  it('renices every backend of a pool on this machine, and no other pool\'s', async () => {
    const niced = createDb(t.url, { max: 2, backendNice: 10 });
    const plain = createDb(t.url, { max: 2 });
    try {
      const pids = await backendPids(niced, 2);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(niceOf(pid)).toBe(10);
      for (const pid of await backendPids(plain, 2)) expect(niceOf(pid)).toBe(0);
    } finally {
      await niced.destroy();
      await plain.destroy();
    }
  });

  it('puts a pool\'s backends under SCHED_IDLE when asked, and only that pool\'s', async () => {
    const idle = createDb(t.url, { max: 2, backendNice: 10, backendIdle: true });
    const niced = createDb(t.url, { max: 1, backendNice: 10 });
    try {
      const pids = await backendPids(idle, 2);
      expect(pids).toHaveLength(2);
      // `chrt` runs a moment after each connection opened
      const deadline = Date.now() + 5_000;
      while (pids.some((pid) => policyOf(pid) !== SCHED_IDLE) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const pid of pids) expect(policyOf(pid), `backend ${pid}`).toBe(SCHED_IDLE);
      const [other] = await backendPids(niced, 1);
      await new Promise((r) => setTimeout(r, 200));
      expect(policyOf(other!)).toBe(0);
    } finally {
      await idle.destroy();
      await niced.destroy();
    }
  });

  it('puts this thread under SCHED_IDLE by its task id', async () => {
    // on a thread of its own (a worker), so as not to slow this test process's main thread
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const { readlinkSync } = require('node:fs');
      parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop()));
      setTimeout(() => {}, 10_000);
    `, { eval: true });
    try {
      const tid = await new Promise<number>((resolve) => worker.once('message', resolve));
      expect(tid).not.toBe(process.pid);
      expect(await schedIdle(tid)).toBe(true);
      expect(policyOf(tid)).toBe(SCHED_IDLE);
      expect(policyOf(process.pid)).toBe(0);
      expect(threadTaskId()).toBe(process.pid);
      expect(await schedIdle(2 ** 22 + 1)).toBe(false); // no such task
    } finally {
      await worker.terminate();
    }
  });

  it('only for a database on this machine', () => {
    expect(t.url).toMatch(/127\.0\.0\.1|localhost/);
    for (const url of [t.url, 'postgres://qms:x@localhost:5432/qms', 'postgres://qms@127.0.0.1/qms', 'postgres://qms@[::1]:5432/qms',
      'postgres://qms@/qms?host=/var/run/postgresql']) expect(isLocalDatabase(url), url).toBe(true);
    for (const url of ['postgres://qms:x@db.internal:5432/qms', 'postgres://qms@10.0.0.5/qms', 'postgres://qms@postgres/qms', 'not a url']) {
      expect(isLocalDatabase(url), url).toBe(false);
    }
  });
});
