import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

// Reports held to a share of the time while the queue is busy (README.md, "Pace"). On a machine
// of two cores a report's backend slows the calls even under SCHED_IDLE, by the amount of work
// it does at once (docs/performance.md, section h): a fifth of a core in short slices cost the
// calls' p99 a twelfth of what the whole core did. So while officials are calling, each report
// statement earns a rest in proportion to its work, waited out before the next connection is
// taken, and a long summary is cut into short statements (report.service.ts, summaryReport).

/** The queue is busy for this long after its last committed event. */
export const BUSY_WINDOW_MS = 5_000;

/**
 * When the queue last committed an event (an issue, a call, a finish...): the main thread notes
 * it, the report thread reads it, in memory both share (no message per event).
 */
export class QueueActivity {
  readonly buffer: SharedArrayBuffer;
  readonly #at: Float64Array;

  constructor(buffer = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#at = new Float64Array(buffer);
  }

  note(at = Date.now()): void {
    this.#at[0] = at;
  }

  /** an event was committed in the last BUSY_WINDOW_MS */
  busy(at = Date.now()): boolean {
    return at - this.#at[0]! < BUSY_WINDOW_MS;
  }
}

export interface PaceOptions {
  /** the share of the time the reports' statements may take while the queue is busy, (0, 1]; 1: no pace */
  share: number;
  busy: () => boolean;
  /** a summary's slice aims at this much work (ms) */
  sliceMs?: number;
  /** a report rests this long at most (ms), then goes on without rests */
  restBudgetMs?: number;
  /** a monotonic clock (ms) and a wait, for tests */
  clock?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/** A summary's slice of the range aims at this much work while the queue is busy. */
export const SLICE_MS = 20;

/**
 * A report rests for this long at most (from its start, its waits for a connection included):
 * then it goes on without rests. At the peak, five managers pulling year-long reports on one
 * connection at a fifth of the time take minutes each; a report answers before nginx gives up on
 * it (proxy_read_timeout of the report routes, 600 s, deploy/nginx/qms.conf) with room for its
 * last part. The report routes lift the server's own timeout for silent connections
 * (QMS_IDLE_TIMEOUT_MS) while they work (routes/report.routes.ts). Not so short that it would
 * spend itself waiting behind the other managers' reports: then their statements run unpaced,
 * which is what the pace is for (docs/performance.md, section h).
 */
export const REST_BUDGET_MS = 4 * 60_000;

/**
 * The reports' statements while the queue is busy: each statement's work earns a rest (its work
 * × (1 − share) / share, from its end), and the next connection is taken once the rests earned
 * before are over, so that together they work at most `share` of the time. On one connection
 * (the default on two cores) that is a transaction (a summary's slice) or a lone statement (an
 * export's page), its rest, the next. Those of several connections that come together run
 * together, and their rests add up: never one at a time by a lock, which a facts build's
 * statement waiting in PostgreSQL for another report's transaction could hold. While the queue
 * is quiet they run as they come.
 * The pool calls `ready` before it takes a connection and `run` around every statement
 * (createDb's `pace`); `measure` tells a piece of work (a summary's slice) how long its own
 * statements worked.
 */
export class ReportPace {
  readonly share: number;
  readonly sliceMs: number;
  readonly restBudgetMs: number;
  /** the rests taken in all (ms): GET /metrics, qms_report_rest_seconds */
  restedMs = 0;
  readonly #busy: () => boolean;
  readonly #clock: () => number;
  readonly #wait: (ms: number) => Promise<unknown>;
  /** when the next statement may start, while busy */
  #nextAt = 0;
  /** the work of the statements run within `measure` and their rests (ms), and until when they may rest */
  readonly #measured = new AsyncLocalStorage<{ workedMs: number; restedMs: number; restsUntil: number }>();

  constructor(options: PaceOptions) {
    if (!(options.share > 0 && options.share <= 1)) throw new RangeError(`A report's share of the time is in (0, 1]; got ${options.share}`);
    this.share = options.share;
    this.sliceMs = options.sliceMs ?? SLICE_MS;
    this.restBudgetMs = options.restBudgetMs ?? REST_BUDGET_MS;
    this.#busy = options.busy;
    this.#clock = options.clock ?? (() => performance.now());
    this.#wait = options.wait ?? sleep;
  }

