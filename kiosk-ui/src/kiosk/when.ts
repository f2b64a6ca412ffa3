import { formatDate, formatTime } from '@qms/ui-shared/format';
import type { Texts } from './texts.ts';

// "07:30, Thứ Hai 30/11/2026": when the centre opens again, in the site's timezone.

const weekdays = new Map<string, Intl.DateTimeFormat>();

/** ISO weekday (Monday = 1) of an instant in a timezone. */
export function weekdayIn(instant: Date, timeZone: string): number {
  let f = weekdays.get(timeZone);
  if (!f) weekdays.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' })));
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(f.format(instant)) + 1;
}

export function describeWhen(instant: Date | string, timeZone: string, t: Texts): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  return t.when(formatTime(date, timeZone), t.weekdays[weekdayIn(date, timeZone)]!, formatDate(date, timeZone));
}
