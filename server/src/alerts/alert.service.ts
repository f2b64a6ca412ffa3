import { sql, type Selectable } from 'kysely';
import type { AlertTable, CaseStatus, Db } from '@qms/db';
import type { Alert, CaseEvent } from '@qms/protocol';
import type { Committed } from '../app/after-commit.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { event } from '../queue/queue.events.ts';
import { lastFinishedAt } from '../ratings/rating.service.ts';
import { isoInZone } from '../queue/time.ts';

// Alerts a manager must see at once: a citizen's criticism pressed on a rating tablet or kiosk,
// the lowest rating (inserted by the rating service), a kiosk printer failing (the printing
// service), a wait past its service's target and a device gone offline (monitor/). Rows are
// kept; acknowledging records who looked at it and when, it never deletes.

type AlertRow = Selectable<AlertTable>;

/** An alert as managers see it (HTTP and the `alert:raised` socket event): protocol's Alert. */
export type AlertDto = Alert;

/** Kinds that are a citizen's complaint: they take a case (owner, status, resolution note). */
export const COMPLAINT_KINDS = ['criticism', 'low_rating'];
/** Kinds about equipment and channels, shown apart from complaints in the console. */
export const DEVICE_ALERT_KINDS = ['printer', 'device_offline', 'channel_failing', 'webhook_failed'];
export type AlertGroup = 'complaints' | 'devices' | 'waits';
const KINDS_OF_GROUP: Record<AlertGroup, string[]> = { complaints: COMPLAINT_KINDS, devices: DEVICE_ALERT_KINDS, waits: ['wait_over_target'] };

/** Kinds whose alert names a device (the printer's kiosk, the device offline). */
const DEVICE_KINDS = new Set(['printer', 'device_offline']);

export type CriticismSource =
  | { kind: 'device'; deviceId: string; siteId: string; counterId: string | null }
  | { kind: 'staff'; staffId: string; siteIds: string[] };

export class AlertService {
  /**
   * @param ticketWindowSeconds how long after a ticket is finished at a counter a criticism
   * from that counter is still about it (the rating window)
   */
  constructor(private readonly db: Db, private readonly now: () => Date, private readonly ticketWindowSeconds = 0) {}

  /**
   * Records a criticism. The counter is the device's (a rating tablet), or the one the official
   * works; the official is whoever works that counter at this moment, so the manager knows whom
   * it is about even when no ticket was just served.
   */
  async raiseCriticism(source: CriticismSource, comment: string | undefined): Promise<Committed<AlertDto>> {
    let siteId: string;
    let counterId: string | null;
    if (source.kind === 'device') {
      siteId = source.siteId;
      counterId = source.counterId;
    } else {
      const working = await this.db.selectFrom('counter').select(['id', 'siteId'])
        .where('staffId', '=', source.staffId).where('status', '<>', 'closed').executeTakeFirst();
      if (working) {
        siteId = working.siteId;
        counterId = working.id;
      } else if (source.siteIds.length === 1) {
        siteId = source.siteIds[0]!;
        counterId = null;
      } else {
        throw new QueueError('COUNTER_NOT_OPEN', 'Open a counter first, so the criticism reaches the right site', 409);
      }
    }
    let staffId: string | null = null;
    let ticketId: string | null = null;
    if (counterId) {
      const counter = await this.db.selectFrom('counter').select(['staffId', 'status']).where('id', '=', counterId).executeTakeFirst();
      staffId = counter && counter.status !== 'closed' ? counter.staffId : null;
      ticketId = await this.visitAtCounter(counterId);
    }
    const text = comment?.trim() ? comment.trim() : null;
    const row = await this.db.insertInto('alert').values({
      siteId, kind: 'criticism', counterId, staffId, ticketId,
      deviceId: source.kind === 'device' ? source.deviceId : null,
      data: JSON.stringify({ comment: text, ...(source.kind === 'staff' ? { reportedBy: source.staffId } : {}) }),
      createdAt: this.now(), acknowledgedAt: null, acknowledgedBy: null,
    }).returningAll().executeTakeFirstOrThrow();
    const alert = (await this.describe([row]))[0]!;
    // stored first, then sent (a console that missed the event lists it on its next load)
    return { value: alert, events: [event('alert:raised', alert.siteId, { alert })] };
  }

