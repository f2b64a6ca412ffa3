import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';

// Opt-in measurement of the report routes on a busy centre's year:
//   QMS_REPORT_PERF=1 [QMS_EXPORT_PERF_TICKETS=330000] npx vitest run server/test/manage/export.perf
// Generates the tickets with SQL (issued, called, finished events; a rating on every third),
// then downloads the summary and the tickets as CSV and XLSX over HTTP, reading the body as it
// streams, and prints time, size and the growth of the server process's memory while it ran:
// the export must stream (memory flat whatever the range), not build the file in memory.

const TICKETS = Number(process.env.QMS_EXPORT_PERF_TICKETS ?? 330_000);
const FROM = '2026-01-01T00:00:00+07:00';
const TO = '2027-01-01T00:00:00+07:00';

let f: ApiFixture;
let base: string;

describe.runIf(process.env.QMS_REPORT_PERF)(`report routes over ${TICKETS} tickets at one site`, () => {
  beforeAll(async () => {
    f = await apiFixture();
    base = await listenLocally(f.app);
    const started = performance.now();
    const services = Object.values(f.services);
    const staff = f.userIds.canbo1!;
    // one ticket every (year / TICKETS), cycling through the services; waits 1–20 min, service 3–13 min
    await sql`
      INSERT INTO ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status,
        issued_at, queued_at, called_at, started_at, finished_at, counter_id, staff_id, estimated_wait_seconds)
      SELECT 'perf' || g, ${f.siteId}, s.id, s.id, (t.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, g, s.prefix || lpad((g % 1000)::text, 3, '0'), 'done',
        t.at, t.at, t.at + t.wait, t.at + t.wait + interval '20 seconds', t.at + t.wait + t.service, ${f.counters[1]!}, ${staff},
        extract(epoch FROM t.wait) + (g % 300) - 150
      FROM generate_series(1, ${TICKETS}) g
      JOIN LATERAL (SELECT (${services}::uuid[])[1 + g % ${services.length}] AS sid) pick ON true
      JOIN service s ON s.id = pick.sid
      CROSS JOIN LATERAL (SELECT ${FROM}::timestamptz + ((g - 1) * (interval '365 days' / ${TICKETS})) AS at,
        make_interval(secs => 60 + (g::bigint * 7919) % 1140) AS wait, make_interval(secs => 180 + (g::bigint * 104729) % 600) AS service) t`.execute(f.t.db);
    await sql`
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, at)
      SELECT id, site_id, 'issued', NULL, 'waiting', service_id, NULL, NULL, issued_at FROM ticket WHERE public_id LIKE 'perf%'
      UNION ALL SELECT id, site_id, 'called', 'waiting', 'called', service_id, counter_id, staff_id, called_at FROM ticket WHERE public_id LIKE 'perf%'
      UNION ALL SELECT id, site_id, 'finished', 'serving', 'done', service_id, counter_id, staff_id, finished_at FROM ticket WHERE public_id LIKE 'perf%'`.execute(f.t.db);
    await sql`
      INSERT INTO rating (ticket_id, site_id, counter_id, staff_id, score, created_at)
      SELECT id, site_id, counter_id, staff_id, 1 + number % 3, finished_at FROM ticket WHERE public_id LIKE 'perf%' AND number % 3 = 0`.execute(f.t.db);
    await sql`ANALYZE`.execute(f.t.db);
    console.log(`generated ${TICKETS} tickets in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 1_800_000);
  afterAll(async () => {
    await f?.app.close();
    await f?.t.drop();
  });

  /** A garbage collection on demand, so "memory" means what is still referenced. */
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  /**
   * Downloads a URL as a stream. The server runs in this process, so its memory is ours: the
   * live heap (after a collection) is sampled every 200 ms while the body arrives.
   */
  async function measure(label: string, url: string) {
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 200);
    const started = performance.now();
    const res = await fetch(`${base}/api/v1${url}`, { headers: bearer(f.tokens.manager) });
    expect(res.status).toBe(200);
    let bytes = 0;
    let firstByteMs = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!bytes) firstByteMs = performance.now() - started;
      bytes += value.length;
    }
    clearInterval(sampler);
    const ms = performance.now() - started;
    const mb = (n: number) => (n / 1_048_576).toFixed(1);
    console.log(`${label}: ${(ms / 1000).toFixed(1)} s (first byte ${firstByteMs.toFixed(0)} ms), ${mb(bytes)} MB, `
      + `rows ${res.headers.get('x-total-rows')}, live heap +${mb(peak - before)} MB at most`);
    return { bytes, heapGrowth: peak - before, rows: Number(res.headers.get('x-total-rows')) };
  }

  const range = `?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

  it('summary of the year by service and by day', async () => {
    for (const groupBy of ['service', 'day']) {
      const started = performance.now();
      const res = await f.app.inject({ method: 'GET', url: `/api/v1/sites/${f.siteId}/reports/summary${range}&groupBy=${groupBy}`, headers: bearer(f.tokens.manager) });
      expect(res.json().totals.issued).toBe(TICKETS);
      console.log(`summary by ${groupBy}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }, 600_000);

  it('tickets.csv and tickets.xlsx of the year stream with flat memory', async () => {
    const csv = await measure('tickets.csv', `/sites/${f.siteId}/reports/tickets.csv${range}`);
    expect(csv.rows).toBe(TICKETS);
    const xlsx = await measure('tickets.xlsx', `/sites/${f.siteId}/reports/tickets.xlsx${range}`);
    expect(xlsx.rows).toBe(TICKETS);
    // the file never sits in memory: the live heap stays flat (a page of 1000 tickets and
    // zlib's window), whatever the size of the file
    expect(xlsx.heapGrowth).toBeLessThan(32 * 1_048_576);
    expect(csv.heapGrowth).toBeLessThan(32 * 1_048_576);
  }, 1_800_000);
});
