import { parseWeekdays, type Db, type Localized, type SiteLevel } from '@qms/db';
import { SYSTEM, type AuditActor, type AuditService } from '../audit/audit.service.ts';
import { notificationSettings } from '../notifications/settings.ts';
import { bookingSettings } from '../bookings/settings.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { assertTimezone } from './timezones.ts';

/**
 * Sites, services, counters and what screens need to know about them. What it creates is in the
 * audit log (when it has one: the app's composition root gives it), written in the same
 * transaction as the change.
 */
export class SiteConfigService {
  constructor(readonly db: Db, private readonly audit?: AuditService) {}

  async listSites() {
    return this.db.selectFrom('site').select(['id', 'code', 'name', 'timezone', 'level']).orderBy('code').execute();
  }

  async assertSite(siteId: string): Promise<void> {
    const site = await this.db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
  }

  async createSite(input: { code: string; name: string; timezone?: string; level?: SiteLevel; openingHours?: Record<string, [string, string][]> }, by: AuditActor = SYSTEM) {
    for (const key of Object.keys(input.openingHours ?? {})) {
      try {
        parseWeekdays(key);
      } catch {
        throw new QueueError('INVALID_OPENING_HOURS', `"${key}" is not a range of weekdays from the first to the last (e.g. mon-fri)`, 400);
      }
    }
    if (input.timezone) await assertTimezone(this.db, input.timezone);
    return this.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('site').select('id').where('code', '=', input.code).executeTakeFirst();
      if (taken) throw new QueueError('SITE_CODE_TAKEN', `A site with code ${input.code} exists`, 409);
      const site = await trx.insertInto('site')
        .values({ code: input.code, name: input.name, timezone: input.timezone ?? 'Asia/Ho_Chi_Minh', level: input.level ?? 'commune', priorityRatio: null })
        .returning(['id', 'code', 'name', 'timezone', 'level']).executeTakeFirstOrThrow();
      const hours = Object.entries(input.openingHours ?? {}).flatMap(([days, sessions]) =>
        parseWeekdays(days).flatMap((weekday) => sessions.map(([opens, closes]) => {
          if (opens >= closes) throw new QueueError('INVALID_OPENING_HOURS', `${days}: ${opens} is not before ${closes}`, 400);
          return { siteId: site.id, weekday, opens, closes };
        })));
      if (hours.length) await trx.insertInto('openingHours').values(hours).execute();
      await this.audit?.record({
        actor: by, siteId: site.id, action: 'site.create', target: { type: 'site', id: site.id },
        changes: { code: site.code, name: site.name, timezone: site.timezone, level: site.level, ...(input.openingHours ? { openingHours: input.openingHours } : {}) },
      }, trx);
      return site;
    });
  }

  async createService(siteId: string, input: { code: string; name: Localized; prefix: string; targetWaitSeconds?: number }, by: AuditActor = SYSTEM) {
    await this.assertSite(siteId);
    const taken = await this.db.selectFrom('service').select('id').where('siteId', '=', siteId).where('code', '=', input.code).executeTakeFirst();
    if (taken) throw new QueueError('SERVICE_CODE_TAKEN', `Service ${input.code} exists at this site`, 409);
    // two services with one prefix would print the same number twice a day (the rule of PUT /services/:id)
    const holder = await this.db.selectFrom('service').select('code').where('siteId', '=', siteId).where('prefix', '=', input.prefix)
      .where('active', '=', true).executeTakeFirst();
    if (holder) throw prefixTaken(input.prefix, holder.code);
    const last = await this.db.selectFrom('service').select((eb) => eb.fn.max('position').as('max')).where('siteId', '=', siteId).executeTakeFirst();
    const row = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto('service')
        .values({ siteId, code: input.code, name: JSON.stringify(input.name), prefix: input.prefix, targetWaitSeconds: input.targetWaitSeconds ?? 900, position: Number(last?.max ?? -1) + 1 })
        .returningAll().executeTakeFirst()
        .catch((error: unknown) => { throw serviceConflict(error, input); });
      if (inserted) {
        await this.audit?.record({
          actor: by, siteId, action: 'service.create', target: { type: 'service', id: inserted.id },
          changes: { code: inserted.code, name: inserted.name, prefix: inserted.prefix, targetWaitSeconds: inserted.targetWaitSeconds },
        }, trx);
      }
      return inserted;
    });
    if (!row) throw new Error('insert into service returned no row');
    return { id: row.id, siteId, code: row.code, name: row.name, prefix: row.prefix, targetWaitSeconds: row.targetWaitSeconds, procedures: [] };
  }

  async createCounter(siteId: string, input: { number: number; name: string; serviceIds: string[] }, by: AuditActor = SYSTEM) {
    await this.assertSite(siteId);
    return this.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('counter').select('id').where('siteId', '=', siteId).where('number', '=', input.number).executeTakeFirst();
      if (taken) throw new QueueError('COUNTER_NUMBER_TAKEN', `Counter ${input.number} exists at this site`, 409);
      const unique = [...new Set(input.serviceIds)];
      if (unique.length) {
        const found = await trx.selectFrom('service').select('id').where('siteId', '=', siteId).where('id', 'in', unique).execute();
        if (found.length !== unique.length) throw new QueueError('SERVICE_NOT_FOUND', 'A service in serviceIds is not a service of this site', 404);
      }
      const counter = await trx.insertInto('counter')
        .values({ siteId, number: input.number, name: input.name, staffId: null, pauseReason: null })
        .returning(['id', 'number', 'name']).executeTakeFirstOrThrow();
      if (unique.length) {
        await trx.insertInto('counterService').values(unique.map((serviceId, position) => ({ counterId: counter.id, serviceId, position }))).execute();
      }
      await this.audit?.record({
        actor: by, siteId, action: 'counter.create', target: { type: 'counter', id: counter.id },
        changes: { number: counter.number, name: counter.name, serviceIds: unique },
      }, trx);
      return { ...counter, siteId, serviceIds: unique, status: 'closed' as const };
    });
  }

  async siteOfDevice(deviceId: string): Promise<string> {
    const device = await this.db.selectFrom('device').select('siteId').where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
    return device.siteId;
  }

  /** A device's site, kind and settings; 404 for none. */
  async device(deviceId: string) {
    const device = await this.db.selectFrom('device').select(['id', 'siteId', 'kind', 'name', 'counterId', 'settings']).where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
    return device;
  }

  /**
   * Sets a display's zone (null: the whole site). Every counter and service it names must be
   * one of the display's site.
   */
  async setDisplayZone(device: { id: string; siteId: string; settings: Record<string, unknown> }, zone: DisplayZone | null, by: AuditActor = SYSTEM): Promise<void> {
    for (const [table, ids] of [['counter', zone?.counterIds], ['service', zone?.serviceIds]] as const) {
      if (!ids) continue;
      const found = await this.db.selectFrom(table).select('id').where('siteId', '=', device.siteId).where('id', 'in', ids).execute();
      if (found.length !== ids.length) throw new QueueError(table === 'counter' ? 'COUNTER_NOT_FOUND' : 'SERVICE_NOT_FOUND', `A ${table} in ${table}Ids is not a ${table} of this site`, 404);
    }
    const { zone: old, ...rest } = device.settings;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('device').set({ settings: JSON.stringify(zone ? { ...rest, zone } : rest) }).where('id', '=', device.id).execute();
      await this.audit?.record({
        actor: by, siteId: device.siteId, action: 'device.zone', target: { type: 'device', id: device.id }, changes: { zone: { from: old ?? null, to: zone } },
      }, trx);
    });
  }

  async listDevices(siteId: string) {
    const rows = await this.db.selectFrom('device')
      .select(['id', 'kind', 'name', 'counterId', 'createdAt', 'lastSeenAt', 'revokedAt', 'pairingExpiresAt'])
      .where('siteId', '=', siteId).orderBy('createdAt').execute();
    return rows.map((d) => ({
      id: d.id, kind: d.kind, name: d.name, counterId: d.counterId, createdAt: d.createdAt.toISOString(),
      lastSeenAt: d.lastSeenAt?.toISOString() ?? null, revoked: d.revokedAt !== null,
      pairingPending: d.pairingExpiresAt !== null && d.pairingExpiresAt > new Date(),
    }));
  }

  /** One read for a screen to draw itself: never includes secrets. */
  async siteConfig(siteId: string) {
    const site = await this.db.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    const notices = notificationSettings(site);
    const bookings = bookingSettings(site);
    const [services, procedures, groups, counters, links, hours, holidays, citizenChannel] = await Promise.all([
      this.db.selectFrom('service').selectAll().where('siteId', '=', siteId).where('active', '=', true).orderBy('position').execute(),
      this.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
        .select(['procedure.serviceId', 'procedure.code', 'procedure.name', 'procedure.processingDays', 'procedure.info'])
        .where('service.siteId', '=', siteId).orderBy('procedure.code').execute(),
      this.db.selectFrom('priorityGroup').select(['code', 'name', 'rank']).where('siteId', '=', siteId).where('active', '=', true).orderBy('rank').orderBy('code').execute(),
      this.db.selectFrom('counter').select(['id', 'number', 'name', 'status']).where('siteId', '=', siteId).where('active', '=', true).orderBy('number').execute(),
      this.db.selectFrom('counterService').innerJoin('counter', 'counter.id', 'counterService.counterId')
        .select(['counterService.counterId', 'counterService.serviceId']).where('counter.siteId', '=', siteId).orderBy('counterService.position').execute(),
      this.db.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', siteId).orderBy('weekday').orderBy('opens').execute(),
      this.db.selectFrom('holiday').select(['date', 'name']).where('siteId', '=', siteId).orderBy('date').execute(),
      this.db.selectFrom('notificationChannel').select('kind').where('siteId', '=', siteId).where('kind', '=', notices.citizenChannel)
        .where('enabled', '=', true).executeTakeFirst(),
    ]);
    return {
      id: site.id, code: site.code, name: site.name, level: site.level, timezone: site.timezone,
      serviceOrder: site.serviceOrder, priorityRatio: site.priorityRatio, transferToFront: site.transferToFront,
      ratingScale: site.settings.ratingScale ?? [], ratingReasons: site.settings.ratingReasons ?? [],
      announcement: site.settings.announcement ?? null,
      preferSystemVoice: site.settings.preferSystemVoice === true,
      offerPhone: notices.offerPhone && !!citizenChannel,
      takesBookings: bookings.enabled || bookings.remoteEnabled,
      openingHours: hours.map((h) => ({ weekday: h.weekday, opens: h.opens.slice(0, 5), closes: h.closes.slice(0, 5) })),
      holidays,
      services: services.map((s) => ({
        id: s.id, code: s.code, prefix: s.prefix, name: s.name, targetWaitSeconds: s.targetWaitSeconds,
        procedures: procedures.filter((p) => p.serviceId === s.id)
          // its information for the public page, when it has any (docs/appointments.md)
          .map((p) => ({ code: p.code, name: p.name, processingDays: p.processingDays, ...(Object.keys(p.info).length ? { info: p.info } : {}) })),
        counterNumbers: counters.filter((c) => links.some((l) => l.counterId === c.id && l.serviceId === s.id)).map((c) => c.number),
      })),
      priorityGroups: groups,
      counters: counters.map((c) => ({ ...c, serviceIds: links.filter((l) => l.counterId === c.id).map((l) => l.serviceId) })),
    };
  }
}

export interface DisplayZone {
  counterIds?: string[];
  serviceIds?: string[];
}

export const prefixTaken = (prefix: string, holder?: string) =>
  new QueueError('PREFIX_TAKEN', holder ? `Prefix ${prefix} is used by service ${holder}` : `Prefix ${prefix} is used by another service of this site`, 409);

/**
 * A create or rename that lost a race: the checks before it saw nothing, a concurrent request
 * committed the same code or prefix first, and the unique index refused this one. It is the
 * same conflict as the checks' 409, so it answers the same; anything else is rethrown.
 */
export function serviceConflict(error: unknown, input: { code?: string; prefix?: string }): unknown {
  const pg = error as { code?: string; constraint?: string };
  if (pg.code !== '23505') return error;
  if (pg.constraint === 'service_prefix_active_idx' && input.prefix) return prefixTaken(input.prefix);
  if (pg.constraint === 'service_site_code' && input.code) return new QueueError('SERVICE_CODE_TAKEN', `Service ${input.code} exists at this site`, 409);
  return error;
}
