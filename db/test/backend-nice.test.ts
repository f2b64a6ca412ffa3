import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { isLocalDatabase, schedIdle, threadTaskId } from '../src/backend-nice.ts';
import { createDb } from '../src/connection.ts';
import { createTestDatabase, niceOf, policyOf, SCHED_IDLE, type TestDatabase } from '../src/testing.ts';

// A pool's backends at a lower CPU priority (backend-nice.ts): the reports' pool, so that the
// scheduler gives the cores to the queue's backends first: a nice value, and SCHED_IDLE.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

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
      for (const pid of pids) expect(niceOf(`/proc/${pid}/stat`)).toBe(10);
      for (const pid of await backendPids(plain, 2)) expect(niceOf(`/proc/${pid}/stat`)).toBe(0);
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
      while (pids.some((pid) => policyOf(`/proc/${pid}/stat`) !== SCHED_IDLE) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const pid of pids) expect(policyOf(`/proc/${pid}/stat`), `backend ${pid}`).toBe(SCHED_IDLE);
      const [other] = await backendPids(niced, 1);
      await new Promise((r) => setTimeout(r, 200));
      expect(policyOf(`/proc/${other!}/stat`)).toBe(0);
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
      expect(policyOf(`/proc/${tid}/stat`)).toBe(SCHED_IDLE);
      expect(policyOf(`/proc/${process.pid}/stat`)).toBe(0);
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
