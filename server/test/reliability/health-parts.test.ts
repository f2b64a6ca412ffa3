import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool, migrateToLatest, startEmbeddedPostgres, type Db, type EmbeddedPostgresHandle } from '@qms/db';
import { buildApp, type App } from '../../src/app.ts';
import { listenLocally } from '../support/api-fixture.ts';
import { until } from './support.ts';
import type { Pool } from 'pg';

// GET /api/health names the part that is down. A cluster of its own, stopped and started
// again under a server that runs the socket adapter (as with QMS_CLUSTER): the database and
// the adapter are down (503), the day end fails, and all of it comes back without a restart.

let dir: string;
let pg: EmbeddedPostgresHandle | undefined;
let db: Db;
let clusterPool: Pool;
let app: App;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qms-health-parts-'));
  await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
  pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true, database: 'qms' });
  db = createDb(pg.url, { max: 4 });
  await migrateToLatest(db);
  clusterPool = createPool(pg.url, { max: 2 });
  // the timed day end stays out of the way: the test runs its sweeps itself
  app = await buildApp({ db, clusterPool, serveUi: false, dayEndCheckMs: 3_600_000, config: { rateLimits: false } });
  base = await listenLocally(app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await clusterPool?.end();
  await db?.destroy();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

const health = async () => {
  const res = await fetch(`${base}/api/health`);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
};
const refused = (port: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect(port, '127.0.0.1');
  socket.once('connect', () => {
    socket.destroy();
    resolve(false);
  });
  socket.once('error', () => resolve(true));
});

describe('GET /api/health with PostgreSQL stopped and started again', () => {
  it('names the database, the socket adapter and the day end while it is down, and is ok again after', async () => {
    expect(await until(async () => (await health()).status === 200, 10_000)).toBe(true);
    expect((await health()).body).toMatchObject({ status: 'ok', db: 'ok', socketAdapter: 'ok', dayEnd: 'ok' });
    expect((await health()).body).not.toHaveProperty('down');

    const port = pg!.port;
    await pg!.stop();
    expect(await until(() => refused(port), 20_000, 50)).toBe(true);
    await expect(app.dayEnd.sweep()).rejects.toThrow();
    let down = await health();
    expect(await until(async () => (down = await health()).body.socketAdapter === 'down', 10_000)).toBe(true);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'degraded', db: 'unreachable', socketAdapter: 'down', dayEnd: 'failing' });
    expect(down.body.down).toMatch(/^database: unreachable; socket adapter: /);

    pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port, fast: true, database: 'qms' });
    // the adapter reconnects by itself (every 1 to 3 s); the day end is ok after a sweep that works
    expect(await until(async () => (await health()).status === 200, 15_000)).toBe(true);
    expect((await health()).body).toMatchObject({ status: 'ok', db: 'ok', socketAdapter: 'ok', dayEnd: 'failing' });
    // the adapter holds its new LISTEN connection, and no longer the dead one
    const held = () => clusterPool.totalCount - clusterPool.idleCount;
    await until(() => held() === 1, 3_000);
    expect(held()).toBe(1);
    // and /metrics shows the adapter's pool beside the app's
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^qms_db_pool_connections\{pool="socket_adapter",state="total"\} [1-9]/m);
    expect(metrics).toMatch(/^qms_db_pool_connections\{pool="app",state="total"\} [1-9]/m);
    await app.dayEnd.sweep();
    expect((await health()).body).toMatchObject({ status: 'ok', dayEnd: 'ok' });
  }, 60_000);
});
