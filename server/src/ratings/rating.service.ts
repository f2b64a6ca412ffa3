import type { Db } from '@qms/db';
import { QueueError } from '../queue/queue.errors.ts';

export interface RatingInput {
  ticketId: string;
  score: number;
  reason?: string;
  comment?: string;
  /** the rating device, when rated at the counter; its counter must be the one that served */
  device?: { id: string; counterId: string | null };
  channel: 'tablet' | 'phone';
}

/** One rating per served ticket, tied to the official and the counter that served it. */
export class RatingService {
  constructor(private readonly db: Db) {}

  async rate(input: RatingInput) {
    return this.db.transaction().execute(async (trx) => {
      const ticket = await trx.selectFrom('ticket').select(['id', 'siteId', 'status', 'counterId', 'staffId', 'code'])
        .where('id', '=', input.ticketId).forUpdate().executeTakeFirst();
      if (!ticket) throw new QueueError('TICKET_NOT_FOUND', `No ticket ${input.ticketId}`, 404);
      if (input.device && input.device.counterId !== ticket.counterId) {
        throw new QueueError('FORBIDDEN', `${ticket.code} was not served at this device's counter`, 403);
      }
      if (ticket.status !== 'done') throw new QueueError('TICKET_NOT_SERVED', `${ticket.code} has not been served yet`, 409);
      const site = await trx.selectFrom('site').select('settings').where('id', '=', ticket.siteId).executeTakeFirstOrThrow();
      const scale = site.settings.ratingScale?.length ? site.settings.ratingScale
        : [{ score: 3 }, { score: 2 }, { score: 1, asksReason: true }];
      const level = scale.find((l) => l.score === input.score);
      if (!level) throw new QueueError('INVALID_SCORE', `Score ${input.score} is not on this site's scale`, 400);
      const reasons = site.settings.ratingReasons ?? [];
      if (input.reason && reasons.length && !reasons.some((r) => r.code === input.reason)) {
        throw new QueueError('INVALID_REASON', `Unknown reason "${input.reason}"`, 400);
      }
      const existing = await trx.selectFrom('rating').select('id').where('ticketId', '=', ticket.id).executeTakeFirst();
      if (existing) throw new QueueError('ALREADY_RATED', `${ticket.code} has already been rated`, 409);
      const rating = await trx.insertInto('rating')
        .values({
          ticketId: ticket.id, siteId: ticket.siteId, counterId: ticket.counterId, staffId: ticket.staffId, score: input.score,
          reason: input.reason ?? null, comment: input.comment ?? null, channel: input.channel, deviceId: input.device?.id ?? null,
        })
        .onConflict((oc) => oc.column('ticketId').doNothing())
        .returning(['id', 'ticketId', 'score', 'reason', 'createdAt']).executeTakeFirst();
      if (!rating) throw new QueueError('ALREADY_RATED', `${ticket.code} has already been rated`, 409);
      const lowest = Math.min(...scale.map((l) => l.score));
      if (input.score === lowest) {
        await trx.insertInto('alert').values({
          siteId: ticket.siteId, kind: 'low_rating', counterId: ticket.counterId, staffId: ticket.staffId, ticketId: ticket.id,
          deviceId: input.device?.id ?? null, data: JSON.stringify({ score: input.score, reason: input.reason ?? null, code: ticket.code }),
          acknowledgedAt: null, acknowledgedBy: null,
        }).execute();
      }
      return { id: rating.id, ticketId: rating.ticketId, score: rating.score, reason: rating.reason, createdAt: rating.createdAt.toISOString() };
    });
  }
}
