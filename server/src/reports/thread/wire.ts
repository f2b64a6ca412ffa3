import { PoolBusyError } from '@qms/db';
import type { ErrorCode, ErrorDetails } from '@qms/protocol';
import type { ReportPoolConfig } from '../../config.ts';
import { QueueError } from '../../queue/queue.errors.ts';
import type { Reports } from '../reports.ts';

// What the main thread and the report thread (report-thread.ts) say to each other over the
// worker's port. Each request carries an id its reply repeats. A file's body stays in the
// thread: the main thread pulls it a chunk at a time (`next`), the chunk's bytes transferred,
// not copied, and lets it go (`return`) when the client leaves.

/** What the report thread is started with (workerData). */
export interface ReportThreadInit {
  databaseUrl: string;
  reports: ReportPoolConfig;
  /** the thread's nice value (Linux: per thread): its JavaScript yields the cores to the queue's */
  nice: number;
  /** the queue's last event (pace.ts QueueActivity's buffer, shared): the reports' pace while it is busy */
  activity?: SharedArrayBuffer;
}

/** The methods of Reports the thread answers; the file methods' bodies stay in the thread. */
export const REPORT_METHODS = [
  'siteScope', 'summary', 'summaryFile', 'ticketsFile', 'auditFile', 'satisfaction', 'dossiers',
  'satisfactionFile', 'bookings', 'bookingsFile', 'arrivals', 'poolUse',
] as const satisfies readonly (keyof Reports)[];
export type ReportMethod = (typeof REPORT_METHODS)[number];

export type Request =
  /** a method of Reports, on the main thread's clock (`now`, ISO) */
  | { id: number; op: 'call'; method: ReportMethod; args: unknown[]; now: string }
  /** the next chunk of a file's body */
  | { id: number; op: 'next'; stream: number }
  /** the file's body is no longer wanted: its query ends, its connection goes back */
  | { id: number; op: 'return'; stream: number }
  /** close the pool and stop */
  | { id: number; op: 'close' };

/** A file as the thread answers it: its body is the stream of that id. */
export interface RemoteFile {
  fileName: string;
  totalRows: number;
  contentType: string;
  stream: number;
}

export type Reply =
  | { id: number; ok: true; value: unknown }
  /** a chunk of a body (bytes), or its end (null) */
  | { id: number; ok: true; chunk: Uint8Array<ArrayBuffer> | null }
  | { id: number; ok: false; error: WireError };

/** An error as it crosses: what http/report-refusal.ts and http/errors.ts read of it survives. */
export type WireError =
  | { kind: 'queue'; code: ErrorCode; message: string; status: QueueError['status']; details?: ErrorDetails }
  | { kind: 'busy'; waitMs: number }
  | { kind: 'error'; message: string; code?: string; stack?: string };

export function toWire(error: unknown): WireError {
  if (error instanceof QueueError) {
    return { kind: 'queue', code: error.code, message: error.message, status: error.status, ...(error.details ? { details: error.details } : {}) };
  }
  if (error instanceof PoolBusyError) return { kind: 'busy', waitMs: error.waitMs };
  const e = error as { message?: unknown; code?: unknown; stack?: unknown } | null;
  return {
    kind: 'error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  };
}

export function fromWire(error: WireError): Error {
  if (error.kind === 'queue') return new QueueError(error.code, error.message, error.status, error.details);
  if (error.kind === 'busy') return new PoolBusyError(error.waitMs);
  const revived = Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
  if (error.stack) revived.stack = `${error.stack}\n    (in the report thread)`;
  return revived;
}
