import type { Selectable } from 'kysely';
import type { AlertTable, Db } from '@qms/db';
import { QueueError } from '../queue/queue.errors.ts';
import { isoInZone } from '../queue/time.ts';

// Alerts a manager must see at once: a citizen's criticism pressed on a rating tablet or kiosk,
// and (inserted by the rating service) the lowest rating. Rows are kept; acknowledging records
// who looked at it and when, it never deletes.

type AlertRow = Selectable<AlertTable>;

/** An alert as managers see it (HTTP and the `alert:raised` socket event). */
export interface AlertDto {
  id: string;
  siteId: string;
  kind: string;
  createdAt: string;
  counter: { id: string; number: number; name: string } | null;
  staff: { id: string; displayName: string } | null;
  ticket: { id: string; code: string } | null;
  deviceId: string | null;
  comment: string | null;
  /** low_rating alerts: the score and reason given */
  score: number | null;
  reason: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; displayName: string } | null;
}

export type CriticismSource =
  | { kind: 'device'; deviceId: string; siteId: string; counterId: string | null }
  | { kind: 'staff'; staffId: string; siteIds: string[] };

export class AlertService {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /**
   * Records a criticism. The counter is the device's (a rating tablet), or the one the official
   * works; the official is whoever works that counter at this moment, so the manager knows whom
   * it is about even when no ticket was just served.
   */
  async raiseCriticism(source: CriticismSource, comment: string | undefined): Promise<AlertDto> {
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
    if (counterId) {
      const counter = await this.db.selectFrom('counter').select(['staffId', 'status']).where('id', '=', counterId).executeTakeFirst();
      staffId = counter && counter.status !== 'closed' ? counter.staffId : null;
    }
    const text = comment?.trim() ? comment.trim() : null;
    const row = await this.db.insertInto('alert').values({
      siteId, kind: 'criticism', counterId, staffId, ticketId: null,
      deviceId: source.kind === 'device' ? source.deviceId : null,
      data: JSON.stringify({ comment: text, ...(source.kind === 'staff' ? { reportedBy: source.staffId } : {}) }),
      createdAt: this.now(), acknowledgedAt: null, acknowledgedBy: null,
    }).returningAll().executeTakeFirstOrThrow();
    return (await this.describe([row]))[0]!;
  }

  async list(siteId: string, options: { openOnly: boolean; limit: number }): Promise<AlertDto[]> {
    let query = this.db.selectFrom('alert').selectAll().where('siteId', '=', siteId);
    if (options.openOnly) query = query.where('acknowledgedAt', 'is', null);
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
  async acknowledge(alertId: string, userId: string): Promise<{ alert: AlertDto; changed: boolean }> {
    const updated = await this.db.updateTable('alert').set({ acknowledgedAt: this.now(), acknowledgedBy: userId })
      .where('id', '=', alertId).where('acknowledgedAt', 'is', null).returningAll().executeTakeFirst();
    const row = updated ?? await this.db.selectFrom('alert').selectAll().where('id', '=', alertId).executeTakeFirst();
    if (!row) throw new QueueError('ALERT_NOT_FOUND', `No alert ${alertId}`, 404);
    return { alert: (await this.describe([row]))[0]!, changed: !!updated };
  }

  private async describe(rows: AlertRow[]): Promise<AlertDto[]> {
    if (!rows.length) return [];
    const ids = (pick: (r: AlertRow) => string | null) => [...new Set(rows.map(pick).filter((v): v is string => !!v))];
    const counterIds = ids((r) => r.counterId);
    const userIds = ids((r) => r.staffId).concat(ids((r) => r.acknowledgedBy));
    const ticketIds = ids((r) => r.ticketId);
    const siteIds = ids((r) => r.siteId);
    const [counters, users, tickets, sites] = await Promise.all([
      counterIds.length ? this.db.selectFrom('counter').select(['id', 'number', 'name']).where('id', 'in', counterIds).execute() : [],
      userIds.length ? this.db.selectFrom('appUser').select(['id', 'displayName']).where('id', 'in', userIds).execute() : [],
      ticketIds.length ? this.db.selectFrom('ticket').select(['id', 'code']).where('id', 'in', ticketIds).execute() : [],
      this.db.selectFrom('site').select(['id', 'timezone']).where('id', 'in', siteIds).execute(),
    ]);
    const counter = new Map(counters.map((c) => [c.id, c]));
    const user = new Map(users.map((u) => [u.id, u]));
    const ticket = new Map(tickets.map((t) => [t.id, t]));
    const zone = new Map(sites.map((s) => [s.id, s.timezone]));
    return rows.map((r) => {
      const tz = zone.get(r.siteId) ?? 'Asia/Ho_Chi_Minh';
      const data = (r.data ?? {}) as { comment?: unknown; score?: unknown; reason?: unknown };
      return {
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
    });
  }
}
