import { readdirSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@qms/db';
import { buildApp, createReportDb, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { REPORT_THREAD_NICE, ReportWorker } from '../../src/reports/thread/report-worker.ts';
import { apiFixture, bearer, listenLocally, type ApiFixture } from '../support/api-fixture.ts';
import { eventually } from '../support/eventually.ts';
import { niceOf, policyOf, SCHED_IDLE } from '@qms/db/testing';
import { TestClock, type SiteFixture } from '../support/queue-fixture.ts';
import { seededRandom, twoSiteHistory } from '../reports/history.generator.ts';

// Reports and exports on a thread of their own (server/src/reports/thread/): the same answers,
// byte for byte, as on the main thread; the main thread's clock; errors that cross as the routes
// expect them; a thread that dies is started again; one left idle stops, and so does the app's.

const clock = new TestClock('2026-11-24T02:00:00Z'); // 09:00 in Hồ Chí Minh City
const START = new Date('2026-11-16T17:00:00Z'); // 17 November, 00:00 there
const RANGE = { from: '2026-11-17T00:00:00+07:00', to: '2026-11-25T00:00:00+07:00' };
const qs = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;

let f: ApiFixture;
let threaded: App;
let onMain: App;
let mainDb: Db;
let a: SiteFixture;
let b: SiteFixture;

const get = (app: App, url: string) => app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(f.tokens.admin) });
const worker = (app: App) => app.services.reports as ReportWorker;
/** The thread itself, to stop it as a crash would. */
const threadOf = (reports: ReportWorker) => (reports as unknown as { worker?: Worker }).worker;

/** This process's threads at the report thread's nice value; a thread that ends between the listing and the read is not one. */
const nicedThreadIds = () => readdirSync('/proc/self/task').filter((tid) => {
  try {
    return niceOf(`/proc/self/task/${tid}/stat`) === REPORT_THREAD_NICE;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
});
const nicedThreads = () => nicedThreadIds().length;

const reportBackends = async () => (await sql<{ state: string | null }>`
  SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'qms-reports'`.execute(f.t.db)).rows;


beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  await f.app.close();
  ({ a, b } = await twoSiteHistory(f.t.db, seededRandom(20), { tickets: 1_500, start: START, days: 8 }));
  // the reports on the main thread, on a report pool of their own as the thread's (no parallel
  // workers, whose sums come in another order), and on the report thread
  const config = { rateLimits: false } as const;
  mainDb = createReportDb(f.t.url, loadConfig({}));
  onMain = await buildApp({ db: f.t.db, reportDb: mainDb, serveUi: false, clock: clock.now, config });
  // the thread's reports paced while the queue is busy (QMS_REPORT_BUSY_SHARE=0.2; off by default)
  threaded = await buildApp({
    db: f.t.db, databaseUrl: f.t.url, serveUi: false, clock: clock.now, config: { ...config, reports: { ...loadConfig({}).reports, busyShare: 0.2 } },
  });
  // both apps' day-end runners have ended the history's open days before anything is compared
  for (const app of [onMain, threaded]) {
    await app.ready();
    await app.dayEnd.sweep();
  }
}, 120_000);
afterAll(async () => {
  await threaded?.close();
  await onMain?.close();
  await mainDb?.destroy();
  await f?.t.drop();
});

