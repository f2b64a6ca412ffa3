import { availableParallelism } from 'node:os';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, PoolBusyError, poolUse } from '@qms/db';
import { buildApp, createReportDb, type App } from '../../src/app.ts';
import { loadConfig, type ReportPoolConfig } from '../../src/config.ts';
import { REPORT_BACKEND_NICE } from '../../src/reports/report-db.ts';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { eventually } from '../support/eventually.ts';
import { niceOf, policyOf, SCHED_IDLE, sessionNiceOf } from '@qms/db/testing';
import { IDLE_SESSION_NICE, sessionScheduled } from '@qms/db';
import { TestClock } from '../support/queue-fixture.ts';

// Reports run on their own small pool (app.ts createReportDb): a year's report never holds a
// connection a call needs, a report past its statement time answers 503 REPORT_TIMED_OUT, and
// report requests finding every report connection taken wait in a bounded queue or get 503
// REPORTS_BUSY with Retry-After. All against a real PostgreSQL, over real report routes.

const clock = new TestClock('2026-11-24T02:00:00Z'); // 09:00 in Ho Chi Minh City, a Tuesday
const REPORTS: ReportPoolConfig = { connections: 2, statementTimeoutMs: 1_500, lockTimeoutMs: 5_000, queue: 1, queueWaitMs: 20_000, thread: true, schedIdle: true, busyShare: 1 };
const YEAR = { from: '2025-01-01T00:00:00+07:00', to: '2026-01-01T00:00:00+07:00' };
const HISTORY = 30_000;
const qs = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;

let f: ApiFixture;
let app: App;
let base: string;

const get = (url: string, token = f.tokens.manager) => app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(token) });
const post = (url: string, token: string, payload: object = {}) => app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
const MONTH = { from: '2025-06-01T00:00:00+07:00', to: '2025-07-01T00:00:00+07:00' };
const summaryUrl = (range = YEAR) => `/sites/${f.siteId}/reports/summary${qs({ ...range, groupBy: 'day' })}`;

/** The report pool's backends as PostgreSQL sees them (application_name qms-reports). */
const reportBackends = async () => (await sql<{ state: string | null; queryStart: Date | null }>`
  SELECT state, query_start FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'qms-reports'`.execute(f.t.db)).rows;


beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  await f.app.close();
  // the app as main.ts builds it: the database's address given, so the reports get their own
  // thread and pool (reports/thread/)
  app = await buildApp({ db: f.t.db, databaseUrl: f.t.url, serveUi: false, clock: clock.now, config: { rateLimits: false, reports: REPORTS } });
  base = await listenLocally(app);
  // a year of done tickets at the site (2025), enough for an export of many pages (1000 a page)
  const services = Object.values(f.services);
  await sql`
    INSERT INTO ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status,
      issued_at, queued_at, called_at, started_at, finished_at, counter_id, staff_id)
    SELECT 'iso' || g, ${f.siteId}, s.id, s.id, (t.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, g, s.prefix || lpad((g % 1000)::text, 3, '0'), 'done',
      t.at, t.at, t.at + interval '5 minutes', t.at + interval '6 minutes', t.at + interval '12 minutes', ${f.counters[1]!}, ${f.userIds.canbo1!}
    FROM generate_series(1, ${HISTORY}) g
    JOIN LATERAL (SELECT (${services}::uuid[])[1 + g % ${services.length}] AS sid) pick ON true
    JOIN service s ON s.id = pick.sid
    CROSS JOIN LATERAL (SELECT ${YEAR.from}::timestamptz + ((g - 1) * (interval '360 days' / ${HISTORY})) AS at) t`.execute(f.t.db);
  await sql`
    INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, at)
    SELECT id, site_id, 'issued', NULL, 'waiting', service_id, NULL, NULL, issued_at FROM ticket WHERE public_id LIKE 'iso%'
    UNION ALL SELECT id, site_id, 'called', 'waiting', 'called', service_id, counter_id, staff_id, called_at FROM ticket WHERE public_id LIKE 'iso%'
    UNION ALL SELECT id, site_id, 'finished', 'serving', 'done', service_id, counter_id, staff_id, finished_at FROM ticket WHERE public_id LIKE 'iso%'`.execute(f.t.db);
  await sql`ANALYZE`.execute(f.t.db);
  expect((await post(`/counters/${f.counters[1]}/open`, f.tokens.staff)).statusCode).toBe(200);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await f?.t.drop();
});

