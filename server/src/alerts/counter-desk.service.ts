import { sql } from 'kysely';
import type { Db, TicketRow } from '@qms/db';
import { staffPhotoUrl, staffRef, type RatingRequest, type TodayFigures, type WaitingTicket } from '@qms/protocol';

export type { RatingRequest, TodayFigures, WaitingTicket };
import { QueueError } from '../queue/queue.errors.ts';
import { lastFinishedAt } from '../ratings/rating.service.ts';
import { localDate, zonedInstant } from '@qms/protocol/calendar';
import { toTicket } from '../queue/ticket.mapper.ts';
import { isoInZone, seconds } from '../queue/time.ts';

// Reads the counter terminal and the rating tablet need beyond the queue snapshot: the
// official's own figures of the day, the waiting list in call order, and the rating a tablet
// should ask for after it reconnects. Read-only; every rule of the queue stays in the engine.

const WAITING_LIMIT = 200;

function nextDay(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export class CounterDeskService {
  /** `ratingWindowSeconds`: how long after finishing a ticket may be rated (QMS_RATING_WINDOW_SECONDS) */
  constructor(private readonly db: Db, private readonly now: () => Date, private readonly ratingWindowSeconds: number) {}

  async counter(counterId: string) {
    const row = await this.db.selectFrom('counter').innerJoin('site', 'site.id', 'counter.siteId')
      .select(['counter.id', 'counter.siteId', 'counter.status', 'counter.staffId', 'site.timezone'])
      .where('counter.id', '=', counterId).executeTakeFirst();
    if (!row) throw new QueueError('COUNTER_NOT_FOUND', `No counter ${counterId}`, 404);
    return row;
  }

  /**
   * Figures of the official working the counter (or `fallbackStaffId` when it is closed) over the
   * site's local day: tickets count by when they were finished, ratings by the ticket they rate.
   */
  async today(counterId: string, options: { date?: string; fallbackStaffId?: string } = {}): Promise<TodayFigures> {
    const counter = await this.counter(counterId);
    const date = options.date ?? localDate(this.now(), counter.timezone);
    const staffId = (counter.status !== 'closed' ? counter.staffId : null) ?? options.fallbackStaffId ?? null;
    const empty: TodayFigures = { date, counterId, staff: null, served: 0, noShow: 0, serviceAvgSeconds: null, ratings: 0, ratingAvg: null };
    if (!staffId) return empty;
    const official = await this.db.selectFrom('appUser').leftJoin('staffPhoto', 'staffPhoto.userId', 'appUser.id')
      .select(['appUser.id', 'appUser.displayName', 'staffPhoto.etag']).where('appUser.id', '=', staffId).executeTakeFirst();
    if (!official) return empty;
    const staff = staffRef(official);
    const from = zonedInstant(date, '00:00', counter.timezone);
    const to = zonedInstant(nextDay(date), '00:00', counter.timezone);
    const { rows: [tickets] } = await sql<{ served: number; noShow: number; serviceAvgSeconds: number | null }>`
      SELECT count(*) FILTER (WHERE t.status = 'done')::int AS served,
        count(*) FILTER (WHERE t.status = 'no_show')::int AS "noShow",
        avg(extract(epoch FROM (t.finished_at - t.called_at))) FILTER (WHERE t.status = 'done')::float8 AS "serviceAvgSeconds"
      FROM ticket t
      WHERE t.site_id = ${counter.siteId} AND t.staff_id = ${staffId} AND t.status IN ('done', 'no_show')
        AND t.finished_at >= ${from} AND t.finished_at < ${to}`.execute(this.db);
    const { rows: [ratings] } = await sql<{ ratings: number; ratingAvg: number | null }>`
      SELECT count(*)::int AS ratings, avg(r.score)::float8 AS "ratingAvg"
      FROM rating r JOIN ticket t ON t.id = r.ticket_id
      WHERE r.site_id = ${counter.siteId} AND r.staff_id = ${staffId}
        AND t.finished_at >= ${from} AND t.finished_at < ${to}`.execute(this.db);
    return {
      ...empty,
      staff,
      served: tickets?.served ?? 0,
      noShow: tickets?.noShow ?? 0,
      serviceAvgSeconds: tickets?.serviceAvgSeconds ?? null,
      ratings: ratings?.ratings ?? 0,
      ratingAvg: ratings?.ratingAvg ?? null,
    };
  }

  /**
   * Waiting tickets of the site (of `serviceIds` when given) in the order counters call them:
   * priority groups first, then by when they entered the queue; with a strict service order the
   * services come in the order given. `position` is the ticket's place within its own service.
   */
  async waiting(siteId: string, serviceIds: string[] | undefined): Promise<{ total: number; tickets: WaitingTicket[] }> {
    const site = await this.db.selectFrom('site').select(['timezone', 'serviceOrder']).where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    const only = serviceIds?.length ? sql`AND t.service_id = ANY(${serviceIds}::uuid[])` : sql``;
    const strict = site.serviceOrder === 'strict' && serviceIds?.length ? sql`array_position(${serviceIds}::uuid[], t.service_id),` : sql``;
    // the total in the same statement (a window over every row, before the limit): counted
    // apart, a call in between made the list say "no one waiting … and 1 more"
    const { rows } = await sql<TicketRow & { waitingTotal: number }>`
      SELECT t.*, count(*) OVER ()::int AS waiting_total FROM ticket t
      WHERE t.site_id = ${siteId} AND t.status = 'waiting' ${only}
      ORDER BY ${strict} t.priority_rank IS NULL, t.priority_rank, t.queued_at, t.issued_at, t.number, t.id
      LIMIT ${WAITING_LIMIT}`.execute(this.db);
    const now = this.now();
    const ahead = new Map<string, number>();
    const tickets = rows.map(({ waitingTotal: _total, ...row }) => {
      const position = ahead.get(row.serviceId) ?? 0;
      ahead.set(row.serviceId, position + 1);
      const queuedAt = new Date(row.queuedAt);
      return {
        ...toTicket(row, site.timezone, { position }),
        queuedAt: isoInZone(queuedAt, site.timezone),
        waitedSeconds: Math.max(0, seconds(waitingSince(row), now)),
      };
    });
    return { total: rows[0]?.waitingTotal ?? 0, tickets };
  }

  /**
   * The ticket this counter finished last, while it may still be rated and nobody has: the one
   * its last `rating:requested` asked about (an earlier one is never asked for again, see
   * ratings/rating.service.ts).
   */
  async ratingRequest(counterId: string): Promise<RatingRequest | null> {
    const counter = await this.counter(counterId);
    const last = await lastFinishedAt(this.db, counterId);
    if (!last?.finishedAt || this.now().getTime() > last.finishedAt.getTime() + this.ratingWindowSeconds * 1000) return null;
    const row = await this.db.selectFrom('ticket')
      .leftJoin('appUser', 'appUser.id', 'ticket.staffId')
      .leftJoin('staffPhoto', 'staffPhoto.userId', 'ticket.staffId')
      .select(['ticket.id', 'ticket.code', 'ticket.staffId', 'appUser.displayName', 'staffPhoto.etag'])
      .where('ticket.id', '=', last.id)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('rating').select('rating.id').whereRef('rating.ticketId', '=', 'ticket.id'))))
      .executeTakeFirst();
    if (!row) return null;
    return {
      ticketId: row.id, counterId, code: row.code,
      staff: { displayName: row.displayName ?? '', ...(row.staffId && row.etag ? { photoUrl: staffPhotoUrl(row.staffId, row.etag) } : {}) },
      finishedAt: isoInZone(last.finishedAt, counter.timezone),
    };
  }
}

/**
 * Since when a ticket has waited: its place in line, except for a booked or remote ticket, whose
 * place (its slot less the walk-in cap, or when it was taken from away) is not when its holder
 * arrived: they have waited since their check-in. A transfer puts any ticket in line anew.
 */
export function waitingSince(row: { queuedAt: Date; issuedAt: Date; bookingKind: string | null; transferCount: number }): Date {
  return new Date(row.bookingKind && row.transferCount === 0 ? row.issuedAt : row.queuedAt);
}
