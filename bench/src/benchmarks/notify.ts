import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import type { Summary } from '../lib/stats.ts';
import { round } from '../lib/stats.ts';
import { latencyBench, type DeliveryFigures, type LatencyRaw } from './latency.ts';

// "Delivering never delays a call": the latency benchmark (latency.ts) twice in one invocation,
// with notifications off (the server's worker off, QMS_NOTIFY_POLL_MS=0) and on (a webhook per
// site to all ticket events, delivered to a receiver on 127.0.0.1 while the calls are timed),
// each run with its own floor measured in turns with it. Every run on a fresh database of the
// same PostgreSQL, same load, no CPU profile. Order: --notify-order=off,on (default); any list,
// e.g. off,on,on,off (a neighbour's load that rises or falls through the runs then weighs on
// both alike).
//
// Compared: call → first display p50/p95/p99, as ratios to each run's floor (geometric mean
// over the runs of a mode), and on ÷ off of those ratios (and of the raw times). Noise: inside
// each run, the same percentile of the first half of the turns against the second half, for
// the system and for its floor (|a/b − 1|), and, with two runs or more of a mode, between those
// runs' ratios; the band is the largest of these spreads. A half has half the samples, so its
// spread is about one standard deviation of the on ÷ off comparison (which combines four
// full-run figures): "within noise" means the difference is no larger than what the same code
// shows against itself. Within a band over ±50% (a busy machine) the verdict is "inconclusive".

type Pct = 'p50' | 'p95' | 'p99';
type Mode = 'on' | 'off';
const PCTS: Pct[] = ['p50', 'p95', 'p99'];
/** a noise band wider than this makes the comparison inconclusive */
const MAX_NOISE = 0.5;

const spread = (h: [Summary, Summary], p: Pct) => Math.abs(h[0][p] / h[1][p] - 1);
const gmean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const list = (xs: number[], digits = 2) => xs.map((x) => round(x, digits)).join(' / ');

