import { freePort } from '@qms/db';
import pg from 'pg';
import path from 'node:path';
import { startChild, waitHealthy, ROOT, type Child } from '../lib/processes.ts';
import { now } from '../lib/util.ts';

export interface FloorServer extends Child {
  url: string;
}

/** Creates bench_floor_ticket (a copy of ticket: same columns, same indexes) in the database. */
export async function prepareFloorTable(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_floor_ticket');
    await client.query('CREATE TABLE bench_floor_ticket (LIKE ticket INCLUDING ALL)');
    await client.query('DROP SEQUENCE IF EXISTS bench_floor_number');
    await client.query('CREATE SEQUENCE bench_floor_number');
  } finally {
    await client.end();
  }
}

/** Waiting rows for the floor's calls: `perService` in each service of each site. */
export async function fillFloorTable(databaseUrl: string, sites: { siteId: string; services: string[] }[], perService: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const site of sites) {
      await client.query(`
        INSERT INTO bench_floor_ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, issued_at, queued_at)
        SELECT md5(random()::text || x.id::text || x.g), $1, x.id, x.id, current_date, x.n, 'F' || x.n, 'waiting',
               now() - (x.g || ' ms')::interval, now() - (x.g || ' ms')::interval
        -- codes unique within the site, as the live tickets' index wants (the issue route's are too)
        FROM (SELECT s.id, g, nextval('bench_floor_number') AS n FROM unnest($2::uuid[]) AS s(id), generate_series(1, $3) AS g) AS x`,
      [site.siteId, site.services, perService]);
    }
    await client.query('ANALYZE bench_floor_ticket');
  } finally {
    await client.end();
  }
}

export async function startFloorServer(databaseUrl: string, port?: number): Promise<FloorServer & { startMs: number }> {
  const p = port ?? (await freePort());
  const began = now();
  const c = startChild(path.join(ROOT, 'bench/src/floor/floor-server.ts'), { DATABASE_URL: databaseUrl, PORT: String(p) });
  const url = `http://127.0.0.1:${p}`;
  await waitHealthy(url, c, 30_000);
  return { ...c, url, startMs: now() - began };
}
