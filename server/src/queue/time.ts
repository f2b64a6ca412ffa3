import { localParts } from './site.calendar.ts';

/** ISO-8601 with the site's offset and milliseconds: 2026-11-22T08:15:03.120+07:00 */
export function isoInZone(instant: Date, timezone: string): string {
  const p = localParts(instant, timezone);
  const ms = instant.getTime();
  const wall = new Date(`${p.date}T00:00:00Z`).getTime() + Math.floor(p.seconds) * 1000 + (((ms % 1000) + 1000) % 1000);
  const offsetMinutes = Math.round((wall - ms) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(wall).toISOString().slice(0, 23)}${offset}`;
}

export const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
