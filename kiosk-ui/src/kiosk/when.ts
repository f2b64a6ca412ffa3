import { wallClock } from '@qms/protocol/calendar';
import { formatDate, formatTime } from '@qms/ui-shared/format';
import type { Texts } from './texts.ts';

// "07:30, Thứ Hai 30/11/2026": when the centre opens again, in the site's timezone.

/** ISO weekday (Monday = 1) of an instant in a timezone. */
export const weekdayIn = (instant: Date, timeZone: string): number => wallClock(instant, timeZone).weekday;

export function describeWhen(instant: Date | string, timeZone: string, t: Texts): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  return t.when(formatTime(date, timeZone), t.weekdays[weekdayIn(date, timeZone)]!, formatDate(date, timeZone));
}
