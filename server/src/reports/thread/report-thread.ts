import { AsyncLocalStorage } from 'node:async_hooks';
import { setPriority } from 'node:os';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { schedIdle, threadTaskId } from '@qms/db';
import { AuditService } from '../../audit/audit.service.ts';
import { createReportDb, reportPace } from '../report-db.ts';
import { QueueActivity, withRestBudget } from '../pace.ts';
import { Reports, type ReportFile } from '../reports.ts';
import { REPORT_METHODS, toWire, type RemoteFile, type ReportMethod, type ReportThreadInit, type Reply, type Request } from './wire.ts';

// The report thread (README.md, "The report thread"): the manager's reports and exports run
// here, on their own pool, so that parsing a year's rows, its percentiles and the formatting of
// its CSV and XLSX, and the garbage all of that leaves, never hold up the event loop that calls
// tickets. The main thread (report-worker.ts) sends the calls and pulls files a chunk at a time.

/** A chunk of a file: the records gathered until about this many bytes, then sent as one. */
const CHUNK_BYTES = 64 * 1024;
/** A file nobody pulled for this long is let go (its client is gone and no `return` came). */
const ABANDONED_MS = 5 * 60_000;

interface Body {
  records: AsyncIterator<string | Buffer>;
  /** the next chunk, gathered while the main thread writes the last one */
  ahead: Promise<Uint8Array<ArrayBuffer> | null> | undefined;
  pulledAt: number;
}

export function serveReports(port: MessagePort, init: ReportThreadInit): void {
  const pace = init.activity ? reportPace(init, new QueueActivity(init.activity)) : undefined;
  const db = createReportDb(init.databaseUrl, { reports: init.reports }, 'reports', pace);
  // each call on the main thread's clock (tests and benchmarks set it)
  const clock = new AsyncLocalStorage<Date>();
  const now = () => clock.getStore() ?? new Date();
  // each call's statements rest for a while at most (pace.ts REST_BUDGET_MS)
  const reports: Pick<Reports, ReportMethod> = withRestBudget(new Reports(db, new AuditService(db, now), now, pace), REPORT_METHODS, pace);
  const bodies = new Map<number, Body>();

  const reply = (message: Reply) => port.postMessage(message, 'chunk' in message && message.chunk ? [message.chunk.buffer] : []);

  // a chunk's formatting rests as its statements do, while the queue is busy (pace.ts)
  const paced = (records: AsyncIterator<string | Buffer>) => (pace ? pace.withOwnWork(() => gather(records)) : gather(records));

  const letGo = (id: number) => {
    const body = bodies.get(id);
    if (!body) return;
    bodies.delete(id);
    // after the chunk being gathered, if any: an async generator takes return() in turn
    void (body.ahead ?? Promise.resolve()).catch(() => undefined).then(() => body.records.return?.()).catch(() => undefined);
  };
  const sweep = setInterval(() => {
    for (const [id, body] of bodies) if (Date.now() - body.pulledAt > ABANDONED_MS) letGo(id);
  }, 60_000);
  sweep.unref();

  async function answer(request: Request): Promise<void> {
    switch (request.op) {
      case 'call': {
        const method = reports[request.method] as (...args: unknown[]) => Promise<unknown>;
        const value = await clock.run(new Date(request.now), () => method.apply(reports, request.args));
        if (!isFile(value)) return reply({ id: request.id, ok: true, value });
        const { body, ...file } = value;
        bodies.set(request.id, { records: records(body), ahead: undefined, pulledAt: Date.now() });
        return reply({ id: request.id, ok: true, value: { ...file, stream: request.id } satisfies RemoteFile });
      }
      case 'next': {
        const body = bodies.get(request.stream);
        // never an end: a file whose body is gone was not sent whole
        if (!body) throw new Error(`No file ${request.stream} is being sent (let go, or never begun)`);
        body.pulledAt = Date.now();
        let chunk: Uint8Array<ArrayBuffer> | null;
        try {
          chunk = await (body.ahead ?? paced(body.records));
        } catch (error) {
          letGo(request.stream);
          throw error;
        }
        if (chunk === null) {
          bodies.delete(request.stream);
        } else {
          body.ahead = paced(body.records);
          body.ahead.catch(() => undefined); // its failure is the next pull's answer
        }
        return reply({ id: request.id, ok: true, chunk });
      }
      case 'return':
        letGo(request.stream);
        return reply({ id: request.id, ok: true, value: null });
      case 'close':
        clearInterval(sweep);
        for (const id of [...bodies.keys()]) letGo(id);
        await db.destroy();
        reply({ id: request.id, ok: true, value: null });
        port.close();
    }
  }

  port.on('message', (request: Request) => {
    answer(request).catch((error: unknown) => reply({ id: request.id, ok: false, error: toWire(error) }));
  });
}

function isFile(value: unknown): value is ReportFile {
  return typeof value === 'object' && value !== null && 'body' in value && 'fileName' in value;
}

/** A body's records, whether it is a generator of pages or a list of strings. */
async function* records(body: ReportFile['body']): AsyncGenerator<string | Buffer> {
  yield* body;
}

/** The next records, about CHUNK_BYTES of them, as bytes of their own (to transfer); null at the end. */
async function gather(records: AsyncIterator<string | Buffer>): Promise<Uint8Array<ArrayBuffer> | null> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < CHUNK_BYTES) {
    const next = await records.next();
    if (next.done) break;
    const part = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    parts.push(part);
    size += part.length;
  }
  if (!parts.length) return null;
  // not Buffer.concat: a small one may sit in Node's shared pool, which cannot be transferred
  const chunk = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    chunk.set(part, at);
    at += part.length;
  }
  return chunk;
}

if (!isMainThread && parentPort && (workerData as { qmsReportThread?: ReportThreadInit } | null)?.qmsReportThread) {
  const init = (workerData as { qmsReportThread: ReportThreadInit }).qmsReportThread;
  // Linux keeps a nice value and a policy per thread: this one's JavaScript yields to the event
  // loop's, at once under SCHED_IDLE (where `chrt` runs), else by its nice value
  try {
    setPriority(0, init.nice);
  } catch {
    // not allowed here: the thread runs at the process's priority
  }
  const tid = init.reports.schedIdle ? threadTaskId() : undefined;
  if (tid) void schedIdle(tid);
  serveReports(parentPort, init);
}
