import { sql } from 'kysely';
import type { Db, SiteSettings } from '@qms/db';
import {
  staffPhotoUrl, type AnnouncementUpdate, type CounterUpdate, type HolidaysUpdate, type OpeningHoursUpdate, type PriorityGroupsUpdate,
  type ProceduresUpdate, type RatingUpdate, type ServiceUpdate, type SiteUpdate, type StaffMember, type StaffUpdate,
} from '@qms/protocol';
import { hashPassword } from '../auth/tokens.ts';
import type { ErrorCode } from '@qms/protocol';
import { QueueError } from '../queue/queue.errors.ts';
import { secondsOfDay } from '@qms/protocol/calendar';
import { prefixTaken, serviceConflict } from './site-config.service.ts';
import { assertTimezone } from './timezones.ts';

// Changes of a site's configuration from the manager console. Each method checks what the
// schema cannot (uniqueness within the site, sessions that overlap, a phrase without its
// placeholders), writes in one transaction and returns the site it touched, so the route can
// tell the site's screens (`site:updated`). Rows that history points at are never deleted:
// services and counters are deactivated, priority groups too.

const bad = (code: ErrorCode, message: string) => new QueueError(code, message, 400);

export class SiteConfigUpdates {
  constructor(private readonly db: Db) {}

  async updateSite(siteId: string, input: SiteUpdate): Promise<void> {
    if (input.timezone) await assertTimezone(this.db, input.timezone);
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    if (!Object.keys(changes).length) return this.assertSite(siteId);
    const updated = await this.db.updateTable('site').set(changes).where('id', '=', siteId).returning('id').executeTakeFirst();
    if (!updated) throw notFoundSite(siteId);
  }

  /** Replaces the weekly sessions. Sessions of one day may not overlap; none means open at all times. */
  async setOpeningHours(siteId: string, { openingHours }: OpeningHoursUpdate): Promise<void> {
    const byDay = new Map<number, { opens: number; closes: number; text: string }[]>();
    for (const s of openingHours) {
      if (s.opens >= s.closes) throw bad('INVALID_OPENING_HOURS', `${s.opens} is not before ${s.closes}`);
      const day = byDay.get(s.weekday) ?? [];
      day.push({ opens: secondsOfDay(s.opens), closes: secondsOfDay(s.closes), text: `${s.opens}–${s.closes}` });
      byDay.set(s.weekday, day);
    }
    for (const [weekday, sessions] of byDay) {
      sessions.sort((a, b) => a.opens - b.opens);
      for (let i = 1; i < sessions.length; i++) {
        if (sessions[i]!.opens < sessions[i - 1]!.closes) {
          throw bad('INVALID_OPENING_HOURS', `Sessions ${sessions[i - 1]!.text} and ${sessions[i]!.text} of weekday ${weekday} overlap`);
        }
      }
    }
    await this.db.transaction().execute(async (trx) => {
      await this.assertSite(siteId, trx);
      await trx.deleteFrom('openingHours').where('siteId', '=', siteId).execute();
      if (openingHours.length) await trx.insertInto('openingHours').values(openingHours.map((s) => ({ siteId, ...s }))).execute();
    });
  }

  async setHolidays(siteId: string, { holidays }: HolidaysUpdate): Promise<void> {
    const dates = new Set<string>();
    for (const h of holidays) {
      if (dates.has(h.date)) throw bad('DUPLICATE_HOLIDAY', `${h.date} is listed twice`);
      dates.add(h.date);
    }
    await this.db.transaction().execute(async (trx) => {
      await this.assertSite(siteId, trx);
      await trx.deleteFrom('holiday').where('siteId', '=', siteId).execute();
      if (holidays.length) await trx.insertInto('holiday').values(holidays.map((h) => ({ siteId, date: h.date, name: h.name }))).execute();
    });
  }

