import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { QueueError } from '../../queue/queue.errors.ts';
import type { ReportFile, Reports } from '../reports.ts';
import { fromWire, type RemoteFile, type ReportMethod, type ReportThreadInit, type Reply, type Request } from './wire.ts';

// The main thread's side of the report thread (report-thread.ts): the same methods as Reports,
// each a message to the thread; a file's body is pulled from it a chunk at a time, as the
// client reads. The thread starts with the first report and stops after IDLE_MS without one
// (a server whose managers read no reports carries no second heap); one that dies is started
// again by the next report, and the reports it was answering get 503 UNAVAILABLE.

/** What the routes use of the reports: Reports itself, or this thread in front of it. */
export type ReportsApi = { [K in ReportMethod]: Reports[K] };

/** The report thread's nice value: under load, its JavaScript gets a tenth of a core a call's would. */
export const REPORT_THREAD_NICE = 10;

/** The report thread stops after this long without a report or a file being read. */
export const IDLE_MS = 5 * 60_000;

// the build (scripts/build.mjs) bundles report-thread.ts as dist/report-thread.mjs
declare const QMS_BUILT: boolean | undefined;

/** The thread's entry: the bundled one in production (this code may sit in dist/chunks/), else the sources through tsx. */
function threadEntry(): URL {
  if (typeof QMS_BUILT !== 'undefined') {
    const built = ['./report-thread.mjs', '../report-thread.mjs'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u));
    if (built) return built;
  }
  return new URL('./report-thread.dev.mjs', import.meta.url);
}

interface Pending {
  resolve: (reply: Reply & { ok: true }) => void;
  reject: (error: Error) => void;
  /** the thread asked: when it stops, what it had not answered fails */
  worker: Worker;
  /** a question about the thread (its pool's use), not a report: it neither keeps the thread nor wakes it */
  quiet: boolean;
}

/** A scrape waits this long at most for the thread's pool figures. */
const POOL_USE_WAIT_MS = 1_000;

export class ReportWorker implements ReportsApi {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;
  /** files whose bodies are still being read (their streams): the thread stays while any is */
  private readonly openBodies = new Set<number>();
  private closed = false;
  /** the thread being stopped (idle or closing), until it has ended */
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly init: ReportThreadInit,
    private readonly now: () => Date,
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'error'>,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Whether the thread runs now (tests, GET /metrics: a scrape never starts it). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  siteScope = (...args: Parameters<Reports['siteScope']>) => this.call('siteScope', args) as ReturnType<Reports['siteScope']>;
  summary = (...args: Parameters<Reports['summary']>) => this.call('summary', args) as ReturnType<Reports['summary']>;
  satisfaction = (...args: Parameters<Reports['satisfaction']>) => this.call('satisfaction', args) as ReturnType<Reports['satisfaction']>;
  dossiers = (...args: Parameters<Reports['dossiers']>) => this.call('dossiers', args) as ReturnType<Reports['dossiers']>;
  bookings = (...args: Parameters<Reports['bookings']>) => this.call('bookings', args) as ReturnType<Reports['bookings']>;
  arrivals = (...args: Parameters<Reports['arrivals']>) => this.call('arrivals', args) as ReturnType<Reports['arrivals']>;
  summaryFile = (...args: Parameters<Reports['summaryFile']>) => this.file('summaryFile', args);
  ticketsFile = (...args: Parameters<Reports['ticketsFile']>) => this.file('ticketsFile', args);
  auditFile = (...args: Parameters<Reports['auditFile']>) => this.file('auditFile', args);
  satisfactionFile = (...args: Parameters<Reports['satisfactionFile']>) => this.file('satisfactionFile', args);
  bookingsFile = (...args: Parameters<Reports['bookingsFile']>) => this.file('bookingsFile', args);

  /**
   * The thread's pool use; undefined while no thread runs or when it does not answer within a
   * second. A scrape (GET /metrics, every 15 s) neither starts the thread nor keeps it from its
   * idle stop.
   */
  poolUse = async (): ReturnType<Reports['poolUse']> => {
    if (!this.worker) return undefined;
    let late: NodeJS.Timeout | undefined;
    const asked = (this.call('poolUse', [], true) as ReturnType<Reports['poolUse']>).catch(() => undefined);
    const unanswered = new Promise<undefined>((resolve) => { late = setTimeout(() => resolve(undefined), POOL_USE_WAIT_MS); });
    return Promise.race([asked, unanswered]).finally(() => clearTimeout(late));
  };

