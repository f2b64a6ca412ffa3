import type { Db } from '@qms/db';
import type { Committed } from '../app/after-commit.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { alertsDue, event, type DomainEvent } from '../queue/queue.events.ts';
import { isoInZone } from '../queue/time.ts';

export interface RatingInput {
  ticketId: string;
  score: number;
  reason?: string;
  comment?: string;
  /** the rating device, when rated at the counter; its counter must be the one that served */
  device?: { id: string; counterId: string | null };
  channel: 'tablet' | 'phone';
}

export interface RatingOptions {
  /** the engine's clock: the window runs from the ticket's finishedAt, which that clock wrote */
  clock: () => Date;
  /** how long after finishing a ticket may be rated (QMS_RATING_WINDOW_SECONDS) */
  windowSeconds: number;
}

export interface RatedTicket {
  id: string;
  ticketId: string;
  score: number;
  reason: string | null;
  createdAt: string;
  siteId: string;
  counterId: string | null;
}

/**
 * One rating per served ticket, tied to the official and the counter that served it.
 *
 * Who may rate what: a tablet rates only the ticket its counter finished last (the one its last
 * `rating:requested` asked about), so an official cannot tap through their own earlier,
 * unrated tickets once the citizen has gone; the phone page rates its own ticket, whichever
 * came after it at the counter. Both only within the window after the ticket was finished: the
 * citizen rates on leaving the counter, not at the end of the day. The phone's key (the
 * ticket's publicId) also reaches the counter's screens, so the window binds it too.
 */
export class RatingService {
  constructor(private readonly db: Db, private readonly options: RatingOptions) {}

  get windowSeconds(): number {
    return this.options.windowSeconds;
  }

  /** Until when a ticket finished at `finishedAt` may be rated. */
  openUntil(finishedAt: Date): Date {
    return new Date(finishedAt.getTime() + this.options.windowSeconds * 1000);
  }

  /** What the phone page shows of a served ticket's rating: done already, open until when, or neither (too late). */
  async publicState(publicId: string): Promise<{ rated?: boolean; ratingOpenUntil?: string }> {
    const row = await this.db.selectFrom('ticket').innerJoin('site', 'site.id', 'ticket.siteId')
      .leftJoin('rating', 'rating.ticketId', 'ticket.id')
      .select(['ticket.status', 'ticket.finishedAt', 'site.timezone', 'rating.id as ratingId'])
      .where('ticket.publicId', '=', publicId).executeTakeFirst();
    if (!row || row.status !== 'done' || !row.finishedAt) return {};
    if (row.ratingId) return { rated: true };
    const openUntil = this.openUntil(row.finishedAt);
    // past the window the page stops offering its form: by the server's clock, not the phone's
    return this.options.clock() > openUntil ? { rated: false } : { rated: false, ratingOpenUntil: isoInZone(openUntil, row.timezone) };
  }