  async setRating(siteId: string, input: RatingUpdate): Promise<void> {
    const scores = input.ratingScale.map((l) => l.score);
    if (new Set(scores).size !== scores.length) throw bad('INVALID_RATING_SCALE', 'Two levels of the scale have the same score');
    const codes = input.ratingReasons.map((r) => r.code);
    if (new Set(codes).size !== codes.length) throw bad('INVALID_RATING_SCALE', 'Two reasons have the same code');
    // highest first: the order the tablet shows them in
    const ratingScale = [...input.ratingScale].sort((a, b) => b.score - a.score);
    await this.patchSettings(siteId, { ratingScale, ratingReasons: input.ratingReasons });
  }

  async setAnnouncement(siteId: string, { announcement, preferSystemVoice }: AnnouncementUpdate): Promise<void> {
    for (const [lang, text] of Object.entries(announcement)) {
      if (lang === 'en' && !text.trim()) continue; // no English announcement
      for (const slot of ['{code}', '{counter}']) {
        if (!text.includes(slot)) throw bad('INVALID_ANNOUNCEMENT', `The ${lang} phrase must contain ${slot}`);
      }
    }
    await this.patchSettings(siteId, {
      announcement: { vi: announcement.vi.trim(), en: announcement.en.trim() },
      // left as it was when the body does not say
      ...(preferSystemVoice !== undefined ? { preferSystemVoice } : {}),
    });
  }

  /** Replaces the site's priority groups: listed codes are created or updated, others deactivated (tickets keep their code). */
  async setPriorityGroups(siteId: string, { priorityGroups }: PriorityGroupsUpdate): Promise<void> {
    const codes = priorityGroups.map((g) => g.code);
    if (codes.includes('none')) throw bad('INVALID_PRIORITY_GROUP', '"none" means no priority; choose another code');
    if (new Set(codes).size !== codes.length) throw bad('INVALID_PRIORITY_GROUP', 'Two groups have the same code');
    await this.db.transaction().execute(async (trx) => {
      await this.assertSite(siteId, trx);
      let deactivate = trx.updateTable('priorityGroup').set({ active: false }).where('siteId', '=', siteId);
      if (codes.length) deactivate = deactivate.where('code', 'not in', codes);
      await deactivate.execute();
      for (const g of priorityGroups) {
        await trx.insertInto('priorityGroup').values({ siteId, code: g.code, name: JSON.stringify(g.name), rank: g.rank, active: true })
          .onConflict((oc) => oc.columns(['siteId', 'code']).doUpdateSet({ name: JSON.stringify(g.name), rank: g.rank, active: true }))
          .execute();
      }
    });
  }

  // ---- services -----------------------------------------------------------------------------

  async siteOfService(serviceId: string): Promise<string> {
    const row = await this.db.selectFrom('service').select('siteId').where('id', '=', serviceId).where('active', '=', true).executeTakeFirst();
    if (!row) throw new QueueError('SERVICE_NOT_FOUND', `No service ${serviceId}`, 404);
    return row.siteId;
  }

