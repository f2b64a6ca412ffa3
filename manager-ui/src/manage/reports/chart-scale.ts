// Axis helpers for the SVG charts: round tick steps (1, 2, 5 × 10^n) and hour ranges.

/** Ticks from 0 to at least `max`, about `count` of them, on round steps. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** The hours to draw: the working day (7–17) widened to every hour that has data. */
export function hourSpan(hours: number[], from = 7, to = 17): number[] {
  const lo = Math.min(from, ...hours);
  const hi = Math.max(to, ...hours);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
