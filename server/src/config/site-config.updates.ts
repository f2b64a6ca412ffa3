import { sql, type Kysely } from 'kysely';
import type { Database, Db, SiteSettings } from '@qms/db';
import {
  staffPhotoUrl, type AnnouncementUpdate, type CounterUpdate, type HolidaysUpdate, type OpeningHoursUpdate, type PriorityGroupsUpdate,
  type ProceduresUpdate, type RatingUpdate, type ServiceUpdate, type SiteUpdate, type StaffMember, type StaffUpdate,
} from '@qms/protocol';
import { CHANGED, diff, type AuditActor, type AuditRecord, type AuditService } from '../audit/audit.service.ts';
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
//
// Every change is in the audit log (docs/audit.md), written in the change's own transaction with
// what it was before ({field: {from, to}}); a change that changes nothing writes no entry.

const bad = (code: ErrorCode, message: string) => new QueueError(code, message, 400);

export class SiteConfigUpdates {
  constructor(private readonly db: Db, private readonly audit: AuditService) {}

  async updateSite(siteId: string, input: SiteUpdate, by: AuditActor): Promise<void> {
    if (input.timezone) await assertTimezone(this.db, input.timezone);
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('site').select(['name', 'level', 'timezone', 'serviceOrder', 'priorityRatio', 'transferToFront', 'codeDigits'])
        .where('id', '=', siteId).forNoKeyUpdate().executeTakeFirst();
      if (!before) throw notFoundSite(siteId);
      if (!Object.keys(changes).length) return;
      await trx.updateTable('site').set(changes).where('id', '=', siteId).execute();
      await this.record(trx, { actor: by, siteId, action: 'site.update', target: { type: 'site', id: siteId }, changes: diff(before, changes) });
    });
  }

  /** Replaces the weekly sessions. Sessions of one day may not overlap; none means open at all times. */
  async setOpeningHours(siteId: string, { openingHours }: OpeningHoursUpdate, by: AuditActor): Promise<void> {
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
      await this.lockSite(siteId, trx);
      const before = await trx.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', siteId)
        .orderBy('weekday').orderBy('opens').execute();
      await trx.deleteFrom('openingHours').where('siteId', '=', siteId).execute();
      if (openingHours.length) await trx.insertInto('openingHours').values(openingHours.map((s) => ({ siteId, ...s }))).execute();
      const session = (h: { weekday: number; opens: string; closes: string }) => ({ weekday: h.weekday, opens: h.opens.slice(0, 5), closes: h.closes.slice(0, 5) });
      const after = [...openingHours].sort((a, b) => a.weekday - b.weekday || a.opens.localeCompare(b.opens)).map(session);
      await this.record(trx, {
        actor: by, siteId, action: 'opening_hours.update', target: { type: 'site', id: siteId },
        changes: diff({ openingHours: before.map(session) }, { openingHours: after }),
      });
    });
  }

  async setHolidays(siteId: string, { holidays }: HolidaysUpdate, by: AuditActor): Promise<void> {
    const dates = new Set<string>();
    for (const h of holidays) {
      if (dates.has(h.date)) throw bad('DUPLICATE_HOLIDAY', `${h.date} is listed twice`);
      dates.add(h.date);
    }
    await this.db.transaction().execute(async (trx) => {
      await this.lockSite(siteId, trx);
      const before = await trx.selectFrom('holiday').select(['date', 'name']).where('siteId', '=', siteId).orderBy('date').execute();
      await trx.deleteFrom('holiday').where('siteId', '=', siteId).execute();
      if (holidays.length) await trx.insertInto('holiday').values(holidays.map((h) => ({ siteId, date: h.date, name: h.name }))).execute();
      const after = [...holidays].sort((a, b) => a.date.localeCompare(b.date)).map((h) => ({ date: h.date, name: h.name }));
      await this.record(trx, {
        actor: by, siteId, action: 'holidays.update', target: { type: 'site', id: siteId },
        changes: diff({ holidays: before.map((h) => ({ date: h.date, name: h.name })) }, { holidays: after }),
      });
    });
  }

  async setRating(siteId: string, input: RatingUpdate, by: AuditActor): Promise<void> {
    const scores = input.ratingScale.map((l) => l.score);
    if (new Set(scores).size !== scores.length) throw bad('INVALID_RATING_SCALE', 'Two levels of the scale have the same score');
    const codes = input.ratingReasons.map((r) => r.code);
    if (new Set(codes).size !== codes.length) throw bad('INVALID_RATING_SCALE', 'Two reasons have the same code');
    // highest first: the order the tablet shows them in
    const ratingScale = [...input.ratingScale].sort((a, b) => b.score - a.score);
    await this.patchSettings(siteId, { ratingScale, ratingReasons: input.ratingReasons }, by, 'rating.update');
  }

  async setAnnouncement(siteId: string, { announcement, preferSystemVoice }: AnnouncementUpdate, by: AuditActor): Promise<void> {
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
    }, by, 'announcement.update');
  }

  /** Replaces the site's priority groups: listed codes are created or updated, others deactivated (tickets keep their code). */
  async setPriorityGroups(siteId: string, { priorityGroups }: PriorityGroupsUpdate, by: AuditActor): Promise<void> {
    const codes = priorityGroups.map((g) => g.code);
    if (codes.includes('none')) throw bad('INVALID_PRIORITY_GROUP', '"none" means no priority; choose another code');
    if (new Set(codes).size !== codes.length) throw bad('INVALID_PRIORITY_GROUP', 'Two groups have the same code');
    await this.db.transaction().execute(async (trx) => {
      await this.lockSite(siteId, trx);
      const group = (g: { code: string; name: unknown; rank: number }) => ({ code: g.code, name: g.name, rank: g.rank });
      const before = (await trx.selectFrom('priorityGroup').select(['code', 'name', 'rank']).where('siteId', '=', siteId).where('active', '=', true)
        .orderBy('code').execute()).map(group);
      let deactivate = trx.updateTable('priorityGroup').set({ active: false }).where('siteId', '=', siteId);
      if (codes.length) deactivate = deactivate.where('code', 'not in', codes);
      await deactivate.execute();
      for (const g of priorityGroups) {
        await trx.insertInto('priorityGroup').values({ siteId, code: g.code, name: JSON.stringify(g.name), rank: g.rank, active: true })
          .onConflict((oc) => oc.columns(['siteId', 'code']).doUpdateSet({ name: JSON.stringify(g.name), rank: g.rank, active: true }))
          .execute();
      }
      const after = [...priorityGroups].sort((a, b) => a.code.localeCompare(b.code)).map((g) => group(g));
      await this.record(trx, {
        actor: by, siteId, action: 'priority_groups.update', target: { type: 'site', id: siteId }, changes: diff({ priorityGroups: before }, { priorityGroups: after }),
      });
    });
  }

  // ---- services -----------------------------------------------------------------------------

  async siteOfService(serviceId: string): Promise<string> {
    const row = await this.db.selectFrom('service').select('siteId').where('id', '=', serviceId).where('active', '=', true).executeTakeFirst();
    if (!row) throw new QueueError('SERVICE_NOT_FOUND', `No service ${serviceId}`, 404);
    return row.siteId;
  }

  async updateService(serviceId: string, input: ServiceUpdate, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const service = await trx.selectFrom('service').select(['id', 'siteId', 'code', 'name', 'prefix', 'targetWaitSeconds', 'position'])
        .where('id', '=', serviceId).forUpdate().executeTakeFirstOrThrow();
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
      const { siteId, id: _id, ...before } = service;
      await this.record(trx, { actor: by, siteId, action: 'service.update', target: { type: 'service', id: serviceId }, changes: diff(before, input) });
    });
  }

  /** Kiosks stop offering it; its history stays. Refused while tickets wait in it. */
  async deactivateService(serviceId: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const service = await trx.selectFrom('service').select(['siteId', 'code', 'name']).where('id', '=', serviceId).forUpdate().executeTakeFirstOrThrow();
      const waiting = await trx.selectFrom('ticket').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('serviceId', '=', serviceId).where('status', 'in', ['waiting', 'called', 'serving']).executeTakeFirstOrThrow();
      if (Number(waiting.n) > 0) {
        throw new QueueError('SERVICE_HAS_TICKETS', `${waiting.n} ticket(s) are still waiting or being served in this service`, 409, { count: Number(waiting.n) });
      }
      await trx.updateTable('service').set({ active: false }).where('id', '=', serviceId).execute();
      const counters = await trx.deleteFrom('counterService').where('serviceId', '=', serviceId).returning('counterId').execute();
      await this.record(trx, {
        actor: by, siteId: service.siteId, action: 'service.deactivate', target: { type: 'service', id: serviceId },
        changes: { code: service.code, name: service.name, active: { from: true, to: false }, removedFromCounters: counters.map((c) => c.counterId) },
      });
    });
  }

  async setProcedures(serviceId: string, { procedures }: ProceduresUpdate, by: AuditActor): Promise<void> {
    const codes = procedures.map((p) => p.code);
    if (new Set(codes).size !== codes.length) throw bad('DUPLICATE_PROCEDURE', 'A procedure code is listed twice');
    await this.db.transaction().execute(async (trx) => {
      const service = await trx.selectFrom('service').select('siteId').where('id', '=', serviceId).forNoKeyUpdate().executeTakeFirstOrThrow();
      const procedure = (p: { code: string; name: unknown; processingDays: unknown }) => ({ code: p.code, name: p.name, processingDays: p.processingDays ?? null });
      const before = (await trx.selectFrom('procedure').select(['code', 'name', 'processingDays']).where('serviceId', '=', serviceId).orderBy('code').execute()).map(procedure);
      const after = [...procedures].sort((a, b) => a.code.localeCompare(b.code)).map(procedure);
      await this.record(trx, {
        actor: by, siteId: service.siteId, action: 'service.procedures', target: { type: 'service', id: serviceId }, changes: diff({ procedures: before }, { procedures: after }),
      });
      // the procedures still listed keep what the public page shows of them (procedure.info)
      let gone = trx.deleteFrom('procedure').where('serviceId', '=', serviceId);
      if (codes.length) gone = gone.where('code', 'not in', codes);
      await gone.execute();
      if (procedures.length) {
        await trx.insertInto('procedure').values(procedures.map((p) => ({
          serviceId, code: p.code, name: JSON.stringify(p.name), processingDays: p.processingDays,
        }))).onConflict((oc) => oc.columns(['serviceId', 'code']).doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'), processingDays: eb.ref('excluded.processingDays'),
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

  async updateCounter(counterId: string, input: CounterUpdate, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const counter = await trx.selectFrom('counter').select(['id', 'siteId', 'number', 'name']).where('id', '=', counterId).forUpdate().executeTakeFirstOrThrow();
      const served = await trx.selectFrom('counterService').select('serviceId').where('counterId', '=', counterId).orderBy('position').execute();
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
      await this.record(trx, {
        actor: by, siteId: counter.siteId, action: 'counter.update', target: { type: 'counter', id: counterId },
        changes: diff({ number: counter.number, name: counter.name, serviceIds: served.map((s) => s.serviceId) }, input),
      });
    });
  }

  /** Takes a counter out of use; its history stays. Refused while an official works it. */
  async deactivateCounter(counterId: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const counter = await trx.selectFrom('counter').select(['status', 'siteId', 'number', 'name']).where('id', '=', counterId).forUpdate().executeTakeFirstOrThrow();
      if (counter.status !== 'closed') throw new QueueError('COUNTER_IN_USE', 'The counter is open: its official closes it first', 409);
      await trx.updateTable('counter').set({ active: false }).where('id', '=', counterId).execute();
      await this.record(trx, {
        actor: by, siteId: counter.siteId, action: 'counter.deactivate', target: { type: 'counter', id: counterId },
        changes: { number: counter.number, name: counter.name, active: { from: true, to: false } },
      });
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

  /**
   * Name, role, active flag, password. Each of them that changed is an entry of its own
   * (user.update, user.role, user.active, user.password: a search for role changes finds them
   * all), in the change's transaction; the password only as {changed: true}.
   */
  async updateStaff(userId: string, input: StaffUpdate, by: AuditActor): Promise<StaffMember> {
    const changes = {
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
      ...(input.role !== undefined ? { role: input.role } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      ...(input.password !== undefined ? { passwordHash: await hashPassword(input.password) } : {}),
    };
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('appUser').select(['displayName', 'role', 'active']).where('id', '=', userId).forNoKeyUpdate().executeTakeFirst();
      if (!before) throw new QueueError('USER_NOT_FOUND', `No user ${userId}`, 404);
      if (Object.keys(changes).length) await trx.updateTable('appUser').set(changes).where('id', '=', userId).execute();
      // a disabled account or a new password signs out every session at once
      const ended = input.active === false || input.password !== undefined
        ? Number((await trx.deleteFrom('userSession').where('userId', '=', userId).executeTakeFirst()).numDeletedRows) : 0;
      const siteId = await this.audit.siteOfUser(userId, trx);
      const entry = (action: string, entryChanges: Record<string, unknown>) =>
        this.record(trx, { actor: by, siteId, action, target: { type: 'user', id: userId }, changes: entryChanges });
      const { displayName, role, active } = diff(before, { displayName: input.displayName, role: input.role, active: input.active });
      if (displayName) await entry('user.update', { displayName });
      if (role) await entry('user.role', { role });
      if (active) await entry('user.active', { active, ...(ended ? { sessionsEnded: ended } : {}) });
      if (input.password !== undefined) await entry('user.password', { password: CHANGED, ...(ended ? { sessionsEnded: ended } : {}) });
    });
    return this.member(userId);
  }

  async addMember(siteId: string, userId: string, by: AuditActor): Promise<void> {
    await this.assertSite(siteId);
    await this.member(userId);
    await this.db.transaction().execute(async (trx) => {
      const added = await trx.insertInto('siteMembership').values({ siteId, userId }).onConflict((oc) => oc.doNothing()).returning('userId').executeTakeFirst();
      if (added) await this.record(trx, { actor: by, siteId, action: 'membership.add', target: { type: 'user', id: userId } });
    });
  }

  async removeMember(siteId: string, userId: string, by: AuditActor): Promise<void> {
    const open = await this.db.selectFrom('counter').select('number').where('siteId', '=', siteId).where('staffId', '=', userId)
      .where('status', '<>', 'closed').executeTakeFirst();
    if (open) throw new QueueError('COUNTER_IN_USE', `The official is working counter ${open.number}: close it first`, 409);
    await this.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('siteMembership').where('siteId', '=', siteId).where('userId', '=', userId).executeTakeFirst();
      if (!Number(removed.numDeletedRows)) throw new QueueError('USER_NOT_FOUND', `User ${userId} is not staff of this site`, 404);
      await this.record(trx, { actor: by, siteId, action: 'membership.remove', target: { type: 'user', id: userId } });
    });
  }

  // ---- devices ------------------------------------------------------------------------------

  async renameDevice(deviceId: string, name: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('device').select(['siteId', 'name']).where('id', '=', deviceId).forNoKeyUpdate().executeTakeFirst();
      if (!before) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
      await trx.updateTable('device').set({ name }).where('id', '=', deviceId).execute();
      await this.record(trx, { actor: by, siteId: before.siteId, action: 'device.update', target: { type: 'device', id: deviceId }, changes: diff(before, { name }) });
    });
  }

  // ---- internals ----------------------------------------------------------------------------

  private async sitesOfUsers(userIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (!userIds.length) return result;
    const rows = await this.db.selectFrom('siteMembership').select(['userId', 'siteId']).where('userId', 'in', userIds).execute();
    for (const r of rows) result.set(r.userId, [...(result.get(r.userId) ?? []), r.siteId]);
    return result;
  }

  /** Sets keys of site.settings (jsonb), leaving the others as they are; the keys that changed go to the audit log as `action`. */
  private async patchSettings(siteId: string, patch: Partial<SiteSettings>, by: AuditActor, action: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const site = await trx.selectFrom('site').select('settings').where('id', '=', siteId).forNoKeyUpdate().executeTakeFirst();
      if (!site) throw notFoundSite(siteId);
      await trx.updateTable('site').set({ settings: sql`settings || ${JSON.stringify(patch)}::jsonb` }).where('id', '=', siteId).execute();
      await this.record(trx, { actor: by, siteId, action, target: { type: 'site', id: siteId }, changes: diff(site.settings, patch) });
    });
  }

  /** An entry of a change, unless it changed nothing (an update's `changes` are empty). */
  private async record(trx: Kysely<Database>, entry: AuditRecord): Promise<void> {
    if (entry.changes && !Object.keys(entry.changes).length) return;
    await this.audit.record(entry, trx);
  }

  /** The site, locked for the rest of the transaction (two replacements of its lists do not interleave); 404 for none. */
  private async lockSite(siteId: string, trx: Kysely<Database>): Promise<void> {
    const site = await trx.selectFrom('site').select('id').where('id', '=', siteId).forNoKeyUpdate().executeTakeFirst();
    if (!site) throw notFoundSite(siteId);
  }

  private async assertSite(siteId: string, db: Pick<Db, 'selectFrom'> = this.db): Promise<void> {
    const site = await db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw notFoundSite(siteId);
  }
}

const notFoundSite = (siteId: string) => new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
