import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { IDLE_SESSION_NICE, inCpuRoot, isLocalDatabase, schedIdle, sessionScheduled, threadTaskId } from '../src/backend-nice.ts';
import { createDb } from '../src/connection.ts';
import { createTestDatabase, niceOf, policyOf, SCHED_IDLE, sessionNiceOf, type TestDatabase } from '../src/testing.ts';

// A pool's backends at a lower CPU priority (backend-nice.ts): the reports' pool, so that the
// scheduler gives the cores to the queue's backends first: a nice value, and SCHED_IDLE; where
// Linux weighs tasks by session (autogroups), the backend's session's nice value instead.

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

  it('puts a pool\'s backends at the lowest priority when asked, and only that pool\'s: SCHED_IDLE, or their sessions at nice 19', async () => {
    const idle = createDb(t.url, { max: 2, backendNice: 10, backendIdle: true });
    const niced = createDb(t.url, { max: 1, backendNice: 10 });
    const plain = createDb(t.url, { max: 1 });
    try {
      const pids = await backendPids(idle, 2);
      expect(pids).toHaveLength(2);
      // PostgreSQL starts each backend in a session of its own; where the kernel weighs tasks by
      // session (this project's machines and CI), a backend's policy changes nothing against
      // the others, and its session's nice value is set instead
      const bySession = sessionScheduled(pids[0]!);
      const lowest = (pid: number) => (bySession ? sessionNiceOf(pid) === IDLE_SESSION_NICE : policyOf(`/proc/${pid}/stat`) === SCHED_IDLE);
      // set a moment after each connection opened
      const deadline = Date.now() + 5_000;
      while (pids.some((pid) => !lowest(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const pid of pids) {
        if (bySession) {
          expect(sessionNiceOf(pid), `backend ${pid}'s session`).toBe(IDLE_SESSION_NICE);
          // with SCHED_IDLE as well the task would wait behind nothing less (backend-nice.ts)
          expect(policyOf(`/proc/${pid}/stat`)).toBe(0);
        } else {
          expect(policyOf(`/proc/${pid}/stat`), `backend ${pid}`).toBe(SCHED_IDLE);
        }
      }
      const [other] = await backendPids(niced, 1);
      const [untouched] = await backendPids(plain, 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(policyOf(`/proc/${other!}/stat`)).toBe(0);
      if (bySession) {
        expect(sessionNiceOf(other!)).toBe(10);
        expect(sessionNiceOf(untouched!)).toBe(0);
      }
    } finally {
      await idle.destroy();
      await niced.destroy();
      await plain.destroy();
    }
  });

  it('knows when the kernel weighs a task by its session: autogroups, outside the cpu controller\'s cgroups', () => {
    const noCpu = () => 'memory pids';
    const withCpu = () => 'cpu memory pids';
    // cgroup v1, as on this project's machines: the cpu hierarchy's root, or a group of it
    expect(inCpuRoot('8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n', noCpu)).toBe(true);
    expect(inCpuRoot('4:memory:/\n1:cpu,cpuacct:/system.slice/qms.service\n', noCpu)).toBe(false);
    // cgroup v2 alone (systemd): a service's cgroup is its own task group only with the cpu controller on
    expect(inCpuRoot('0::/system.slice/qms.service\n', noCpu)).toBe(true);
    expect(inCpuRoot('0::/system.slice/qms.service\n', withCpu)).toBe(false);
    expect(inCpuRoot('0::/\n', withCpu)).toBe(true);
    expect(inCpuRoot('', noCpu)).toBe(false);
    expect(sessionScheduled(2 ** 22 + 1)).toBe(false); // no such task
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
