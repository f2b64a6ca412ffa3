import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

/** Rejects when `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true or `ms` pass; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, every = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(every);
  }
  return check();
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await work(items[i]!, i);
    }
  });
  await Promise.all(runners);
  return results;
}

/**
 * Calls `tick` at a steady rate (open loop: a slow operation does not slow the schedule) for
 * `durationMs`, never more than `maxInFlight` at once (ticks over the limit are counted as shed).
 */
export async function steady(options: {
  ratePerSecond: number;
  durationMs: number;
  maxInFlight: number;
  tick: (index: number) => Promise<void>;
}): Promise<{ started: number; shed: number; failed: number }> {
  const interval = 1000 / options.ratePerSecond;
  const total = Math.floor((options.durationMs / 1000) * options.ratePerSecond);
  const begin = now();
  let inFlight = 0;
  let shed = 0;
  let failed = 0;
  let started = 0;
  const running = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = begin + i * interval;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    if (inFlight >= options.maxInFlight) {
      shed++;
      continue;
    }
    inFlight++;
    started++;
    const p = options.tick(i).catch(() => {
      failed++;
    }).finally(() => {
      inFlight--;
      running.delete(p);
    });
    running.add(p);
  }
  await Promise.all(running);
  return { started, shed, failed };
}

export function parseArgs(argv: string[]): Map<string, string | true> {
  const args = new Map<string, string | true>();
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (match) args.set(match[1]!, match[2] ?? true);
  }
  return args;
}

export const fmt = (value: number, digits = 1) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : String(value);
