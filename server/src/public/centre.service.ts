import type { Db } from '@qms/db';
import type { ProcedureInfo, PublicCentre } from '@qms/protocol';
import { localDate, localParts, openingState, zonedInstant, type Calendar } from '@qms/protocol/calendar';
import { bookingSettings } from '../bookings/settings.ts';
import { notificationSettings } from '../notifications/settings.ts';
import type { QueueService } from '../queue/queue.service.ts';

// The centre's public page (docs/public-page.md): what anyone may read about a centre without
// signing in. Its live figures are the queue engine's own (QueueService.serviceStats, the ones
// the kiosk and the wall display show), never a second estimate. Nothing personal is read here.

/** A booking's page (/b/:publicId) before its script asks the API for the booking itself. */
export interface BookingPageSite {
  siteCode: string;
  siteName: string;
  timezone: string;
  lang: 'vi' | 'en';
}

const hhmm = (time: string) => time.slice(0, 5);

export class PublicCentres {
  constructor(private readonly db: Db, private readonly queue: Pick<QueueService, 'serviceStats' | 'now'>) {}

  now(): Date {
    return this.queue.now();
  }

  /** The centre with this code as its public page shows it, or null for no such centre. */
  async centre(siteCode: string): Promise<PublicCentre | null> {
    const { db } = this;
    const site = await db.selectFrom('site').selectAll().where('code', '=', siteCode).executeTakeFirst();
    if (!site) return null;
    const now = this.queue.now();
    const today = localDate(now, site.timezone);
    const notices = notificationSettings(site);
    const rules = bookingSettings(site);
    const [hours, holidays, services, stats, procedures, capacities, channels] = await Promise.all([
      db.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', site.id).orderBy('weekday').orderBy('opens').execute(),
      db.selectFrom('holiday').select(['date', 'name']).where('siteId', '=', site.id).orderBy('date').execute(),
      db.selectFrom('service').select(['id', 'code', 'name']).where('siteId', '=', site.id).where('active', '=', true)
        .orderBy('position').orderBy('code').execute(),
      this.queue.serviceStats(site.id, undefined, now),
      db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
        .select(['procedure.serviceId', 'procedure.code', 'procedure.name', 'procedure.processingDays', 'procedure.info'])
        .where('service.siteId', '=', site.id).orderBy('procedure.code').execute(),
      db.selectFrom('bookingCapacity').select('serviceId').distinct().where('siteId', '=', site.id).where('capacity', '>', 0).execute(),
      db.selectFrom('notificationChannel').select('kind').where('siteId', '=', site.id).where('enabled', '=', true)
        .where('kind', 'in', [notices.citizenChannel, 'email']).execute(),
    ]);
    const calendar: Calendar = { timezone: site.timezone, hours, holidays: holidays.map((h) => h.date) };
    const statsOf = new Map(stats.map((s) => [s.serviceId, s]));
    const withCapacity = new Set(capacities.map((c) => c.serviceId));
    const enabled = new Set<string>(channels.map((c) => c.kind));
    return {
      code: site.code,
      name: site.name,
      timezone: site.timezone,
      hours: hours.map((h) => ({ weekday: h.weekday, opens: hhmm(h.opens), closes: hhmm(h.closes) })),
      holidays: holidays.filter((h) => h.date >= today).map((h) => ({ date: h.date, name: h.name })),
      openNow: openingState(calendar, now).open,
      bookings: { enabled: rules.enabled, remoteEnabled: rules.remoteEnabled, daysAhead: rules.daysAhead, earlyMinutes: rules.earlyMinutes, lateMinutes: rules.lateMinutes },
      contacts: { phone: enabled.has(notices.citizenChannel), email: enabled.has('email') },
      services: services.map((s) => {
        const live = statsOf.get(s.id);
        return {
          id: s.id,
          code: s.code,
          name: s.name,
          waiting: live?.waiting ?? 0,
          estimatedWaitSeconds: live?.estimatedWaitSeconds ?? 0,
          // the queue's own count: counters serving it that are open or paused now
          openCounters: live?.servingCounters ?? 0,
          bookable: rules.enabled && withCapacity.has(s.id),
          procedures: procedures.filter((p) => p.serviceId === s.id).map((p) => ({
            code: p.code, name: p.name, processingDays: p.processingDays, info: (p.info ?? {}) as ProcedureInfo,
          })),
        };
      }),
    };
  }

  /** Where a booking belongs, for its page; null for no such booking. */
  async bookingSite(publicId: string): Promise<BookingPageSite | null> {
    const row = await this.db.selectFrom('booking').innerJoin('site', 'site.id', 'booking.siteId')
      .select(['site.code', 'site.name', 'site.timezone', 'booking.lang'])
      .where('booking.publicId', '=', publicId).executeTakeFirst();
    return row ? { siteCode: row.code, siteName: row.name, timezone: row.timezone, lang: row.lang === 'en' ? 'en' : 'vi' } : null;
  }
}

/**
 * The days a slot could be booked on: from today, `daysAhead` days, those on which the centre
 * opens (a weekday with hours, not a holiday). The slots themselves come from the booking API.
 */
export function openDays(centre: Pick<PublicCentre, 'timezone' | 'hours' | 'holidays'>, now: Date, daysAhead: number): string[] {
  const holidays = new Set(centre.holidays.map((h) => h.date));
  const today = localDate(now, centre.timezone);
  const days: string[] = [];
  for (let i = 0; i <= daysAhead; i++) {
    // noon of the local day: never on the wrong side of a midnight
    const noon = new Date(zonedInstant(today, '12:00', centre.timezone).getTime() + i * 86_400_000);
    const local = localParts(noon, centre.timezone);
    if (holidays.has(local.date)) continue;
    if (centre.hours.length && !centre.hours.some((h) => h.weekday === local.weekday)) continue;
    days.push(local.date);
  }
  return days;
}