/** A kiosk issues, the counter calls and finishes: the queue's own work, which must not wait for reports. */
async function issueAndCall() {
  const issued = await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT! });
  expect(issued.statusCode).toBe(201);
  const called = await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
  expect(called.statusCode).toBe(200);
  expect(called.json().ticket.id).toBe(issued.json().ticket.id);
  expect((await post(`/tickets/${issued.json().ticket.id}/finish`, f.tokens.staff)).statusCode).toBe(200);
}

describe('the reports\' own pool', () => {
  it('is apart from the queue\'s, its size and timeouts from the configuration', async () => {
    // the pool the report thread opens (reports/report-db.ts), and the report facts' builder's
    const db = createReportDb(f.t.url, { reports: REPORTS });
    try {
      const settings = sql<{ statement: string; lock: string; name: string; workers: string }>`
        SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock, current_setting('application_name') AS name,
          current_setting('max_parallel_workers_per_gather') AS workers`;
      // a report takes one core at most per connection: no parallel workers
      expect((await settings.execute(db)).rows[0]).toEqual({ statement: '1500ms', lock: '5s', name: 'qms-reports', workers: '0' });
      // and its backend yields that core to the queue's: nice 10, and SCHED_IDLE (set by `chrt`, a
      // moment after the connection opened), or where the kernel weighs tasks by session, its
      // session at nice 19 (db/src/backend-nice.ts)
      const { rows: [backend] } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      expect(niceOf(`/proc/${backend!.pid}/stat`)).toBe(REPORT_BACKEND_NICE);
      if (sessionScheduled(backend!.pid)) {
        await eventually('the report backend\'s session at nice 19', () => sessionNiceOf(backend!.pid) === IDLE_SESSION_NICE);
        expect(policyOf(`/proc/${backend!.pid}/stat`)).toBe(0);
      } else {
        await eventually('the report backend under SCHED_IDLE', () => policyOf(`/proc/${backend!.pid}/stat`) === SCHED_IDLE);
      }
      expect(app.reportDb).not.toBe(f.t.db);
      expect((await settings.execute(app.reportDb)).rows[0]).toEqual({ statement: '1500ms', lock: '5s', name: 'qms-report-facts', workers: '0' });
      // the facts builder's backend, which writes, only niced: a lock it holds is never left
      // waiting for an idle core
      const { rows: [builder] } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(app.reportDb);
      expect(niceOf(`/proc/${builder!.pid}/stat`)).toBe(REPORT_BACKEND_NICE);
      await new Promise((r) => setTimeout(r, 200));
      expect(policyOf(`/proc/${builder!.pid}/stat`)).toBe(0);
      if (sessionScheduled(builder!.pid)) expect(sessionNiceOf(builder!.pid)).toBe(REPORT_BACKEND_NICE);
      // the queue's connections have no time limit
      const main = await sql<{ statement: string }>`SELECT current_setting('statement_timeout') AS statement`.execute(f.t.db);
      expect(main.rows[0]!.statement).toBe('0');
      // three sleeps through the pool: two connections open, the third waits for one
      const sleeps = [1, 2, 3].map(() => sql`SELECT pg_sleep(0.4)`.execute(db));
      await eventually('two report backends busy and one query waiting', async () => poolUse(db)?.waiting === 1
        && (await reportBackends()).filter((b) => b.state === 'active').length === 2);
      expect(poolUse(db)?.total).toBe(2);
      await Promise.all(sleeps);
    } finally {
      await db.destroy();
    }
  });

  it('is documented: every report route may answer 503 (OpenAPI)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const reportPaths = Object.keys(doc.paths).filter((p) => p.includes('/reports/'));
    expect(reportPaths.length).toBeGreaterThan(10);
    for (const p of reportPaths) expect(doc.paths[p]!.get!.responses['503'], p).toBeDefined();
  });

  it('reads its settings from the environment, and refuses nonsense', () => {
    // half the cores, at least one
    expect(loadConfig({}).reports).toEqual({
      connections: Math.max(1, Math.floor(availableParallelism() / 2)), statementTimeoutMs: 30_000, lockTimeoutMs: 5_000, queue: 10, queueWaitMs: 10_000, thread: true, schedIdle: true, busyShare: 1,
    });
    expect(loadConfig({
      QMS_REPORT_CONNECTIONS: '3', QMS_REPORT_TIMEOUT_MS: '60000', QMS_REPORT_LOCK_TIMEOUT_MS: '2000', QMS_REPORT_QUEUE: '0', QMS_REPORT_QUEUE_WAIT_MS: '500',
      QMS_REPORT_THREAD: '0', QMS_REPORT_SCHED_IDLE: 'off', QMS_REPORT_BUSY_SHARE: '0.5',
    }).reports).toEqual({ connections: 3, statementTimeoutMs: 60_000, lockTimeoutMs: 2_000, queue: 0, queueWaitMs: 500, thread: false, schedIdle: false, busyShare: 0.5 });
    expect(() => loadConfig({ QMS_REPORT_CONNECTIONS: '0' })).toThrow(/QMS_REPORT_CONNECTIONS/);
    expect(() => loadConfig({ QMS_REPORT_TIMEOUT_MS: 'soon' })).toThrow(/QMS_REPORT_TIMEOUT_MS/);
    for (const nonsense of ['0', '1.5', 'a fifth']) expect(() => loadConfig({ QMS_REPORT_BUSY_SHARE: nonsense })).toThrow(/QMS_REPORT_BUSY_SHARE/);
  });
});

