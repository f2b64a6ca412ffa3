import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { PoolBusyError } from '@qms/db';
import { QueueError } from '../queue/queue.errors.ts';

// What a report's failure on the reports' own pool (app.ts createReportDb) means to the caller.
// PostgreSQL cancels a statement past statement_timeout with 57014 and one past lock_timeout
// with 55P03; the pool refuses a query when its queue is full (PoolBusyError).

const STATEMENT_TIMEOUT = /statement timeout/i;

/** The 503 a report's timeout or a full report pool answers; any other error unchanged. */
export function reportRefusal(error: Error, reply: FastifyReply, log: FastifyBaseLogger): Error {
  if (error instanceof PoolBusyError) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.waitMs / 1000))));
    return new QueueError('REPORTS_BUSY', 'Every report connection is in use and others are waiting: try again shortly', 503);
  }
  const pgCode = (error as { code?: string }).code;
  if ((pgCode === '57014' && STATEMENT_TIMEOUT.test(error.message)) || pgCode === '55P03') {
    log.warn({ pgCode }, 'a report ran past its time (QMS_REPORT_TIMEOUT_MS, QMS_REPORT_LOCK_TIMEOUT_MS) and was cancelled');
    return new QueueError('REPORT_TIMED_OUT', 'The report took longer than the server allows: choose a shorter range, or try again when fewer reports run', 503);
  }
  return error;
}
