// Where a latency tail comes from: the event-loop delay and the GC pauses of a process, in
// windows of 250 ms, so that a slow call can be matched with what its processes were doing then.
// The same self-contained function runs in the bench process (directly), in the floor server
// (over IPC) and in the queue server (evaluated through its inspector, see profile.ts), so it
// may use nothing from outside its own body. This file imports nothing: the floor stays bare.

export interface LoopSecond {
  /** epoch ms at the end of the window (250 ms) */
  at: number;
  /** longest event-loop delay in it (ms) */
  max: number;
  p99: number;
}
export interface GcPause {
  at: number;
  ms: number;
  kind: number;
}
export interface LoopRecord {
  seconds: LoopSecond[];
  gc: GcPause[];
}

/** Starts recording in this process (idempotent); returns a reader that also resets. */
export function startLoopMonitor(): string {
  const g = globalThis as unknown as { __qmsLoop?: { seconds: unknown[]; gc: unknown[] } };
  if (g.__qmsLoop) return 'already';
  const perf = (process as unknown as { getBuiltinModule(name: string): typeof import('node:perf_hooks') }).getBuiltinModule('node:perf_hooks');
  const record = { seconds: [] as unknown[], gc: [] as unknown[] };
  g.__qmsLoop = record;
  const h = perf.monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  setInterval(() => {
    record.seconds.push({ at: Date.now(), max: h.max / 1e6, p99: h.percentile(99) / 1e6 });
    if (record.seconds.length > 20_000) record.seconds.shift();
    h.reset();
  }, 250).unref();
  new perf.PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      record.gc.push({ at: perf.performance.timeOrigin + e.startTime, ms: e.duration, kind: ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0 });
      if (record.gc.length > 20_000) record.gc.shift();
    }
  }).observe({ entryTypes: ['gc'] });
  return 'started';
}

/** What this process recorded since it started (or since the last take). */
export function takeLoopRecord(): LoopRecord {
  const g = globalThis as unknown as { __qmsLoop?: LoopRecord };
  const r = g.__qmsLoop ?? { seconds: [], gc: [] };
  const out = { seconds: [...r.seconds], gc: [...r.gc] };
  r.seconds.length = 0;
  r.gc.length = 0;
  return out;
}

/** A record cut to [from, to] (epoch ms). */
export function within(r: LoopRecord, from: number, to: number): LoopRecord {
  return { seconds: r.seconds.filter((s) => s.at >= from && s.at - WINDOW <= to), gc: r.gc.filter((p) => p.at >= from && p.at <= to) };
}

const WINDOW = 250;

/** One line: the loop's worst windows and the GC pauses. */
export function describeLoop(name: string, r: LoopRecord): string {
  const maxes = r.seconds.map((s) => s.max).sort((a, b) => b - a);
  const gcTotal = r.gc.reduce((a, p) => a + p.ms, 0);
  const gcMax = r.gc.reduce((a, p) => Math.max(a, p.ms), 0);
  const over = (ms: number) => maxes.filter((m) => m > ms).length;
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  return `${name}: event-loop delay (resolution 5 ms), worst ${fmt(maxes[0] ?? Number.NaN)} ms, median 250-ms window's max ${fmt(maxes[Math.floor(maxes.length / 2)] ?? Number.NaN)} ms, `
    + `${over(20)} of ${maxes.length} windows with a delay over 20 ms (${over(50)} over 50 ms); `
    + `GC ${r.gc.length} pauses, ${fmt(gcTotal)} ms in all, longest ${fmt(gcMax)} ms (${r.gc.filter((p) => p.ms > 10).length} over 10 ms)`
    + (r.gc.length ? ` [${gcKinds(r.gc, fmt)}]` : '');
}

/** The pauses by V8's kind of collection (perf_hooks' constants: minor 1, major 2, incremental 4, weak callbacks 8). */
function gcKinds(gc: GcPause[], fmt: (x: number) => string): string {
  const names: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };
  const by = new Map<string, { n: number; ms: number; over10: number }>();
  for (const p of gc) {
    const name = names[p.kind] ?? `kind ${p.kind}`;
    const k = by.get(name) ?? { n: 0, ms: 0, over10: 0 };
    k.n++;
    k.ms += p.ms;
    if (p.ms > 10) k.over10++;
    by.set(name, k);
  }
  return [...by].map(([name, k]) => `${name} ${k.n}, ${fmt(k.ms)} ms, ${k.over10} over 10 ms`).join('; ');
}

/** The worst delay any of the records saw in [from, to] (a slow call's window). */
export function worstIn(r: LoopRecord, from: number, to: number): { loop: number; gc: number } {
  // a window's record covers the 250 ms before its `at`
  const loop = r.seconds.filter((s) => s.at >= from && s.at - WINDOW <= to).reduce((a, s) => Math.max(a, s.max), 0);
  const gc = r.gc.filter((p) => p.at + p.ms >= from && p.at <= to).reduce((a, p) => a + p.ms, 0);
  return { loop, gc };
}
