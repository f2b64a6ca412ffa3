import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { isLocalDatabase } from '../src/backend-nice.ts';
import { createDb } from '../src/connection.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// A pool's backends at a lower CPU priority (backend-nice.ts): the reports' pool, so that the
// scheduler gives the cores to the queue's backends first.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

/** A process's nice value (Linux: /proc/<pid>/stat, field 19). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

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

  it('only for a database on this machine', () => {
    expect(t.url).toMatch(/127\.0\.0\.1|localhost/);
    for (const url of [t.url, 'postgres://qms:x@localhost:5432/qms', 'postgres://qms@127.0.0.1/qms', 'postgres://qms@[::1]:5432/qms',
      'postgres://qms@/qms?host=/var/run/postgresql']) expect(isLocalDatabase(url), url).toBe(true);
    for (const url of ['postgres://qms:x@db.internal:5432/qms', 'postgres://qms@10.0.0.5/qms', 'postgres://qms@postgres/qms', 'not a url']) {
      expect(isLocalDatabase(url), url).toBe(false);
    }
  });
});
