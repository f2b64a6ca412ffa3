// When a site's day is over. Numbers restart every local day, so a ticket still waiting, called
// or being served when its day ends must end too (status `expired`): otherwise the first call of
// the next morning goes to yesterday's M002 while today's M002 waits, and the two share a code.
import { localParts, secondsOfDay, zonedInstant, type Calendar } from '@qms/protocol/calendar';
import { serialRunner } from '../serial-runner.ts';

/** The local date after `date` ('yyyy-MM-dd'). */
export function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The instant the site's `date` ends: `grace` seconds after its last session closes (officials
 * finish the citizens still at their counters), and at local midnight at the latest. A day with
 * no session (no hours configured, a holiday, a weekday the site is closed) ends at midnight.
 */
export function dayEndsAt(calendar: Calendar, date: string, graceSeconds: number): Date {
  const midnight = zonedInstant(nextDate(date), '00:00', calendar.timezone);
  if (calendar.holidays.includes(date)) return midnight;
  const weekday = localParts(zonedInstant(date, '12:00', calendar.timezone), calendar.timezone).weekday;
  const closes = calendar.hours.filter((s) => s.weekday === weekday).map((s) => secondsOfDay(s.closes));
  if (!closes.length) return midnight;
  const end = zonedInstant(date, '00:00', calendar.timezone).getTime() + (Math.max(...closes) + graceSeconds) * 1000;
  return new Date(Math.min(end, midnight.getTime()));
}

export interface DayEndRunner {
  /** sweeps now and then every `everyMs` */
  start(): void;
  /** ends every day that is over now; resolves to the number of tickets ended */
  sweep(): Promise<number>;
  stop(): Promise<void>;
  /** whether the last sweep failed (GET /api/health's dayEnd); the next one that works clears it */
  failing(): boolean;
}

/**
 * Runs `sweep` from start() and every `everyMs`: each process of a cluster does, and each
 * ticket is ended by one of them (the update takes its row lock and rechecks the status).
 */
export function dayEndRunner(sweep: () => Promise<number>, everyMs: number, onError: (error: unknown) => void): DayEndRunner {
  let failed = false;
  const tracked = async () => {
    try {
      const ended = await sweep();
      failed = false;
      return ended;
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  // one sweep at a time; one asked for during another runs after it (it reads a later clock)
  const runner = serialRunner(tracked, everyMs, onError);
  return { start: runner.start, sweep: runner.run, stop: runner.stop, failing: () => failed };
}
