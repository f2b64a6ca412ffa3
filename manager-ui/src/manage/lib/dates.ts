// Dates of a report, in the site's timezone: the manager picks local days ('yyyy-MM-dd'), the API
// wants instants with offsets. Pure functions (tested in manager-ui/test), on protocol's calendar.

import { localDate, offsetMinutes } from '@qms/protocol/calendar';

const pad = (n: number) => String(n).padStart(2, '0');

/** Minutes east of UTC of `timeZone` at `instant` (Asia/Ho_Chi_Minh: 420): protocol's calendar. */
export { offsetMinutes };

/** Local midnight of `day` in `timeZone` as ISO with offset: '2026-11-24' → '2026-11-24T00:00:00+07:00'. */
export function startOfDayIso(day: string, timeZone: string): string {
  const guess = new Date(`${day}T00:00:00Z`);
  let offset = offsetMinutes(guess, timeZone);
  // the offset at local midnight, not at UTC midnight (differs only on a day the offset changes)
  offset = offsetMinutes(new Date(guess.getTime() - offset * 60_000), timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${day}T00:00:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** 'yyyy-MM-dd' of an instant in `timeZone`. */
export const localDay = (instant: Date, timeZone: string): string => localDate(instant, timeZone);

/** 'yyyy-MM-dd' plus n days (calendar arithmetic, no timezone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday of a local date: 1 = Monday … 7 = Sunday. */
export function weekday(day: string): number {
  const w = new Date(`${day}T00:00:00Z`).getUTCDay();
  return w === 0 ? 7 : w;
}

/** The API range of the local days first..last (both included): [first 00:00, day after last 00:00). */
export function rangeOfDays(first: string, last: string, timeZone: string): { from: string; to: string } {
  return { from: startOfDayIso(first, timeZone), to: startOfDayIso(addDays(last, 1), timeZone) };
}

/** Days from first to last, both included. */
export function daysBetween(first: string, last: string): number {
  return Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
}

/** '2026-11-24' → '24/11/2026' */
export const displayDay = (day: string) => `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;

export const WEEKDAY_NAMES: Record<'vi' | 'en', string[]> = {
  vi: ['', 'Thứ 2', 'Thứ 3', 'Thứ 4', 'Thứ 5', 'Thứ 6', 'Thứ 7', 'CN'],
  en: ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
};

/**
 * A day as people type it, day first whatever the browser's locale: '5/12/2026', '05.12.2026',
 * '05-12-2026' → '2026-12-05'; null unless it is a real calendar day.
 */
export function parseDay(text: string): string | null {
  const m = /^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$/.exec(text);
  if (!m) return null;
  const iso = `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/**
 * A time of day on the 24-hour clock, as people type it: '13:30', '7:05', '7h30', '13.30',
 * '1330', '7' → 'HH:mm'; null unless 00:00–23:59 ('12:00 AM' is not a way to write it here).
 */
export function parseClock(text: string): string | null {
  const m = /^\s*(\d{1,2})\s*(?:[:.hH]\s*(\d{2})?)?\s*$/.exec(text) ?? /^\s*(\d{2})(\d{2})\s*$/.exec(text);
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2] ?? 0);
  return hours < 24 && minutes < 60 ? `${pad(hours)}:${pad(minutes)}` : null;
}
