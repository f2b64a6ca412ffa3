// Local time of a site, the one copy the server, the screens and the ticket printer use: the
// wall clock in a time zone, its calendar day (tickets are numbered per local day), ISO times
// with the zone's offset, and whether the site is open. Pure functions of an instant and the
// site's timezone, hours and holidays (no dependency: screens import @qms/protocol/calendar).

export interface OpeningSession {
  /** ISO weekday, Monday = 1 */
  weekday: number;
  /** 'HH:mm' or 'HH:mm:ss' */
  opens: string;
  closes: string;
}

export interface Calendar {
  timezone: string;
  hours: OpeningSession[];
  /** 'yyyy-MM-dd' local dates on which the site is closed */
  holidays: string[];
}

export interface LocalParts {
  date: string;
  weekday: number;
  /** seconds since local midnight */
  seconds: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    // building a formatter costs more than using it many times: one per zone
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** What a clock in `timezone` shows at `instant`, as zero-padded strings, and the ISO weekday (Monday = 1). */
export interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  weekday: number;
}

/** The wall clock as Intl reads it: the costly part, done once per zone and UTC minute (offsetMillis). */
function intlWallClock(instant: Date, timezone: string): WallClock {
  const p: Record<string, string> = {};
  for (const { type, value } of formatter(timezone).formatToParts(instant)) p[type] = value;
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second!, weekday: WEEKDAY[p.weekday!]! };
}

/**
 * How far `timezone`'s clock is ahead of UTC at `instant`, in milliseconds (whole seconds).
 * Reading a wall clock through Intl costs microseconds and the server reads one for every
 * issue, call and event it sends (the local day, the opening hours, times with their offset):
 * the offset is kept per zone and UTC minute (a zone changes its offset on a whole minute; the
 * local mean times before 1900 aside), at most OFFSETS_KEPT of them, and the wall clock is the
 * instant moved by it.
 */
function offsetMillis(instant: Date, timezone: string): number {
  const key = `${timezone} ${Math.floor(instant.getTime() / 60_000)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const w = intlWallClock(instant, timezone);
    const wall = Date.UTC(Number(w.year), Number(w.month) - 1, Number(w.day), Number(w.hour), Number(w.minute), Number(w.second));
    offset = wall - Math.floor(instant.getTime() / 1000) * 1000;
    if (offsets.size >= OFFSETS_KEPT) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

const OFFSETS_KEPT = 20_000;
const offsets = new Map<string, number>();

/** The instant moved by the zone's offset: its UTC fields are what the zone's clock shows. */
const shifted = (instant: Date, timezone: string) => new Date(instant.getTime() + offsetMillis(instant, timezone));

const two = (n: number) => String(n).padStart(2, '0');

export function wallClock(instant: Date | string, timezone: string): WallClock {
  const wall = shifted(typeof instant === 'string' ? new Date(instant) : instant, timezone);
  return {
    year: String(wall.getUTCFullYear()).padStart(4, '0'), month: two(wall.getUTCMonth() + 1), day: two(wall.getUTCDate()),
    hour: two(wall.getUTCHours()), minute: two(wall.getUTCMinutes()), second: two(wall.getUTCSeconds()), weekday: wall.getUTCDay() || 7,
  };
}

export function localParts(instant: Date, timezone: string): LocalParts {
  const wall = shifted(instant, timezone);
  return {
    date: wall.toISOString().slice(0, 10),
    weekday: wall.getUTCDay() || 7,
    seconds: wall.getUTCHours() * 3600 + wall.getUTCMinutes() * 60 + wall.getUTCSeconds() + (instant.getTime() % 1000) / 1000,
  };
}

/** Minutes east of UTC of `timezone` at `instant` (Asia/Ho_Chi_Minh: 420); every event a server sends carries its times with it (isoInZone). */
export function offsetMinutes(instant: Date, timezone: string): number {
  return Math.round(offsetMillis(instant, timezone) / 60_000);
}

/** ISO-8601 with the zone's offset and milliseconds: 2026-11-22T08:15:03.120+07:00 */
export function isoInZone(instant: Date, timezone: string): string {
  const offset = offsetMinutes(instant, timezone);
  const wall = new Date(instant.getTime() + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${wall.toISOString().slice(0, 23)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export const localDate = (instant: Date, timezone: string) => localParts(instant, timezone).date;

export function secondsOfDay(time: string): number {
  const [h = 0, m = 0, s = 0] = time.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** The instant at which the clock in `timezone` shows `date` `time`. */
export function zonedInstant(date: string, time: string, timezone: string): Date {
  const guess = new Date(`${date}T00:00:00Z`).getTime() + secondsOfDay(time) * 1000;
  // correct by the zone's offset at the guess; a second pass settles DST edges
  let instant = guess;
  for (let i = 0; i < 2; i++) {
    const p = localParts(new Date(instant), timezone);
    const shown = new Date(`${p.date}T00:00:00Z`).getTime() + Math.floor(p.seconds) * 1000;
    instant += guess - shown;
  }
  return new Date(instant);
}

export type OpeningState =
  | { open: true; closesAt: Date | null }
  | { open: false; reason: 'holiday' | 'closed'; opensAt: Date | null };

/** A site with no opening hours configured is open at all times (API.md). */
export function openingState(calendar: Calendar, now: Date): OpeningState {
  const today = localParts(now, calendar.timezone);
  if (calendar.hours.length === 0) {
    return calendar.holidays.includes(today.date)
      ? { open: false, reason: 'holiday', opensAt: nextOpening(calendar, now) }
      : { open: true, closesAt: null };
  }
  if (!calendar.holidays.includes(today.date)) {
    for (const s of calendar.hours) {
      if (s.weekday !== today.weekday) continue;
      if (today.seconds >= secondsOfDay(s.opens) && today.seconds < secondsOfDay(s.closes)) {
        return { open: true, closesAt: zonedInstant(today.date, s.closes, calendar.timezone) };
      }
    }
  }
  return {
    open: false,
    reason: calendar.holidays.includes(today.date) ? 'holiday' : 'closed',
    opensAt: nextOpening(calendar, now),
  };
}

/** Next session start after `now`, looking up to two weeks ahead. */
export function nextOpening(calendar: Calendar, now: Date): Date | null {
  for (let day = 0; day < 15; day++) {
    const probe = new Date(now.getTime() + day * 86_400_000);
    const local = localParts(probe, calendar.timezone);
    if (calendar.holidays.includes(local.date)) continue;
    const starts = calendar.hours
      .filter((s) => s.weekday === local.weekday)
      .map((s) => zonedInstant(local.date, s.opens, calendar.timezone))
      .filter((t) => t > now)
      .sort((a, b) => a.getTime() - b.getTime());
    if (calendar.hours.length === 0) return zonedInstant(local.date, '00:00', calendar.timezone);
    if (starts[0]) return starts[0];
  }
  return null;
}