describe('a report past its time', () => {
  it('answers 503 REPORT_TIMED_OUT (statement timeout), and the queue works on', async () => {
    // A long transaction holds the tickets: the report's statement waits for their lock past
    // the statement timeout (1.5 s; the lock timeout, 5 s, is longer)
    const locker = createDb(f.t.url, { max: 1 });
    try {
      const locked = locker.transaction().execute(async (trx) => {
        await sql`LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE`.execute(trx);
        await new Promise((r) => setTimeout(r, 2_500));
      });
      await new Promise((r) => setTimeout(r, 100));
      const res = await get(summaryUrl());
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('REPORT_TIMED_OUT');
      await locked;
    } finally {
      await locker.destroy();
    }
    await issueAndCall();
    // and the reports: a month's, well within the statement timeout however loaded the machine
    // (a year's took over 1.5 s beside Chromium tests on a slow host)
    expect((await get(summaryUrl(MONTH))).statusCode).toBe(200);
  });

  it('cancels a report statement waiting past the lock timeout', async () => {
    const db = createReportDb(f.t.url, { reports: { ...REPORTS, lockTimeoutMs: 300, statementTimeoutMs: 60_000 } });
    const locker = createDb(f.t.url, { max: 1 });
    try {
      const locked = locker.transaction().execute(async (trx) => {
        await sql`LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE`.execute(trx);
        await new Promise((r) => setTimeout(r, 1_500));
      });
      await new Promise((r) => setTimeout(r, 100));
      const error = await sql`SELECT count(*) FROM ticket`.execute(db).catch((e: unknown) => e);
      // lock_not_available: the report routes answer it as REPORT_TIMED_OUT (http/report-refusal.ts)
      expect((error as { code?: string }).code).toBe('55P03');
      await locked;
    } finally {
      await db.destroy();
      await locker.destroy();
    }
  });
});

