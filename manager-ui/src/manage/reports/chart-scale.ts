// Axis helpers for the SVG charts: round tick steps (1, 2, 5 × 10^n) and hour ranges.

/** Ticks from 0 to at least `max`, about `count` of them, on round steps (whole ones for counts). */
export function niceTicks(max: number, count = 4, integer = false): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Decimals that tell the ticks apart (0.25 steps need two). */
export function tickDigits(ticks: number[]): number {
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  return step >= 1 ? 0 : step >= 0.1 && Number.isInteger(step * 10) ? 1 : 2;
}

/** The hours to draw: the working day (7–17) widened to every hour that has data. */
export function hourSpan(hours: number[], from = 7, to = 17): number[] {
  const lo = Math.min(from, ...hours);
  const hi = Math.max(to, ...hours);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