describe('the report thread', () => {
  it('gives every report and file the main thread gives, byte for byte', async () => {
    expect(threaded.services.reports).toBeInstanceOf(ReportWorker);
    expect(onMain.services.reports).not.toBeInstanceOf(ReportWorker);
    expect(worker(threaded).running).toBe(false); // started by the first report
    const period = { period: 'month', year: '2026', month: '11' };
    const urls = [
      ...['service', 'counter', 'staff', 'day', 'hour', 'procedure'].flatMap((groupBy) => [
        `/reports/summary${qs({ ...RANGE, groupBy })}`,
        `/sites/${b.siteId}/reports/summary${qs({ ...RANGE, groupBy })}`,
      ]),
      `/reports/summary.csv${qs({ ...RANGE, groupBy: 'day' })}`,
      `/sites/${a.siteId}/reports/summary.xlsx${qs({ ...RANGE, groupBy: 'staff', lang: 'en' })}`,
      `/reports/tickets.csv${qs(RANGE)}`,
      `/sites/${a.siteId}/reports/tickets.xlsx${qs(RANGE)}`,
      `/reports/audit.csv${qs(RANGE)}`,
      `/reports/arrivals${qs(RANGE)}`,
      `/sites/${a.siteId}/reports/satisfaction${qs({ ...RANGE, groupBy: 'procedure' })}`,
      `/sites/${a.siteId}/reports/satisfaction.csv${qs(period)}`,
      `/sites/${b.siteId}/reports/satisfaction.xlsx${qs(period)}`,
      `/sites/${a.siteId}/reports/dossiers${qs(RANGE)}`,
      `/sites/${a.siteId}/reports/bookings${qs(RANGE)}`,
      `/sites/${a.siteId}/reports/bookings.csv${qs(RANGE)}`,
    ];
    for (const url of urls) {
      const [main, thread] = [await get(onMain, url), await get(threaded, url)];
      expect(thread.statusCode, url).toBe(200);
      expect(main.statusCode, url).toBe(200);
      for (const header of ['content-type', 'content-disposition', 'x-total-rows']) expect(thread.headers[header], `${url} ${header}`).toBe(main.headers[header]);
      expect(thread.rawPayload.equals(main.rawPayload), url).toBe(true);
    }
    // not an empty history: the tickets file holds them all
    const tickets = await get(threaded, `/reports/tickets.csv${qs(RANGE)}`);
    expect(Number(tickets.headers['x-total-rows'])).toBeGreaterThan(1_000);
    expect(worker(threaded).running).toBe(true);
  });

  it('runs its reports at a lower priority than the event loop\'s, on its own connections', async () => {
    expect((await get(threaded, `/reports/summary${qs(RANGE)}`)).statusCode).toBe(200);
    // one thread of this process is the report thread, niced and under SCHED_IDLE; the main thread is not
    expect(nicedThreads()).toBe(1);
    const [thread] = nicedThreadIds();
    await eventually('the report thread under SCHED_IDLE', () => policyOf(`/proc/self/task/${thread}/stat`) === SCHED_IDLE);
    expect(niceOf(`/proc/self/task/${process.pid}/stat`)).toBe(0);
    expect(policyOf(`/proc/self/task/${process.pid}/stat`)).toBe(0);
    expect((await reportBackends()).length).toBeGreaterThan(0);
    const metrics = await threaded.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/qms_db_pool_connections\{pool="reports",state="total"\} [1-9]/);
  });

  it('rests while the queue is busy (a ticket just issued), gives the same figures, and says so on /metrics', async () => {
    const rested = async () => {
      const body = (await threaded.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/^qms_report_rest_seconds (\S+)$/m.exec(body)?.[1]);
    };
    expect((await get(threaded, `/reports/summary${qs(RANGE)}`)).statusCode).toBe(200); // the thread runs
    const before = await rested();
    expect(before).toBeGreaterThanOrEqual(0);
    const issued = await threaded.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: bearer(f.tokens.kiosk), payload: { serviceId: f.services.HT },
    });
    expect(issued.statusCode).toBe(201);
    // at once, while the queue is busy: a fifth of the time (QMS_REPORT_BUSY_SHARE=0.2),
    // the summary in slices with rests between, the tickets' pages too
    const url = `/reports/summary${qs({ ...RANGE, groupBy: 'counter' })}`;
    const paced = await get(threaded, url);
    const csv = await get(threaded, `/reports/tickets.csv${qs(RANGE)}`);
    expect(csv.statusCode).toBe(200);
    expect(await rested()).toBeGreaterThan(before);
    expect(paced.json()).toEqual((await get(onMain, url)).json());
    expect(csv.body).toBe((await get(onMain, `/reports/tickets.csv${qs(RANGE)}`)).body);
  });

  it('keeps a paced report\'s silent connection open past the server\'s idle timeout', async () => {
    // a server that drops silent connections after 400 ms, whose reports work a twentieth of the
    // time while the queue is busy: a summary then rests for seconds before its first byte
    const slow = await buildApp({
      db: f.t.db, databaseUrl: f.t.url, serveUi: false, clock: clock.now,
      config: { rateLimits: false, idleTimeoutMs: 400, reports: { ...loadConfig({}).reports, busyShare: 0.05 } },
    });
    try {
      const url = await listenLocally(slow);
      const issued = await slow.inject({
        method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: bearer(f.tokens.kiosk), payload: { serviceId: f.services.HT },
      });
      expect(issued.statusCode).toBe(201);
      const started = Date.now();
      const res = await fetch(`${url}/api/v1/reports/summary${qs({ ...RANGE, groupBy: 'staff' })}`, { headers: bearer(f.tokens.admin) });
      expect(res.status).toBe(200);
      const body = await res.json() as { totals: { issued: number } };
      expect(body.totals.issued).toBeGreaterThan(1_000);
      // it was silent for longer than the idle timeout (else the test shows nothing)
      expect(Date.now() - started).toBeGreaterThan(400);
    } finally {
      await slow.close();
    }
  });

  it('reckons on the main thread\'s clock: a day after the clock\'s today is not a closed day', async () => {
    // The clock at noon of 20 November: the 19th is over, the 21st has not begun. The machine's
    // today is later: a thread on its clock would take the 21st (whose open tickets the day-end
    // runner ended) for a closed day and build its facts.
    clock.set('2026-11-20T05:00:00Z');
    try {
      const built = (day: string) => sql<{ days: number }>`
        SELECT count(*)::int AS days FROM report_day WHERE site_id = ${a.siteId} AND local_date = ${day}`.execute(f.t.db);
      await sql`DELETE FROM report_day`.execute(f.t.db);
      expect((await get(threaded, `/sites/${a.siteId}/reports/summary${qs(RANGE)}`)).statusCode).toBe(200);
      expect((await built('2026-11-19')).rows[0]!.days).toBe(1);
      expect((await built('2026-11-21')).rows[0]!.days).toBe(0);
    } finally {
      clock.set('2026-11-24T02:30:00Z');
    }
  });

  it('answers refusals as the routes expect them', async () => {
    const backwards = await get(threaded, `/sites/${a.siteId}/reports/summary${qs({ from: RANGE.to, to: RANGE.from })}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.code).toBe('INVALID_RANGE');
    const unknown = await get(threaded, `/sites/00000000-0000-4000-8000-000000000000/reports/summary${qs(RANGE)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SITE_NOT_FOUND');
    const period = await get(threaded, `/sites/${a.siteId}/reports/satisfaction.csv${qs({ period: 'quarter', year: '2026', month: '11' })}`);
    expect(period.statusCode).toBe(400);
    expect(period.json().error.code).toBe('INVALID_PERIOD');
  });

  it('is started again after it dies: the reports it was answering get 503 UNAVAILABLE, the next its answer', async () => {
    const reports = worker(threaded);
    expect((await get(threaded, `/reports/summary${qs(RANGE)}`)).statusCode).toBe(200);
    const first = threadOf(reports)!;
    // a report waiting for the report facts' lock when the thread dies
    const locker = createDb(f.t.url, { max: 1 });
    try {
      let release = () => {};
      const released = new Promise<void>((r) => { release = r; });
      let taken = () => {};
      const lockTaken = new Promise<void>((r) => { taken = r; });
      const locked = locker.transaction().execute(async (trx) => {
        await sql`LOCK TABLE report_day IN ACCESS EXCLUSIVE MODE`.execute(trx);
        taken();
        await released;
      });
      await lockTaken;
      const waiting = get(threaded, `/reports/summary${qs(RANGE)}`);
      await eventually('the report waiting for the lock', async () => (await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'qms-reports' AND wait_event_type = 'Lock'`.execute(f.t.db)).rows[0]!.n === 1);
      await first.terminate();
      const refused = await waiting;
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('UNAVAILABLE');
      release();
      await locked;
    } finally {
      await locker.destroy();
    }
    const again = await get(threaded, `/reports/summary${qs(RANGE)}`);
    expect(again.statusCode).toBe(200);
    expect(threadOf(reports)).not.toBe(first);
    expect(reports.running).toBe(true);
  });

  it('ends a download half-way when it dies, never as if complete', async () => {
    const base = await listenLocally(threaded);
    const reports = worker(threaded);
    const res = await fetch(`${base}/api/v1/reports/tickets.csv${qs(RANGE)}`, { headers: bearer(f.tokens.admin) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await threadOf(reports)!.terminate();
    const rest = async () => {
      for (;;) if ((await reader.read()).done) return 'complete';
    };
    await expect(rest()).rejects.toThrow();
  });

  it('never ends a file as if complete when its thread died between two chunks', async () => {
    const reports = new ReportWorker({ databaseUrl: f.t.url, reports: loadConfig({}).reports, nice: REPORT_THREAD_NICE }, clock.now, console);
    try {
      const file = await reports.ticketsFile({ siteId: null, siteIds: null }, RANGE, 'csv');
      const body = (file.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      expect((await body.next()).done).toBe(false);
      await threadOf(reports)!.terminate();
      await eventually('the thread gone', () => !reports.running);
      // the next chunk is asked of no thread, or of a new one that never had this file
      await expect(body.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      // and reports go on, on a new thread
      expect((await reports.arrivals({ siteId: a.siteId, siteIds: null }, RANGE)).cells.length).toBeGreaterThan(0);
    } finally {
      await reports.close();
    }
  });

  it('stops when left idle, not while a file is being read, and when closed', async () => {
    const config = loadConfig({});
    const reports = new ReportWorker({ databaseUrl: f.t.url, reports: config.reports, nice: REPORT_THREAD_NICE }, clock.now, console, 300);
    try {
      const scope = { siteId: a.siteId, siteIds: null };
      const others = nicedThreads(); // the app's report thread
      expect((await reports.summary(scope, RANGE)).report.totals.issued).toBeGreaterThan(0);
      expect(reports.running).toBe(true);
      expect(nicedThreads()).toBe(others + 1);
      // the metrics' scrapes of its pool neither keep it nor wake it
      await eventually('the thread stopped, idle, while its pool is scraped', async () => {
        await reports.poolUse();
        return !reports.running;
      });
      expect(await reports.poolUse()).toBeUndefined();
      expect(reports.running).toBe(false);
      await eventually('its thread gone', () => nicedThreads() === others);

      // a file being read keeps it
      const file = await reports.ticketsFile(scope, RANGE, 'csv');
      const body = (file.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const head = await body.next();
      expect(head.value!.toString('utf8')).toContain('\r\n');
      await new Promise((r) => setTimeout(r, 700));
      expect(reports.running).toBe(true);
      let lines = head.value!.toString('utf8').split('\r\n').length - 1;
      for (let next = await body.next(); !next.done; next = await body.next()) lines += next.value.toString('utf8').split('\r\n').length - 1;
      expect(lines).toBe(file.totalRows + 1); // the header, then every ticket
      await eventually('the thread stopped after the file', () => !reports.running);

      // the next report starts it again; closing stops it and its connections
      expect((await reports.arrivals(scope, RANGE)).cells.length).toBeGreaterThan(0);
      await reports.close();
      expect(reports.running).toBe(false);
      await expect(reports.summary(scope, RANGE)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await reports.close();
    }
  });
});