  async updateService(serviceId: string, input: ServiceUpdate): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const service = await trx.selectFrom('service').select(['id', 'siteId']).where('id', '=', serviceId).forUpdate().executeTakeFirstOrThrow();
      if (input.code) {
        const taken = await trx.selectFrom('service').select('id').where('siteId', '=', service.siteId).where('code', '=', input.code)
          .where('id', '<>', serviceId).executeTakeFirst();
        if (taken) throw new QueueError('SERVICE_CODE_TAKEN', `Service ${input.code} exists at this site`, 409);
      }
      if (input.prefix) {
        // two services with one prefix would print the same number twice a day
        const taken = await trx.selectFrom('service').select('code').where('siteId', '=', service.siteId).where('prefix', '=', input.prefix)
          .where('active', '=', true).where('id', '<>', serviceId).executeTakeFirst();
        if (taken) throw prefixTaken(input.prefix, taken.code);
      }
      const changes = {
        ...(input.code !== undefined ? { code: input.code } : {}),
        ...(input.name !== undefined ? { name: JSON.stringify(input.name) } : {}),
        ...(input.prefix !== undefined ? { prefix: input.prefix } : {}),
        ...(input.targetWaitSeconds !== undefined ? { targetWaitSeconds: input.targetWaitSeconds } : {}),
        ...(input.position !== undefined ? { position: input.position } : {}),
      };
      if (Object.keys(changes).length) {
        await trx.updateTable('service').set(changes).where('id', '=', serviceId).execute()
          .catch((error: unknown) => { throw serviceConflict(error, input); });
      }
    });
  }

  /** Kiosks stop offering it; its history stays. Refused while tickets wait in it. */
  async deactivateService(serviceId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.selectFrom('service').select('id').where('id', '=', serviceId).forUpdate().executeTakeFirstOrThrow();
      const waiting = await trx.selectFrom('ticket').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('serviceId', '=', serviceId).where('status', 'in', ['waiting', 'called', 'serving']).executeTakeFirstOrThrow();
      if (Number(waiting.n) > 0) {
        throw new QueueError('SERVICE_HAS_TICKETS', `${waiting.n} ticket(s) are still waiting or being served in this service`, 409, { count: Number(waiting.n) });
      }
      await trx.updateTable('service').set({ active: false }).where('id', '=', serviceId).execute();
      await trx.deleteFrom('counterService').where('serviceId', '=', serviceId).execute();
    });
  }

  async setProcedures(serviceId: string, { procedures }: ProceduresUpdate): Promise<void> {
    const codes = procedures.map((p) => p.code);
    if (new Set(codes).size !== codes.length) throw bad('DUPLICATE_PROCEDURE', 'A procedure code is listed twice');
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('procedure').where('serviceId', '=', serviceId).execute();
      if (procedures.length) {
        await trx.insertInto('procedure').values(procedures.map((p) => ({
          serviceId, code: p.code, name: JSON.stringify(p.name), processingDays: p.processingDays,
        }))).execute();
      }
    });
  }

  // ---- counters -----------------------------------------------------------------------------

  async siteOfCounter(counterId: string): Promise<string> {
    const row = await this.db.selectFrom('counter').select('siteId').where('id', '=', counterId).where('active', '=', true).executeTakeFirst();
    if (!row) throw new QueueError('COUNTER_NOT_FOUND', `No counter ${counterId}`, 404);
    return row.siteId;
  }

  async updateCounter(counterId: string, input: CounterUpdate): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const counter = await trx.selectFrom('counter').select(['id', 'siteId']).where('id', '=', counterId).forUpdate().executeTakeFirstOrThrow();
      if (input.number !== undefined) {
        const taken = await trx.selectFrom('counter').select('id').where('siteId', '=', counter.siteId).where('number', '=', input.number)
          .where('id', '<>', counterId).executeTakeFirst();
        if (taken) throw new QueueError('COUNTER_NUMBER_TAKEN', `Counter ${input.number} exists at this site`, 409);
      }
      const changes = {
        ...(input.number !== undefined ? { number: input.number } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
      };
      if (Object.keys(changes).length) await trx.updateTable('counter').set(changes).where('id', '=', counterId).execute();
      if (input.serviceIds) {
        const unique = [...new Set(input.serviceIds)];
        if (unique.length !== input.serviceIds.length) throw bad('DUPLICATE_SERVICE', 'A service is listed twice');
        if (unique.length) {
          const found = await trx.selectFrom('service').select('id').where('siteId', '=', counter.siteId).where('active', '=', true)
            .where('id', 'in', unique).execute();
          if (found.length !== unique.length) throw new QueueError('SERVICE_NOT_FOUND', 'A service in serviceIds is not a service of this site', 404);
        }
        await trx.deleteFrom('counterService').where('counterId', '=', counterId).execute();
        if (unique.length) {
          await trx.insertInto('counterService').values(unique.map((serviceId, position) => ({ counterId, serviceId, position }))).execute();
        }
      }
    });
  }

  /** Takes a counter out of use; its history stays. Refused while an official works it. */
  async deactivateCounter(counterId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const counter = await trx.selectFrom('counter').select(['status']).where('id', '=', counterId).forUpdate().executeTakeFirstOrThrow();
      if (counter.status !== 'closed') throw new QueueError('COUNTER_IN_USE', 'The counter is open: its official closes it first', 409);
      await trx.updateTable('counter').set({ active: false }).where('id', '=', counterId).execute();
    });
  }

  // ---- staff --------------------------------------------------------------------------------

  async staffOf(siteId: string): Promise<StaffMember[]> {
    await this.assertSite(siteId);
    const users = await this.db.selectFrom('appUser').innerJoin('siteMembership', 'siteMembership.userId', 'appUser.id')
      .leftJoin('staffPhoto', 'staffPhoto.userId', 'appUser.id')
      .select(['appUser.id', 'appUser.username', 'appUser.displayName', 'appUser.role', 'appUser.active', 'staffPhoto.etag'])
      .where('siteMembership.siteId', '=', siteId).orderBy('appUser.role').orderBy('appUser.displayName').execute();
    const sites = await this.sitesOfUsers(users.map((u) => u.id));
    return users.map(({ etag, ...u }) => ({ ...u, siteIds: sites.get(u.id) ?? [], ...(etag ? { photoUrl: staffPhotoUrl(u.id, etag) } : {}) }));
  }

  async member(userId: string): Promise<StaffMember> {
    const user = await this.db.selectFrom('appUser').select(['id', 'username', 'displayName', 'role', 'active']).where('id', '=', userId).executeTakeFirst();
    if (!user) throw new QueueError('USER_NOT_FOUND', `No user ${userId}`, 404);
    return { ...user, siteIds: (await this.sitesOfUsers([userId])).get(userId) ?? [] };
  }

  async updateStaff(userId: string, input: StaffUpdate): Promise<StaffMember> {
    const changes = {
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
      ...(input.role !== undefined ? { role: input.role } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      ...(input.password !== undefined ? { passwordHash: await hashPassword(input.password) } : {}),
    };
    await this.db.transaction().execute(async (trx) => {
      if (Object.keys(changes).length) await trx.updateTable('appUser').set(changes).where('id', '=', userId).execute();
      // a disabled account or a new password signs out every session at once
      if (input.active === false || input.password !== undefined) await trx.deleteFrom('userSession').where('userId', '=', userId).execute();
    });
    return this.member(userId);
  }

  async addMember(siteId: string, userId: string): Promise<void> {
    await this.assertSite(siteId);
    await this.member(userId);
    await this.db.insertInto('siteMembership').values({ siteId, userId }).onConflict((oc) => oc.doNothing()).execute();
  }

  async removeMember(siteId: string, userId: string): Promise<void> {
    const open = await this.db.selectFrom('counter').select('number').where('siteId', '=', siteId).where('staffId', '=', userId)
      .where('status', '<>', 'closed').executeTakeFirst();
    if (open) throw new QueueError('COUNTER_IN_USE', `The official is working counter ${open.number}: close it first`, 409);
    const removed = await this.db.deleteFrom('siteMembership').where('siteId', '=', siteId).where('userId', '=', userId).executeTakeFirst();
    if (!Number(removed.numDeletedRows)) throw new QueueError('USER_NOT_FOUND', `User ${userId} is not staff of this site`, 404);
  }

  // ---- devices ------------------------------------------------------------------------------

  async renameDevice(deviceId: string, name: string): Promise<void> {
    await this.db.updateTable('device').set({ name }).where('id', '=', deviceId).execute();
  }

  // ---- internals ----------------------------------------------------------------------------

  private async sitesOfUsers(userIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (!userIds.length) return result;
    const rows = await this.db.selectFrom('siteMembership').select(['userId', 'siteId']).where('userId', 'in', userIds).execute();
    for (const r of rows) result.set(r.userId, [...(result.get(r.userId) ?? []), r.siteId]);
    return result;
  }

  /** Sets keys of site.settings (jsonb), leaving the others as they are. */
  private async patchSettings(siteId: string, patch: Partial<SiteSettings>): Promise<void> {
    const updated = await this.db.updateTable('site').set({ settings: sql`settings || ${JSON.stringify(patch)}::jsonb` })
      .where('id', '=', siteId).returning('id').executeTakeFirst();
    if (!updated) throw notFoundSite(siteId);
  }

  private async assertSite(siteId: string, db: Pick<Db, 'selectFrom'> = this.db): Promise<void> {
    const site = await db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw notFoundSite(siteId);
  }
}

const notFoundSite = (siteId: string) => new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
