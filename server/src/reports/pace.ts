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

  /** an event was committed in the last BUSY_WINDOW_MS (not busy for hours should the clock go back) */
  busy(at = Date.now()): boolean {
    const since = at - this.#at[0]!;
    return since >= 0 && since < BUSY_WINDOW_MS;
  }
}

interface Measured {
  workedMs: number;
  restedMs: number;
  restsUntil: number;
}

const NOTHING = () => undefined;

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
 * A report rests for this long at most (from its start, its turns behind other reports included):
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
 * × (1 − share) / share), and one paced connection is out at a time, the next taken once it is
 * back and the rests its statements earned are over, so that together they work at most `share`
 * of the time: a transaction (a summary's slice) or a lone statement (an export's page), its
 * rest, the next. Only the taking of a connection waits, never a statement on one: a statement
 * waiting in PostgreSQL for another transaction's lock waits for one that goes on. While the
 * queue is quiet they run as they come.
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
  /** when the next connection may be taken, while busy */
  #nextAt = 0;
  /** a paced connection is out: the next waits for it to come back, then for its rests */
  #out = false;
  /** the waiters to wake when it comes back */
  #back: (() => void)[] = [];
  /** the rests its statements earned, from when it comes back */
  #owed = 0;
  /** the work of the statements run within `measure` and their rests (ms), and until when they may rest */
  readonly #measured = new AsyncLocalStorage<Measured>();

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
   * Called by the pool before it takes a connection (a transaction's or a lone statement's);
   * the function it answers with, when the connection goes back. While the queue is busy one
   * paced connection is out at a time: the next is taken once it is back and the rests its
   * statements earned are over. So a report rests holding no connection and no snapshot, the
   * statements of a transaction (a summary's slice) run one after the other, and reports that
   * come together take their turns. A report past its budget does not wait (its waits are cut
   * at the budget's end), nor does any while the queue is quiet.
   */
  async ready(): Promise<() => void> {
    const measured = this.#measured.getStore();
    const until = measured?.restsUntil ?? Infinity;
    const started = this.#clock();
    for (;;) {
      const now = this.#clock();
      if (!this.pacing || now >= until) return this.#rested(started, measured, NOTHING);
      const rest = this.#nextAt - now;
      if (this.#out) {
        const back = new Promise<void>((resolve) => this.#back.push(resolve));
        await (until === Infinity ? back : Promise.race([back, this.#wait(until - now)]));
      } else if (rest > 0) {
        await this.#wait(Math.min(rest, until - now));
      } else {
        break;
      }
    }
    this.#out = true;
    let back = false;
    return this.#rested(started, measured, () => {
      if (back) return;
      back = true;
      this.#out = false;
      this.#nextAt = Math.max(this.#nextAt, this.#clock()) + this.#owed;
      this.#owed = 0;
      for (const wake of this.#back.splice(0)) wake();
    });
  }

  /** the time since `started` counted as rested (in all, and for the piece measured) */
  #rested<T>(started: number, measured: Measured | undefined, value: T): T {
    const waited = this.#clock() - started;
    this.restedMs += waited;
    if (measured) measured.restedMs += waited;
    return value;
  }

  /** A statement, timed: while the queue is busy its work earns the rest the next one waits out (`ready`). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.pacing) return this.#timed(work);
    return this.#timed(work, (worked) => this.#earn(worked));
  }

  /** a rest for `worked` ms of work: from when the paced connection out comes back, else after the rests already earned */
  #earn(worked: number): void {
    const rest = (worked * (1 - this.share)) / this.share;
    if (this.#out) this.#owed += rest;
    else this.#nextAt = Math.max(this.#nextAt, this.#clock()) + rest;
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
  async measure<T>(work: () => Promise<T>, restsUntil = this.#measured.getStore()?.restsUntil ?? Infinity): Promise<{ value: T } & Omit<Measured, 'restsUntil'>> {
    const measured = { workedMs: 0, restedMs: 0, restsUntil };
    const value = await this.#measured.run(measured, work);
    return { value, workedMs: measured.workedMs, restedMs: measured.restedMs };
  }

  /**
   * `work` whose own JavaScript (a file's chunk gathered and formatted on the report thread:
   * everything but its statements and their rests) earns a rest as a statement's work does,
   * taken before the next statement.
   */
  async withOwnWork<T>(work: () => Promise<T>): Promise<T> {
    const started = this.#clock();
    const { value, workedMs, restedMs } = await this.measure(work);
    const own = this.#clock() - started - workedMs - restedMs;
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
 * main thread's when the reports run there). Without a pace, `target` itself.
 */
export function withRestBudget<T extends object, K extends keyof T>(target: T, names: readonly K[], pace: ReportPace | undefined): Pick<T, K> {
  if (!pace) return target;
  const budgeted = {} as Pick<T, K>;
  for (const name of names) {
    const method = target[name] as (...args: unknown[]) => Promise<unknown>;
    (budgeted as Record<K, unknown>)[name] = (...args: unknown[]) => pace.budgeted(() => method.apply(target, args));
  }
  return budgeted;
}