  /** Stops the thread: its pool closed, its files let go. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    await this.stopping;
  }

  private async call(method: ReportMethod, args: unknown[], quiet = false): Promise<unknown> {
    const reply = await this.request({ op: 'call', method, args, now: this.now().toISOString() }, quiet);
    return 'value' in reply ? reply.value : undefined;
  }

  private async file(method: ReportMethod, args: unknown[]): Promise<ReportFile> {
    const remote = (await this.call(method, args)) as RemoteFile;
    const { stream, ...file } = remote;
    return { ...file, body: this.body(stream) };
  }

  /**
   * A body read from the thread: each next() one chunk (the thread gathers the one after it
   * meanwhile); return() or throw(), which a destroyed stream calls, lets the thread's go.
   */
  private body(stream: number): AsyncIterableIterator<Buffer> {
    // the thread that holds it: another (started after this one died) does not have it
    const owner = this.worker;
    this.openBodies.add(stream);
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      this.openBodies.delete(stream);
      this.touch();
    };
    const letGo = async (): Promise<IteratorResult<Buffer>> => {
      if (open && owner && this.worker === owner) this.request({ op: 'return', stream }).catch(() => undefined);
      end();
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<Buffer> = {
      next: async () => {
        if (!open) return { done: true, value: undefined };
        try {
          if (this.worker !== owner) throw new QueueError('UNAVAILABLE', 'The reports stopped while sending this file: download it again', 503);
          const reply = await this.request({ op: 'next', stream });
          const chunk = 'chunk' in reply ? reply.chunk : null;
          if (chunk === null) {
            end();
            return { done: true, value: undefined };
          }
          return { done: false, value: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) };
        } catch (error) {
          end();
          throw error;
        }
      },
      return: letGo,
      throw: letGo,
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  private request(
    message: Omit<Extract<Request, { op: 'call' }>, 'id'> | Omit<Extract<Request, { op: 'next' | 'return' }>, 'id'>,
    quiet = false,
  ): Promise<Reply & { ok: true }> {
    if (this.closed) return Promise.reject(new QueueError('UNAVAILABLE', 'The server is stopping', 503));
    const worker = this.thread();
    const id = this.nextId++;
    if (!quiet) clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker, quiet });
      try {
        worker.postMessage({ ...message, id } as Request);
      } catch (error) {
        // not sent (arguments that cannot be cloned): nothing will answer it
        this.pending.delete(id);
        reject(error as Error);
        this.touch();
      }
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(threadEntry(), { workerData: { qmsReportThread: this.init }, name: 'qms-reports' });
    // the process ends when the server does, whatever the thread is doing
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.log.error({ err: error }, 'the report thread failed; the next report starts it again'));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.detach();
      const gone = [...this.pending].filter(([, p]) => p.worker === worker);
      for (const [id] of gone) this.pending.delete(id);
      if (gone.length) this.log.warn({ code, reports: gone.length }, 'the report thread stopped while answering');
      for (const [, p] of gone) p.reject(new QueueError('UNAVAILABLE', 'The reports stopped while answering this one: try again', 503));
    });
    this.worker = worker;
    return worker;
  }

  /** The next report starts a new thread; the files of this one are over. */
  private detach() {
    this.worker = undefined;
    this.openBodies.clear();
    clearTimeout(this.idle);
  }

  private settle(reply: Reply) {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply);
    else pending.reject(fromWire(reply.error));
    if (!pending.quiet) this.touch();
  }

  /** After the last answer and the last body, the thread stops once IDLE_MS pass without another. */
  private touch() {
    clearTimeout(this.idle);
    if (!this.worker || this.openBodies.size || [...this.pending.values()].some((p) => !p.quiet)) return;
    this.idle = setTimeout(() => void this.stop(), this.idleMs);
    this.idle.unref();
  }

  /** The thread closes its pool, then ends; terminated if it has not within a few seconds. */
  private async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    // a report asked from now on starts a new thread
    this.detach();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const id = this.nextId++;
    this.pending.set(id, { resolve: () => undefined, reject: () => undefined, worker, quiet: true });
    worker.postMessage({ op: 'close', id } satisfies Request);
    const late = setTimeout(() => void worker.terminate(), 5_000);
    const ended = exited.then(() => clearTimeout(late));
    // close() waits for this one too, should it come while an idle stop is under way
    this.stopping = Promise.all([this.stopping, ended]).then(() => undefined);
    await ended;
  }
}
