import { createDb, type Db } from '@qms/db';
import type { Config } from '../config.ts';
import { ReportPace, type QueueActivity } from './pace.ts';

/** The nice value of the reports' PostgreSQL backends (when the database is on this machine and the server may renice them). */
export const REPORT_BACKEND_NICE = 10;

/**
 * The reports' own pool: a few connections, so that five managers pulling year-long reports
 * take at most these from PostgreSQL (and as many cores: no parallel workers) and never one of
 * the queue's; each statement limited in time (a report past it answers 503 REPORT_TIMED_OUT),
 * and a bounded queue in front (past it, 503 REPORTS_BUSY with Retry-After) instead of requests
 * piling up behind long reports. The report thread (thread/report-thread.ts) opens it for
 * itself; the app opens one for the report facts' builder, and for the reports when they run
 * on the main thread.
 */
export function createReportDb(url: string, config: Pick<Config, 'reports'>, use: 'reports' | 'facts' = 'reports', pace?: ReportPace): Db {
  const r = config.reports;
  return createDb(url, {
    max: r.connections, applicationName: use === 'reports' ? 'qms-reports' : 'qms-report-facts',
    statementTimeoutMs: r.statementTimeoutMs, lockTimeoutMs: r.lockTimeoutMs, queueLimit: r.queue, waitMs: r.queueWaitMs,
    // a report runs rarely and over ranges of any length: planned for its own parameters each
    // time, never with a generic plan kept from an earlier range
    prepare: false,
    // one core per report connection at most: parallel workers would take the cores the calls need
    parallelWorkers: 0,
    // and that core yielded to the queue's backends when they want it (a database on this machine):
    // a report's at once (SCHED_IDLE); the facts builder's, which writes, only by its nice value
    backendNice: REPORT_BACKEND_NICE,
    backendIdle: use === 'reports' && r.schedIdle,
    // and, while the queue is busy, its statements held to a share of the time (pace.ts)
    ...(pace ? { pace } : {}),
  });
}

/** The reports' pace over the queue's activity, from the configuration (QMS_REPORT_BUSY_SHARE). */
export function reportPace(config: Pick<Config, 'reports'>, activity: QueueActivity): ReportPace {
  return new ReportPace({ share: config.reports.busyShare, busy: () => activity.busy() });
}