describe('every report connection taken', () => {
  it('leaves issuing and calling unhindered; one report waits, the next is refused with Retry-After', async () => {
    const reports = app.services.reports;
    // both report connections of the report thread held, by two reports waiting for the report
    // facts' lock (1.2 s: less than their statement timeout), which the queue never takes
    const locker = createDb(f.t.url, { max: 1 });
    let held = true;
    let taken = () => {};
    const lockTaken = new Promise<void>((r) => { taken = r; });
    const locked = locker.transaction().execute(async (trx) => {
      await sql`LOCK TABLE report_day IN ACCESS EXCLUSIVE MODE`.execute(trx);
      taken();
      await new Promise((r) => setTimeout(r, 1_200));
      held = false;
    });
    try {
      await lockTaken;
      const holding = [get(summaryUrl()), get(summaryUrl())];
      await eventually('both report connections taken', async () => {
        const use = await reports.poolUse();
        return use?.total === 2 && use.idle === 0;
      });
      // (the pool counts a connection still being opened: PostgreSQL shows it once it is)
      await eventually('two report backends', async () => (await reportBackends()).length === 2);

      // the queue's work completes while the report pool is saturated
      await issueAndCall();
      await issueAndCall();
      expect(held).toBe(true);

      // one report request waits for a connection (the queue holds one) ...
      const waiting = get(summaryUrl());
      await eventually('a report waiting for a connection', async () => (await reports.poolUse())?.waiting === 1);
      // ... the next is refused at once, with a hint when to come back
      const refused = await get(`/sites/${f.siteId}/reports/tickets.csv${qs(YEAR)}`);
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('REPORTS_BUSY');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(held).toBe(true);

      await locked;
      for (const res of [...(await Promise.all(holding)), await waiting]) {
        expect(res.statusCode).toBe(200);
        expect(res.json().totals.issued).toBe(HISTORY);
      }
    } finally {
      await locked.catch(() => undefined);
      await locker.destroy();
    }
  });

  it('refuses a report that waited for a connection past the queue\'s wait', async () => {
    const db = createReportDb(f.t.url, { reports: { ...REPORTS, connections: 1, queueWaitMs: 200 } });
    try {
      const hold = sql`SELECT pg_sleep(1)`.execute(db);
      await eventually('the connection taken', () => poolUse(db)?.idle === 0 && poolUse(db)?.total === 1);
      const error = await sql`SELECT 1`.execute(db).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoolBusyError);
      await hold;
      expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.destroy();
    }
  });
});

describe('an export the client leaves', () => {
  it('stops reading pages and frees its report connection', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/sites/${f.siteId}/reports/tickets.csv${qs(YEAR)}`, { headers: bearer(f.tokens.manager), signal: controller.signal });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-total-rows'))).toBe(HISTORY);
    const reader = res.body!.getReader();
    let bytes = 0;
    while (bytes < 1) bytes += (await reader.read()).value?.length ?? 0;
    controller.abort();
    // every report connection back in the pool, none in a query, and no page read after that
    // but the one the report thread was gathering when the client left (its next chunk)
    const last = async () => Math.max(0, ...(await reportBackends()).map((b) => b.queryStart?.getTime() ?? 0));
    let seen = -1;
    await eventually('the report pool idle, and no page read for 300 ms', async () => {
      const use = await app.services.reports.poolUse();
      const idle = use?.idle === use?.total && use?.waiting === 0 && (await reportBackends()).every((b) => b.state === 'idle');
      const [before, now] = [seen, (seen = await last())];
      if (!idle || now !== before) {
        await new Promise((r) => setTimeout(r, 300));
        return false;
      }
      return true;
    });
    const settled = await last();
    await new Promise((r) => setTimeout(r, 600));
    expect(await last()).toBe(settled);
    // had it gone on, it would have read all the pages: the whole file is several MB
    const whole = await fetch(`${base}/api/v1/sites/${f.siteId}/reports/tickets.csv${qs(YEAR)}`, { headers: bearer(f.tokens.manager) });
    const text = await whole.text();
    expect(text.split('\r\n').length - 2).toBe(HISTORY);
  });
});
