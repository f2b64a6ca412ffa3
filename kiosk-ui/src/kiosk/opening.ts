import type { SiteConfig } from '@qms/protocol';
// The same calendar rules the queue engine applies when it refuses a ticket (pure functions of
// an instant, a timezone, hours and holidays), so the kiosk shows "closed" exactly when the
// server would say SITE_CLOSED.
import { localDate, openingState, type OpeningState } from '@qms/protocol/calendar';

export type { OpeningState };

export function siteOpening(config: SiteConfig, now: Date): OpeningState {
  return openingState({
    timezone: config.timezone,
    hours: config.openingHours,
    holidays: config.holidays.map((h) => h.date),
  }, now);
}

/** The next session start after `after` (for "come back at ..." once a session is full). */
export function nextOpeningAfter(config: SiteConfig, after: Date): Date | null {
  const state = siteOpening(config, after);
  if (!state.open) return state.opensAt;
  // still inside a session at `after`: look from its end
  return state.closesAt ? nextOpeningAfter(config, new Date(state.closesAt.getTime() + 1000)) : null;
}

/** Today's sessions as "07:30–11:30, 13:30–17:00", or null when the site keeps no hours. */
export function sessionsOn(config: SiteConfig, weekday: number): string | null {
  const sessions = config.openingHours.filter((h) => h.weekday === weekday);
  return sessions.length ? sessions.map((h) => `${h.opens}–${h.closes}`).join(', ') : null;
}

/** The name of the holiday the site keeps today (its local date at `now`), if it keeps one. */
export function holidayName(config: SiteConfig, now: Date): string | null {
  const today = localDate(now, config.timezone);
  return config.holidays.find((h) => h.date === today)?.name.trim() || null;
}
