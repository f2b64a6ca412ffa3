import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, credentialsFile, freePort, migrateToLatest, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/index.ts';
import { PostgresProcess } from '../src/postgres-process.ts';

// The embedded PostgreSQL's own passwords: random per cluster, kept beside it with mode 0600;
// the application signs in as a role that is no superuser. A cluster made by an earlier
// version (superuser qms/qms, everything owned by it) is given the same on its next start and
// keeps its data.

const handles: EmbeddedPostgresHandle[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-embedded-'));
  await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
  dirs.push(dir);
  return dir;
}

async function signsIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const withPassword = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
};

describe('embedded PostgreSQL credentials', () => {
  it('a new cluster has random passwords in a 0600 file, and the application is no superuser', async () => {
    const dir = path.join(await folder(), 'pg');
    const handle = await startEmbeddedPostgres({ dir, fast: true });
    handles.push(handle);
    // the old fixed password works for nobody
    expect(await signsIn(withPassword(handle.adminUrl, 'qms', 'qms'))).toBe(false);
    expect(await signsIn(withPassword(handle.url, 'qms', 'qms'))).toBe(false);
    expect(await signsIn(handle.url)).toBe(true);
    expect((await stat(credentialsFile(dir))).mode & 0o777).toBe(0o600);
    expect(new URL(handle.url).username).not.toBe('qms');

    const db = createDb(handle.url, { max: 1 });
    try {
      const role = await sql<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>`
        SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`.execute(db);
      expect(role.rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      // yet it owns its database: the migrations run as it
      await migrateToLatest(db);
      const owner = await sql<{ owner: string }>`SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'ticket'`.execute(db);
      expect(owner.rows[0]!.owner).toBe(new URL(handle.url).username);
      await expect(sql`ALTER ROLE qms PASSWORD 'qms'`.execute(db)).rejects.toThrow(/permission denied|must be superuser|privilege/i);
      await expect(sql`COPY (SELECT 1) TO PROGRAM 'true'`.execute(db)).rejects.toThrow(/permission denied|must be superuser|privilege/i);
    } finally {
      await db.destroy();
    }
  }, 120_000);

  it('a cluster made with qms/qms is given its own passwords on its next start, and keeps its data', async () => {
    const dir = path.join(await folder(), 'pg');
    const port = await freePort();
    // as an earlier version made it: superuser qms/qms, the database and its tables owned by it
    const old = new PostgresProcess({ dir, port, flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'] });
    await old.initialise('qms', 'qms', ['--encoding=UTF8', '--locale=C.UTF-8']);
    await old.start();
    const oldUrl = `postgres://qms:qms@127.0.0.1:${port}`;
    const setup = new pg.Client({ connectionString: `${oldUrl}/postgres` });
    await setup.connect();
    await setup.query('CREATE DATABASE qms');
    await setup.end();
    const oldDb = createDb(`${oldUrl}/qms`, { max: 1 });
    await migrateToLatest(oldDb);
    await oldDb.insertInto('site').values({ code: 'CU', name: 'Trung tâm cũ', timezone: 'Asia/Ho_Chi_Minh', level: 'commune', priorityRatio: null }).execute();
    await oldDb.destroy();
    await old.stop();

    const handle = await startEmbeddedPostgres({ dir, port, fast: true });
    handles.push(handle);
    expect(await signsIn(`${oldUrl}/qms`)).toBe(false);
    expect((await stat(credentialsFile(dir))).mode & 0o777).toBe(0o600);
    const db = createDb(handle.url, { max: 1 });
    try {
      expect((await db.selectFrom('site').select('name').execute()).map((s) => s.name)).toEqual(['Trung tâm cũ']);
      // it owns what the superuser made: it writes, and migrates the next release
      await db.insertInto('site').values({ code: 'MOI', name: 'Trung tâm mới', timezone: 'Asia/Ho_Chi_Minh', level: 'commune', priorityRatio: null }).execute();
      await migrateToLatest(db);
      await sql`CREATE OR REPLACE FUNCTION qms_call_next_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'`.execute(db);
      const notOwned = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND pg_get_userbyid(c.relowner) <> current_user`.execute(db);
      expect(notOwned.rows[0]!.n).toBe(0);
      const role = await sql<{ rolsuper: boolean }>`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`.execute(db);
      expect(role.rows[0]!.rolsuper).toBe(false);
    } finally {
      await db.destroy();
    }
    // and the next start reads the same file
    await handle.stop();
    const again = await startEmbeddedPostgres({ dir, port, fast: true });
    handles.push(again);
    expect(again.url).toBe(handle.url);
    expect(await signsIn(again.url)).toBe(true);
  }, 180_000);
});