  /** whether statements are paced now: the queue is busy and the share below 1 */
  get pacing(): boolean {
    return this.share < 1 && this.#busy();
  }

  /** whether a statement run here now would rest: paced, and within its report's budget (`budgeted`) */
  get resting(): boolean {
    return this.pacing && this.#clock() < (this.#measured.getStore()?.restsUntil ?? Infinity);
  }

  /**
   * Waits out the rests earned so far, while the queue is busy: the pool calls it before it
   * takes a connection (a transaction's or a lone statement's), so a report rests holding no
   * connection and no snapshot, and the statements of a transaction (a summary's slice) run
   * one after the other. A report past its budget does not wait.
   */
  async ready(): Promise<void> {
    if (!this.pacing) return;
    const rest = this.#nextAt - this.#clock();
    const measured = this.#measured.getStore();
    if (rest <= 0 || this.#clock() >= (measured?.restsUntil ?? Infinity)) return;
    await this.#wait(rest);
    this.restedMs += rest;
    if (measured) measured.restedMs += rest;
  }

  /** A statement, timed: while the queue is busy its work earns the rest the next one waits out (`ready`). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.pacing) return this.#timed(work);
    return this.#timed(work, (worked) => this.#earn(worked));
  }

  /** a rest for `worked` ms of work, from now */
  #earn(worked: number): void {
    this.#nextAt = Math.max(this.#nextAt, this.#clock() + (worked * (1 - this.share)) / this.share);
  }

  /**
   * `work` as one report: its statements rest for restBudgetMs from its start at most, or until
   * the report it is part of stops resting.
   */
  async budgeted<T>(work: () => Promise<T>): Promise<T> {
    const restsUntil = this.#measured.getStore()?.restsUntil ?? this.#clock() + this.restBudgetMs;
    return (await this.measure(work, restsUntil)).value;
  }

  /**
   * `work`, and how long the statements it ran worked (ms; their rests not counted). Its
   * statements rest until `restsUntil` (the pace's clock) at most: by default the report's
   * it is part of (`budgeted`), if any.
   */
  async measure<T>(work: () => Promise<T>, restsUntil = this.#measured.getStore()?.restsUntil ?? Infinity): Promise<{ value: T; workedMs: number }> {
    const measured = { workedMs: 0, restedMs: 0, restsUntil };
    const value = await this.#measured.run(measured, work);
    return { value, workedMs: measured.workedMs };
  }

  /**
   * `work` whose own JavaScript (a file's chunk gathered and formatted on the report thread:
   * everything but its statements and their rests) earns a rest as a statement's work does,
   * taken before the next statement.
   */
  async withOwnWork<T>(work: () => Promise<T>): Promise<T> {
    const started = this.#clock();
    const measured = { workedMs: 0, restedMs: 0, restsUntil: this.#measured.getStore()?.restsUntil ?? Infinity };
    const value = await this.#measured.run(measured, work);
    const own = this.#clock() - started - measured.workedMs - measured.restedMs;
    if (own > 0 && this.pacing) this.#earn(own);
    return value;
  }

  async #timed<T>(work: () => Promise<T>, after?: (worked: number) => void): Promise<T> {
    const started = this.#clock();
    try {
      return await work();
    } finally {
      const worked = this.#clock() - started;
      const measured = this.#measured.getStore();
      if (measured) measured.workedMs += worked;
      after?.(worked);
    }
  }
}

/**
 * `target` with each of its methods `names` run as one report: the statements of a call rest for
 * the pace's restBudgetMs at most, from the call's start (the report thread's Reports, or the
 * main thread's when the reports run there).
 */
export function withRestBudget<T extends object, K extends keyof T>(target: T, names: readonly K[], pace: ReportPace): Pick<T, K> {
  const budgeted = {} as Pick<T, K>;
  for (const name of names) {
    const method = target[name] as (...args: unknown[]) => Promise<unknown>;
    (budgeted as Record<K, unknown>)[name] = (...args: unknown[]) => pace.budgeted(() => method.apply(target, args));
  }
  return budgeted;
}
