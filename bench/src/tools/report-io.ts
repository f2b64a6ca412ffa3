// What each of reportload's manager requests writes in PostgreSQL, one at a time on a quiet
// database with a year of history (lib/report-history.ts, facts built as the day-end runner
// builds them): WAL (bytes, records, full-page images) and temporary files, and the relations
// whose buffers it left dirty, pulled twice over HTTP from a real server. With --explain=<group>,
// the all-sites year summary in that grouping instead: its statements captured as the server's
// Reports run them, the slowest explained (ANALYZE, BUFFERS) with the transaction's settings.
//
//   npx tsx bench/src/tools/report-io.ts [--tickets=1000000] [--sites=20] [--freeze]
//       [--only=<part of a request's name>] [--explain=day [--set='enable_sort=off' ...]]
//
// --freeze: the history frozen before its checkpoint, as reportload has it since 7 December
// 17:39 (lib/report-history.ts settleYear: a year-old server's history).
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Database } from '@qms/db';
import type { ReportGroupBy } from '@qms/protocol';
import { summaryReport } from '../../../server/src/reports/report.service.ts';
import { seedAdmin } from '../lib/load-setup.ts';
import { managerRequests } from '../lib/managers-child.ts';
import { startBenchPostgres } from '../lib/postgres.ts';
import { startQmsServer } from '../lib/processes.ts';
import { generateReportHistory, REPORT_YEAR, settleYear } from '../lib/report-history.ts';
import { sleep } from '../lib/util.ts';

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const tickets = Number(option('tickets') ?? 1_000_000);
const sites = Number(option('sites') ?? 20);
const only = option('only');
const explain = option('explain') as ReportGroupBy | undefined;
const settings = process.argv.filter((a) => a.startsWith('--set=')).map((a) => a.slice(6));

const year = { from: new Date(`${REPORT_YEAR}-01-01T00:00:00+07:00`), to: new Date(`${REPORT_YEAR + 1}-01-01T00:00:00+07:00`) };
// the history's days are over by then: the reports read them as facts
const after = new Date(`${REPORT_YEAR + 1}-01-02T00:00:00Z`);

const pgh = await startBenchPostgres();
try {
  const url = await pgh.createDatabase('report_io');
  const db = createDb(url, { max: 4 });
  const h = await generateReportHistory(db, { tickets, sites });
  const token = await seedAdmin(db);
  await settleYear(db, h.siteIds, { freeze: process.argv.includes('--freeze') });
  await db.destroy();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_buffercache');
    if (explain) await explainSummary(c, url, explain);
    else await pullEach(c, url, token, h);
  } finally {
    await c.end();
  }
} finally {
  await pgh.stop();
}

/** The summary's statements as Reports runs them; the slowest one explained in a transaction with the same settings (and --set's). */
async function explainSummary(c: pg.Client, url: string, groupBy: ReportGroupBy) {
  const statements: { sql: string; parameters: readonly unknown[]; ms: number }[] = [];
  const kdb = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(url, { max: 2 }) }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
    log: (event) => void statements.push({ sql: event.query.sql, parameters: event.query.parameters, ms: event.queryDurationMillis }),
  });
  try {
    await summaryReport(kdb, { siteId: null, ...year, groupBy, now: after });
  } finally {
    await kdb.destroy();
  }
  const slowest = statements.reduce((a, b) => (b.ms > a.ms ? b : a));
  const sets = [...statements.filter((st) => /^set local/i.test(st.sql)).map((st) => st.sql), ...settings.map((s) => `SET LOCAL ${s}`)];
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const set of sets) await c.query(set);
    const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${slowest.sql}`, slowest.parameters as unknown[]);
    console.log(`summary by ${groupBy}, all sites, a year: its slowest statement took ${slowest.ms.toFixed(0)} ms in Reports; explained after ${sets.join('; ')}`);
    console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  } finally {
    await c.query('ROLLBACK');
  }
}

/** Each manager request twice, one at a time: what it wrote in PostgreSQL. */
async function pullEach(c: pg.Client, url: string, token: string, h: { siteIds: string[]; busiestSiteId: string }) {
  const io = async () => (await c.query<Record<string, string>>(`
    SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS wal, w.wal_fpi AS fpi, w.wal_records AS records,
      (SELECT sum(temp_bytes) FROM pg_stat_database) AS temp, (SELECT sum(temp_files) FROM pg_stat_database) AS files
    FROM pg_stat_wal w`)).rows[0]!;
  const dirty = async () => (await c.query<{ r: string; n: number }>(`
    SELECT c.relname AS r, count(*)::int AS n FROM pg_buffercache b JOIN pg_class c ON b.relfilenode = pg_relation_filenode(c.oid)
    WHERE b.isdirty AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    GROUP BY 1 ORDER BY 2 DESC LIMIT 4`)).rows.map((x) => `${x.r} ${x.n}`).join(', ');
  const server = await startQmsServer({ databaseUrl: url });
  try {
    for (const pass of [1, 2]) {
      for (const r of managerRequests({ history: h, exports: true }).filter((x) => !only || x.kind.includes(only))) {
        const a = await io();
        const t0 = Date.now();
        const res = await fetch(`${server.url}/api/v1${r.path}`, { headers: { authorization: `Bearer ${token}` } });
        const bytes = (await res.arrayBuffer()).byteLength;
        const ms = Date.now() - t0;
        const dirtied = await dirty();
        // the backends report their statistics within a second of a transaction's end
        await sleep(1_200);
        const b = await io();
        const d = (k: string) => Number(b[k]) - Number(a[k]);
        console.log(`pass ${pass} ${r.kind.padEnd(40)} ${res.status} ${String(ms).padStart(6)} ms ${(bytes / 1e6).toFixed(1).padStart(6)} MB | WAL ${(d('wal') / 1e6).toFixed(2).padStart(7)} MB, ${String(d('records')).padStart(7)} records, ${String(d('fpi')).padStart(6)} full pages | temporary files ${(d('temp') / 1e6).toFixed(1).padStart(6)} MB in ${d('files')} | left dirty: ${dirtied || 'none'}`);
      }
    }
  } finally {
    await server.stop();
  }
}