export async function notifyBench(ctx: BenchContext): Promise<BenchResult> {
  const order = String(ctx.args.get('notify-order') ?? 'off,on').split(',').filter((m): m is Mode => m === 'on' || m === 'off');
  if (!order.includes('on') || !order.includes('off')) throw new Error('--notify-order needs at least one "on" and one "off" run');
  const runs: { mode: Mode; result: BenchResult; raw: LatencyRaw }[] = [];
  for (const [i, mode] of order.entries()) {
    ctx.log(`  -- run ${i + 1} of ${order.length}: notifications ${mode} --`);
    const result = await latencyBench(ctx, { notify: mode, profile: false });
    runs.push({ mode, result, raw: (result.raw as { notify: LatencyRaw }).notify });
  }
  const of = (mode: Mode) => runs.filter((r) => r.mode === mode).map((r) => r.raw);
  const offs = of('off');
  const ons = of('on');
  const label = (mode: Mode) => `notifications ${mode}${of(mode).length > 1 ? ` (${of(mode).length} runs)` : ''}`;

  const figures: Figure[] = [];
  const notes: string[] = [];
  const verdicts: string[] = [];
  const ratio = (r: LatencyRaw, p: Pct) => r.first[p] / r.floorFirst[p];
  for (const p of PCTS) {
    for (const mode of ['off', 'on'] as const) {
      const rs = of(mode);
      figures.push({
        label: `${label(mode)}: call → first display, ${p}`, value: round(gmean(rs.map((r) => r.first[p])), 2), unit: 'ms',
        floor: round(gmean(rs.map((r) => r.floorFirst[p])), 2), ratio: round(gmean(rs.map((r) => ratio(r, p))), 2),
      });
    }
  }
  for (const p of PCTS) {
    const rOff = gmean(offs.map((r) => ratio(r, p)));
    const rOn = gmean(ons.map((r) => ratio(r, p)));
    const rel = rOn / rOff;
    const raw = gmean(ons.map((r) => r.first[p])) / gmean(offs.map((r) => r.first[p]));
    const parts: Record<string, number> = {};
    runs.forEach((r, i) => {
      parts[`run ${i + 1} (${r.mode}) system`] = spread(r.raw.firstHalves, p);
      parts[`run ${i + 1} (${r.mode}) floor`] = spread(r.raw.floorHalves, p);
    });
    for (const mode of ['off', 'on'] as const) {
      const rs = of(mode).map((r) => ratio(r, p));
      if (rs.length > 1) parts[`${mode} runs' ratios`] = Math.max(...rs) / Math.min(...rs) - 1;
    }
    const noise = Math.max(...Object.values(parts));
    const within = Math.abs(rel - 1) <= noise;
    const rawWithin = Math.abs(raw - 1) <= noise;
    // a band wider than ±50% says the machine was too busy for the run to tell either way
    const conclusive = !within || noise <= MAX_NOISE;
    const verdict = !within ? (rel > 1 ? 'ON SLOWER beyond noise' : 'on faster beyond noise')
      : conclusive ? 'within noise' : 'inconclusive (within a noise band over ±50%: the machine was too busy to tell)';
    verdicts.push(`${p} ${verdict} (on ÷ off ${round(rel, 2)}×, noise ±${round(noise * 100, 0)}%)`);
    figures.push({
      label: `on ÷ off, ${p} (ratios to floor)`, value: round(rel, 3), unit: '×', ratio: round(raw, 3),
      target: `not slower beyond noise (±${round(noise * 100, 0)}%)`, ...(conclusive ? { met: within || rel < 1 } : {}),
    });
    notes.push(`${p}: on ${list(ons.map((r) => r.first[p]))} ms (${list(ons.map((r) => ratio(r, p)))}× its floor) vs off ${list(offs.map((r) => r.first[p]))} ms (${list(offs.map((r) => ratio(r, p)))}× its floor): on ÷ off ${round(rel, 3)} on the ratios, ${round(raw, 3)} on the raw times${rawWithin === within ? '' : ` (the raw times alone are ${rawWithin ? 'within' : 'beyond'} the noise)`}; noise band ±${round(noise * 100, 1)}% = the largest spread (${Object.entries(parts).map(([k, v]) => `${k} ${round(v * 100, 1)}%`).join(', ')}): ${verdict}.`);
  }
  const ds = ons.map((r) => r.deliveries).filter((d): d is DeliveryFigures => !!d);
  if (ds.length) {
    figures.push(
      { label: 'notifications on: webhook deliveries while timed', value: ds.reduce((a, d) => a + d.received, 0), unit: '' },
      { label: 'notifications on: webhook lag (occurredAt → arrival), p50', value: round(gmean(ds.map((d) => d.lag.p50)), 1), unit: 'ms' },
      { label: 'notifications on: webhook lag (occurredAt → arrival), p95', value: round(gmean(ds.map((d) => d.lag.p95)), 1), unit: 'ms' },
    );
  }
  notes.unshift(
    `Runs in this order: ${order.join(', ')}; the same scale and load as the latency benchmark (see each run's notes below), no CPU profile; where a mode has several runs, its figures are geometric means over them. Verdict: ${verdicts.join('; ')}. In the table, "ratio" of the on ÷ off rows is on ÷ off of the raw times.`,
    `Load average (1 min) before → after each run's measurement: ${runs.map((r, i) => `run ${i + 1} (${r.mode}) ${round(r.raw.loadBefore, 2)} → ${round(r.raw.loadAfter, 2)}`).join(', ')}.`,
    ...ds.map((d, i) => `Notifications flowing while the calls were timed (on run ${i + 1}): ${d.received} webhook deliveries of events of the timed turns (${Object.entries(d.byType).map(([k, v]) => `${k} ${v}`).join(', ')}), ${d.outboxWritten} outbox rows written meanwhile, lag p50 ${round(d.lag.p50, 1)} ms, p95 ${round(d.lag.p95, 1)} ms, max ${round(d.lag.max, 1)} ms; ${d.repeats} repeats, ${d.badSignatures} bad signatures; at the end ${d.unrelayed} unrelayed, ${d.pending} pending, ${d.failed} failed.`),
    ...(ds.length ? [] : ['No webhook figures: the on runs reported none.']),
  );
  runs.forEach((r, i) => notes.push(`— run ${i + 1}, notifications ${r.mode}: ${r.result.notes.join(' ')}`));
  return {
    name: 'notify',
    title: 'Call-to-screen latency with notifications off and on',
    figures,
    notes,
    raw: { order, runs: runs.map((r) => ({ mode: r.mode, notify: r.raw, result: r.result.raw })) },
  };
}
