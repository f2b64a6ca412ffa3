import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CounterParams, SiteParams, StaffRef, Ticket } from '@qms/protocol';
import { deviceOfSite, staffOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';
import { QueueError } from '../queue/queue.errors.ts';

// Reads of the counter terminal and the rating tablet (extensions of API.md). One service
// call per route.

const strict = { additionalProperties: false } as const;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const Instant = Type.String({ format: 'date-time' });

const TodayQuery = Type.Object({
  date: Type.Optional(Type.String({ pattern: '^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', description: "the site's local date (years 2000 to 2999); default today" })),
}, strict);

/**
 * The pattern lets 2026-02-31 through, which the local-midnight arithmetic would roll into
 * March and answer for as if it were a day. (Years outside 2000-2999, which the pattern now
 * refuses, were a 500 from the date formatting.)
 */
function assertDay(date: string): void {
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
    throw new QueueError('VALIDATION_FAILED', `${date} is not a day of the calendar`, 400);
  }
}
export const TodayFigures = Type.Object({
  date: Type.String(),
  counterId: Type.String(),
  staff: Type.Union([StaffRef, Type.Null()]),
  served: Type.Integer(),
  noShow: Type.Integer(),
  serviceAvgSeconds: Type.Union([Type.Number(), Type.Null()]),
  ratings: Type.Integer(),
  ratingAvg: Type.Union([Type.Number(), Type.Null()]),
});
const WaitingQuery = Type.Object({
  serviceIds: Type.Optional(Type.String({ pattern: `^${UUID}(,${UUID}){0,49}$`, description: 'comma-separated service ids' })),
}, strict);
export const WaitingTicket = Type.Object({
  ...Ticket.properties,
  queuedAt: Instant,
  waitedSeconds: Type.Number(),
});
const WaitingReply = Type.Object({ total: Type.Integer(), tickets: Type.Array(WaitingTicket) });
export const RatingRequest = Type.Object({
  ticketId: Type.String(), counterId: Type.String(), code: Type.String(),
  staff: Type.Object({ displayName: Type.String(), photoUrl: Type.Optional(Type.String()) }), finishedAt: Instant,
});

export const counterDeskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { desk } = app.services;

  /** Today's figures of the official working this counter (the caller, if it is closed). */
  app.get('/counters/:counterId/today', {
    schema: { tags: ['counters'], params: CounterParams, querystring: TodayQuery, response: { 200: TodayFigures, ...errors } },
  }, async (request) => {
    const { counterId } = request.params;
    const { date } = request.query;
    if (date) assertDay(date);
    const p = who(request);
    const counter = await desk.counter(counterId);
    allow(staffOfSite(p, counter.siteId) || (deviceOfSite(p, counter.siteId, ['counter']) && p.device.counterId === counterId));
    return desk.today(counterId, { ...(date ? { date } : {}), ...(p.kind === 'staff' ? { fallbackStaffId: p.user.id } : {}) });
  });

  /** Waiting tickets in call order, for "call a specific ticket". */
  app.get('/sites/:siteId/waiting', {
    schema: { tags: ['queue'], params: SiteParams, querystring: WaitingQuery, response: { 200: WaitingReply, ...errors } },
  }, async (request) => {
    const { siteId } = request.params;
    const { serviceIds } = request.query;
    allow(staffOfSite(who(request), siteId), 'Only staff of this site see the waiting list');
    return desk.waiting(siteId, serviceIds ? [...new Set(serviceIds.toLowerCase().split(','))] : undefined);
  });

  /** What a rating tablet should ask after a reconnect: 200 with the ticket, or 204. */
  app.get('/counters/:counterId/rating-request', {
    schema: { tags: ['ratings'], params: CounterParams, response: { 200: RatingRequest, 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { counterId } = request.params;
    const p = who(request);
    const counter = await desk.counter(counterId);
    allow(staffOfSite(p, counter.siteId) || (deviceOfSite(p, counter.siteId, ['rating']) && p.device.counterId === counterId),
      'Only the rating tablet of this counter asks for its ratings');
    const pending = await desk.ratingRequest(counterId);
    return pending ?? reply.code(204).send(null);
  });
};
