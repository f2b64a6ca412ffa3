import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@qms/db';
import pg from 'pg';
import type { LoadSite } from '../lib/load-setup.ts';
import { startChild, waitHealthy, ROOT, type Child } from '../lib/processes.ts';

// The reference server of the end-to-end bench (reference-server.ts): its tables and its tokens.

export interface ReferenceServer extends Child {
  url: string;
}

const PREFIXES = 'ABCDEFGHJK'; // as seedLoad gives them, in the order of the services' codes

/** bench_ref_ticket (a copy of ticket: same columns, same indexes) and bench_ref_sequence (of daily_sequence). */
export async function prepareReferenceTables(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_ref_ticket, bench_ref_sequence');
    await client.query('CREATE TABLE bench_ref_ticket (LIKE ticket INCLUDING ALL)');
    await client.query('CREATE TABLE bench_ref_sequence (LIKE daily_sequence INCLUDING ALL)');
  } finally {
    await client.end();
  }
}

/** The tokens of the load's kiosks, screens and officials, for the reference's in-memory map (a temp file). */
export async function writeReferenceTokens(sites: LoadSite[]): Promise<string> {
  const devices: Record<string, { siteId: string; kind: string; id: string }> = {};
  const staff: Record<string, { id: string; siteIds: string[] }> = {};
  const counters: Record<string, { siteId: string; serviceIds: string[]; number: number }> = {};
  const prefixes: Record<string, string> = {};
  for (const site of sites) {
    for (const d of site.displays) devices[d.token] = { siteId: site.siteId, kind: 'display', id: d.id };
    for (const d of site.kiosks) devices[d.token] = { siteId: site.siteId, kind: 'kiosk', id: d.id };
    for (const d of site.counterDevices) devices[d.token] = { siteId: site.siteId, kind: 'counter', id: d.id };
    for (const c of site.counters) {
      staff[c.staffToken] = { id: c.staffId, siteIds: [site.siteId] };
      counters[c.id] = { siteId: site.siteId, serviceIds: c.serviceIds, number: c.number };
    }
    site.services.forEach((s, i) => (prefixes[s] = PREFIXES[i]!));
  }
  const file = path.join(tmpdir(), `qms-bench-ref-tokens-${process.pid}-${Date.now()}.json`);
  await writeFile(file, JSON.stringify({ devices, staff, counters, prefixes }), { mode: 0o600 });
  return file;
}

export async function startReferenceServer(databaseUrl: string, tokensFile: string, options: { host?: string; wrap?: string[]; nodeArgs?: string[] } = {}): Promise<ReferenceServer> {
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const c = startChild(path.join(ROOT, 'bench/src/floor/reference-server.ts'),
    { DATABASE_URL: databaseUrl, PORT: String(port), HOST: host, QMS_REF_TOKENS: tokensFile }, options.nodeArgs ?? [], [], options.wrap ?? []);
  const url = `http://${host}:${port}`;
  await waitHealthy(url, c, 30_000);
  return { ...c, url };
}
