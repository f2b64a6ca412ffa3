import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

// Reports held to a share of the time while the queue is busy (README.md, "Pace"). On a machine
// of two cores a report's backend slows the calls even under SCHED_IDLE, by the amount of work
// it does at once (docs/performance.md, section h): a fifth of a core in short slices cost the
// calls' p99 a twelfth of what the whole core did. So while officials are calling, each report
// statement waits its turn and is followed by a rest in proportion to its work, and a long
// summary is cut into short statements (report.service.ts, summaryReport).

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
  /** a monotonic clock (ms) and a wait, for tests */
  clock?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/** A summary's slice of the range aims at this much work while the queue is busy. */
export const SLICE_MS = 20;

/**
 * The reports' statements while the queue is busy: each starts once the rests the statements
 * before it earned are over (a statement's rest is its work × (1 − share) / share, from its
 * end), so that together they work at most `share` of the time. On one connection (the default
 * on two cores) that is one statement, then its rest, then the next; statements of several
 * connections that come together run together, and their rests add up. Never one at a time by a
 * lock: a statement of a report's facts build may wait in PostgreSQL for a lock another report's
 * transaction holds while that one waits for its turn. While the queue is quiet they run as they
 * come.
 * The pool calls `run` around every statement (createDb's `pace`); `measure` tells a piece of
 * work (a summary's slice) how long its own statements worked.
 */
export class ReportPace {
  readonly share: number;
  readonly sliceMs: number;
  /** the rests taken in all (ms): GET /metrics, qms_report_rest_seconds */
  restedMs = 0;
  readonly #busy: () => boolean;
  readonly #clock: () => number;
  readonly #wait: (ms: number) => Promise<unknown>;
  /** when the next statement may start, while busy */
  #nextAt = 0;
  /** the work of the statements run within `measure` (ms) */
  readonly #measured = new AsyncLocalStorage<{ workedMs: number }>();

  constructor(options: PaceOptions) {
    if (!(options.share > 0 && options.share <= 1)) throw new RangeError(`A report's share of the time is in (0, 1]; got ${options.share}`);
    this.share = options.share;
    this.sliceMs = options.sliceMs ?? SLICE_MS;
    this.#busy = options.busy;
    this.#clock = options.clock ?? (() => performance.now());
    this.#wait = options.wait ?? sleep;
  }

  /** whether statements are paced now: the queue is busy and the share below 1 */
  get pacing(): boolean {
    return this.share < 1 && this.#busy();
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.pacing) return this.#timed(work);
    const rest = this.#nextAt - this.#clock();
    if (rest > 0) {
      await this.#wait(rest);
      this.restedMs += rest;
    }
    return this.#timed(work, (worked) => {
      this.#nextAt = Math.max(this.#nextAt, this.#clock() + (worked * (1 - this.share)) / this.share);
    });
  }

  /** `work`, and how long the statements it ran worked (ms; their rests and turns not counted) */
  async measure<T>(work: () => Promise<T>): Promise<{ value: T; workedMs: number }> {
    const measured = { workedMs: 0 };
    const value = await this.#measured.run(measured, work);
    return { value, workedMs: measured.workedMs };
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