  /**
   * The visit a criticism from a counter is about, so it reaches the dossier's record: the ticket
   * being served there, else the one just finished there (within the rating window), else none.
   */
  private async visitAtCounter(counterId: string): Promise<string | null> {
    const serving = await this.db.selectFrom('ticket').select('id').where('counterId', '=', counterId)
      .where('status', 'in', ['called', 'serving']).orderBy('calledAt', 'desc').limit(1).executeTakeFirst();
    if (serving) return serving.id;
    const last = await lastFinishedAt(this.db, counterId);
    const recent = last?.finishedAt && this.now().getTime() <= last.finishedAt.getTime() + this.ticketWindowSeconds * 1000;
    return recent ? last.id : null;
  }

  /**
   * Alerts raised elsewhere (alert:due), to publish now: each is marked published in the same
   * statement, so of this and the site monitor's sweep only one ever sends it. Acknowledged
   * ones are not sent.
   */
  async claimForPublishing(ids: string[]): Promise<AlertDto[]> {
    if (!ids.length) return [];
    const rows = await this.db.updateTable('alert').set({ data: sql`data || '{"published": true}'::jsonb` })
      .where('id', 'in', ids).where('acknowledgedAt', 'is', null).where(sql<boolean>`NOT jsonb_exists(data, 'published')`)
      .returningAll().execute();
    return this.describe(rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()));
  }

  /** Alerts by id, described (for publishing alerts inserted elsewhere). */
  async byIds(ids: string[]): Promise<AlertDto[]> {
    if (!ids.length) return [];
    const rows = await this.db.selectFrom('alert').selectAll().where('id', 'in', ids).orderBy('createdAt').execute();
    return this.describe(rows);
  }

  /** The low_rating alert the rating of this ticket raised, if it raised one. */
  async lowRatingOf(ticketId: string): Promise<AlertDto | undefined> {
    const rows = await this.db.selectFrom('alert').selectAll().where('ticketId', '=', ticketId).where('kind', '=', 'low_rating')
      .orderBy('createdAt', 'desc').limit(1).execute();
    return (await this.describe(rows))[0];
  }

  /**
   * The site's alerts, newest first. openOnly: not acknowledged. group or kinds: complaints
   * apart from devices and waits; unresolved: complaints whose case is not resolved (an
   * acknowledged complaint may still be under investigation).
   */
  async list(siteId: string, options: { openOnly: boolean; limit: number; group?: AlertGroup; kinds?: string[]; unresolved?: boolean }): Promise<AlertDto[]> {
    let query = this.db.selectFrom('alert').selectAll().where('siteId', '=', siteId);
    if (options.openOnly) query = query.where('acknowledgedAt', 'is', null);
    if (options.unresolved) {
      query = query.where('kind', 'in', COMPLAINT_KINDS).where((eb) => eb.or([eb('caseStatus', 'is', null), eb('caseStatus', '<>', 'resolved')]));
    }
    if (options.group) query = query.where('kind', 'in', KINDS_OF_GROUP[options.group]);
    if (options.kinds?.length) query = query.where('kind', 'in', options.kinds);
    const rows = await query.orderBy('createdAt', 'desc').orderBy('id').limit(options.limit).execute();
    return this.describe(rows);
  }

  async siteOf(alertId: string): Promise<string> {
    const row = await this.db.selectFrom('alert').select('siteId').where('id', '=', alertId).executeTakeFirst();
    if (!row) throw new QueueError('ALERT_NOT_FOUND', `No alert ${alertId}`, 404);
    return row.siteId;
  }

  /**
   * Marks the alert seen by this manager. The first acknowledgement stands: a second manager
   * pressing at the same moment gets the alert back with the first one's name and time.
   */
  async acknowledge(alertId: string, userId: string): Promise<Committed<AlertDto>> {
    const updated = await this.db.updateTable('alert').set({ acknowledgedAt: this.now(), acknowledgedBy: userId })
      .where('id', '=', alertId).where('acknowledgedAt', 'is', null).returningAll().executeTakeFirst();
    const row = updated ?? await this.db.selectFrom('alert').selectAll().where('id', '=', alertId).executeTakeFirst();
    if (!row) throw new QueueError('ALERT_NOT_FOUND', `No alert ${alertId}`, 404);
    const alert = (await this.describe([row]))[0]!;
    return { value: alert, events: updated ? [event('alert:acknowledged', alert.siteId, { alert })] : [] };
  }

  /**
   * A complaint's case: who handles it, new → investigating → resolved, and a note. Each change
   * is kept (alert_case_event). Taking a case acknowledges the alert. The owner must be staff of
   * the site; resolving takes a note.
   */
  async updateCase(alertId: string, update: { status?: CaseStatus; ownerId?: string | null; note?: string }, userId: string): Promise<Committed<AlertDto>> {
    const row = await this.db.selectFrom('alert').selectAll().where('id', '=', alertId).executeTakeFirst();
    if (!row) throw new QueueError('ALERT_NOT_FOUND', `No alert ${alertId}`, 404);
    if (!COMPLAINT_KINDS.includes(row.kind)) throw new QueueError('NOT_A_COMPLAINT', 'Only a criticism or a low rating has a case', 409);
    if (update.ownerId) {
      const member = await this.db.selectFrom('appUser').leftJoin('siteMembership', (j) => j.onRef('siteMembership.userId', '=', 'appUser.id').on('siteMembership.siteId', '=', row.siteId))
        .select(['appUser.role', 'siteMembership.siteId']).where('appUser.id', '=', update.ownerId).executeTakeFirst();
      if (!member || (member.role !== 'admin' && !member.siteId)) throw new QueueError('USER_NOT_FOUND', 'The owner must be staff of this site', 400);
    }
    const note = update.note?.trim() || null;
    const status = update.status ?? row.caseStatus ?? 'new';
    if (status === 'resolved' && !note && !row.resolutionNote) throw new QueueError('VALIDATION_FAILED', 'Say how it was resolved (note)', 400);
    const now = this.now();
    const updated = await this.db.transaction().execute(async (trx) => {
      const changed = await trx.updateTable('alert').set({
        caseStatus: status,
        ...(update.ownerId !== undefined ? { caseOwnerId: update.ownerId } : {}),
        ...(status === 'resolved' && note ? { resolutionNote: note } : {}),
        ...(row.acknowledgedAt ? {} : { acknowledgedAt: now, acknowledgedBy: userId }),
      }).where('id', '=', alertId).returningAll().executeTakeFirstOrThrow();
      await trx.insertInto('alertCaseEvent').values({ alertId, at: now, byId: userId, status, ownerId: changed.caseOwnerId, note }).execute();
      return changed;
    });
    const alert = (await this.describe([updated]))[0]!;
    return { value: alert, events: row.acknowledgedAt ? [] : [event('alert:acknowledged', alert.siteId, { alert })] };
  }

  async caseHistory(alertId: string): Promise<CaseEvent[]> {
    const rows = await this.db.selectFrom('alertCaseEvent')
      .innerJoin('alert', 'alert.id', 'alertCaseEvent.alertId').innerJoin('site', 'site.id', 'alert.siteId')
      .leftJoin('appUser as by', 'by.id', 'alertCaseEvent.byId').leftJoin('appUser as owner', 'owner.id', 'alertCaseEvent.ownerId')
      .select(['alertCaseEvent.at', 'alertCaseEvent.status', 'alertCaseEvent.note', 'site.timezone', 'by.id as byId', 'by.displayName as byName', 'owner.id as ownerId', 'owner.displayName as ownerName'])
      .where('alertCaseEvent.alertId', '=', alertId).orderBy('alertCaseEvent.at').orderBy('alertCaseEvent.id').execute();
    return rows.map((r) => ({
      at: isoInZone(r.at, r.timezone), status: r.status, note: r.note,
      by: r.byId ? { id: r.byId, displayName: r.byName ?? '' } : null,
      owner: r.ownerId ? { id: r.ownerId, displayName: r.ownerName ?? '' } : null,
    }));
  }

  async describe(rows: AlertRow[]): Promise<AlertDto[]> {
    if (!rows.length) return [];
    const ids = (pick: (r: AlertRow) => string | null) => [...new Set(rows.map(pick).filter((v): v is string => !!v))];
    const counterIds = ids((r) => r.counterId);
    const userIds = ids((r) => r.staffId).concat(ids((r) => r.acknowledgedBy), ids((r) => r.caseOwnerId));
    const ticketIds = ids((r) => r.ticketId);
    const siteIds = ids((r) => r.siteId);
    const deviceIds = ids((r) => (DEVICE_KINDS.has(r.kind) ? r.deviceId : null));
    const serviceIds = ids((r) => (typeof r.data?.serviceId === 'string' ? r.data.serviceId : null));
    const [counters, users, tickets, sites, devices, services] = await Promise.all([
      counterIds.length ? this.db.selectFrom('counter').select(['id', 'number', 'name']).where('id', 'in', counterIds).execute() : [],
      userIds.length ? this.db.selectFrom('appUser').select(['id', 'displayName']).where('id', 'in', userIds).execute() : [],
      ticketIds.length ? this.db.selectFrom('ticket').select(['id', 'code']).where('id', 'in', ticketIds).execute() : [],
      this.db.selectFrom('site').select(['id', 'timezone']).where('id', 'in', siteIds).execute(),
      deviceIds.length ? this.db.selectFrom('device').select(['id', 'kind', 'name']).where('id', 'in', deviceIds).execute() : [],
      serviceIds.length ? this.db.selectFrom('service').select(['id', 'code', 'name']).where('id', 'in', serviceIds).execute() : [],
    ]);
    const counter = new Map(counters.map((c) => [c.id, c]));
    const user = new Map(users.map((u) => [u.id, u]));
    const ticket = new Map(tickets.map((t) => [t.id, t]));
    const zone = new Map(sites.map((s) => [s.id, s.timezone]));
    const device = new Map(devices.map((d) => [d.id, d]));
    const service = new Map(services.map((s) => [s.id, s]));
    return rows.map((r) => {
      const tz = zone.get(r.siteId) ?? 'Asia/Ho_Chi_Minh';
      const data = (r.data ?? {}) as Record<string, unknown>;
      const instant = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? isoInZone(new Date(v), tz) : undefined);
      const alert: AlertDto = {
        id: r.id,
        siteId: r.siteId,
        kind: r.kind,
        createdAt: isoInZone(r.createdAt, tz),
        counter: (r.counterId && counter.get(r.counterId)) || null,
        staff: (r.staffId && user.get(r.staffId)) || null,
        ticket: (r.ticketId && ticket.get(r.ticketId)) || null,
        deviceId: r.deviceId,
        comment: typeof data.comment === 'string' ? data.comment : null,
        score: typeof data.score === 'number' ? data.score : null,
        reason: typeof data.reason === 'string' ? data.reason : null,
        acknowledgedAt: r.acknowledgedAt ? isoInZone(r.acknowledgedAt, tz) : null,
        acknowledgedBy: (r.acknowledgedBy && user.get(r.acknowledgedBy)) || null,
      };
      // fields of particular kinds: present only when they say something
      const sv = typeof data.serviceId === 'string' ? service.get(data.serviceId) : undefined;
      if (sv) alert.service = sv;
      const dv = DEVICE_KINDS.has(r.kind) && r.deviceId ? device.get(r.deviceId) : undefined;
      if (dv) alert.device = dv;
      if (typeof data.waitSeconds === 'number') alert.waitSeconds = data.waitSeconds;
      if (typeof data.targetWaitSeconds === 'number') alert.targetWaitSeconds = data.targetWaitSeconds;
      if (r.kind === 'printer' && typeof data.count === 'number') alert.count = data.count;
      const lastSeenAt = instant(data.lastSeenAt);
      if (lastSeenAt) alert.lastSeenAt = lastSeenAt;
      const clearedAt = instant(data.clearedAt);
      if (clearedAt) alert.clearedAt = clearedAt;
      if (typeof data.channel === 'string') alert.channel = data.channel;
      if (COMPLAINT_KINDS.includes(r.kind)) {
        alert.case = { status: r.caseStatus ?? 'new', owner: (r.caseOwnerId && user.get(r.caseOwnerId)) || null, resolutionNote: r.resolutionNote };
      }
      return alert;
    });
  }
}