  /**
   * Rates a served ticket. Its events: `rating:created` to the counter's screens (a tablet or a
   * phone page still asking stops), and the alert the lowest score raised.
   */
  async rate(input: RatingInput): Promise<Committed<RatedTicket>> {
    return this.db.transaction().execute(async (trx) => {
      const ticket = await trx.selectFrom('ticket').select(['id', 'siteId', 'status', 'counterId', 'staffId', 'code', 'finishedAt'])
        .where('id', '=', input.ticketId).forUpdate().executeTakeFirst();
      if (!ticket) throw new QueueError('TICKET_NOT_FOUND', `No ticket ${input.ticketId}`, 404);
      if (input.device && input.device.counterId !== ticket.counterId) {
        throw new QueueError('FORBIDDEN', `${ticket.code} was not served at this device's counter`, 403);
      }
      if (ticket.status !== 'done' || !ticket.finishedAt) throw new QueueError('TICKET_NOT_SERVED', `${ticket.code} has not been served yet`, 409);
      const site = await trx.selectFrom('site').select(['settings', 'timezone']).where('id', '=', ticket.siteId).executeTakeFirstOrThrow();
      const scale = site.settings.ratingScale?.length ? site.settings.ratingScale
        : [{ score: 3 }, { score: 2 }, { score: 1, asksReason: true }];
      const level = scale.find((l) => l.score === input.score);
      if (!level) throw new QueueError('INVALID_SCORE', `Score ${input.score} is not on this site's scale`, 400);
      const reasons = site.settings.ratingReasons ?? [];
      if (input.reason && reasons.length && !reasons.some((r) => r.code === input.reason)) {
        throw new QueueError('INVALID_REASON', `Unknown reason "${input.reason}"`, 400);
      }
      // rated on the other channel first: the plainest answer for both the tablet and the phone
      const existing = await trx.selectFrom('rating').select('channel').where('ticketId', '=', ticket.id).executeTakeFirst();
      if (existing) throw new QueueError('ALREADY_RATED', `${ticket.code} has already been rated`, 409, { code: ticket.code, channel: existing.channel });
      if (input.device && ticket.counterId) {
        const last = await lastFinishedAt(trx, ticket.counterId);
        if (last && last.id !== ticket.id) {
          throw new QueueError('RATING_NOT_OFFERED', `${ticket.code} is not the ticket this counter finished last (${last.code}): only that one is rated here`, 409,
            { code: ticket.code, lastCode: last.code });
        }
      }
      const openUntil = this.openUntil(ticket.finishedAt);
      if (this.options.clock() > openUntil) {
        throw new QueueError('RATING_WINDOW_CLOSED', `${ticket.code} was finished more than ${this.options.windowSeconds} s ago: it can no longer be rated`, 409,
          { code: ticket.code, openUntil: isoInZone(openUntil, site.timezone) });
      }
      const rating = await trx.insertInto('rating')
        .values({
          ticketId: ticket.id, siteId: ticket.siteId, counterId: ticket.counterId, staffId: ticket.staffId, score: input.score,
          reason: input.reason ?? null, comment: input.comment ?? null, channel: input.channel, deviceId: input.device?.id ?? null,
        })
        .onConflict((oc) => oc.column('ticketId').doNothing())
        .returning(['id', 'ticketId', 'score', 'reason', 'createdAt']).executeTakeFirst();
      if (!rating) throw new QueueError('ALREADY_RATED', `${ticket.code} has already been rated`, 409, { code: ticket.code });
      const events: DomainEvent[] = ticket.counterId
        ? [event('rating:created', ticket.siteId, { ticketId: ticket.id, counterId: ticket.counterId, channel: input.channel }, ticket.counterId)]
        : [];
      const lowest = Math.min(...scale.map((l) => l.score));
      if (input.score === lowest) {
        const alert = await trx.insertInto('alert').values({
          siteId: ticket.siteId, kind: 'low_rating', counterId: ticket.counterId, staffId: ticket.staffId, ticketId: ticket.id,
          deviceId: input.device?.id ?? null, data: JSON.stringify({ score: input.score, reason: input.reason ?? null, code: ticket.code }),
          acknowledgedAt: null, acknowledgedBy: null,
        }).returning('id').executeTakeFirstOrThrow();
        events.push(alertsDue(ticket.siteId, [alert.id]));
      }
      const value = {
        id: rating.id, ticketId: rating.ticketId, score: rating.score, reason: rating.reason, createdAt: rating.createdAt.toISOString(),
        siteId: ticket.siteId, counterId: ticket.counterId,
      };
      return { value, events };
    });
  }

  /** The phone page's rating: its ticket by the key in the QR code. */
  async rateByPublicId(publicId: string, input: Omit<RatingInput, 'ticketId' | 'device' | 'channel'>): Promise<Committed<RatedTicket>> {
    const ticket = await this.db.selectFrom('ticket').select('id').where('publicId', '=', publicId).executeTakeFirst();
    if (!ticket) throw new QueueError('TICKET_NOT_FOUND', 'No such ticket', 404);
    return this.rate({ ...input, ticketId: ticket.id, channel: 'phone' });
  }
}

/**
 * The ticket a counter finished last: the one its last `rating:requested` was about, and so the
 * only one its tablet may rate. (Finishing is the only way a ticket becomes `done`.)
 */
export async function lastFinishedAt(db: Db, counterId: string) {
  return db.selectFrom('ticket').select(['id', 'code', 'finishedAt'])
    .where('counterId', '=', counterId).where('status', '=', 'done')
    .orderBy('finishedAt', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}
