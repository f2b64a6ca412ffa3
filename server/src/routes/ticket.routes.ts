import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorBody, PublicTicket } from '@qms/protocol';
import { Type } from 'typebox';
import { allow, who } from '../http/auth.plugin.ts';
import { deviceOfSite, staffOfSite, type Principal } from '../auth/principal.ts';
import { CounterParams, created, errors, IssueBody, IssueHeaders, PauseBody, RatingBody, SiteParams, TicketParams, TicketReply, TransferBody } from '../http/schemas.ts';
import { NOT_STAFF_OF_SITE, QueueError } from '../queue/queue.errors.ts';
import type { Actor, QueueService, TicketAtCounter } from '../queue/queue.service.ts';
import type { RatingService } from '../ratings/rating.service.ts';
import { issuePrinting } from '../printing/issue-print.hook.ts';
import { AlertService } from '../alerts/alert.service.ts';
import { event } from '../queue/queue.events.ts';

// One domain call per route; who may call it is decided here, the rules live in the queue engine.

const actor = (p: Principal): Actor => (p.kind === 'staff' ? { staffId: p.user.id } : { deviceId: p.device.id });

export async function ticketRoutes(app: FastifyInstance, { queue, ratings }: { queue: QueueService; ratings: RatingService }) {
  // printing of the issuing kiosk's network printer (server/src/printing/)
  const printing = issuePrinting(app, queue.db);
  const alerts = new AlertService(queue.db, () => queue.now());

  // the counter actions check that the official is staff of the counter's site ("call next"
  // has the database check it in the same statement, see caller below)
  const siteOfCounter = async (counterId: string) => {
    const row = await queue.db.selectFrom('counter').select(['siteId']).where('id', '=', counterId).executeTakeFirst();
    if (!row) throw new QueueError('COUNTER_NOT_FOUND', `No counter ${counterId}`, 404);
    return row.siteId;
  };

  /** The counter a staff member or counter device acts from. */
  const counterOf = async (request: FastifyRequest, ticketId?: string): Promise<TicketAtCounter | Omit<TicketAtCounter, 'ticketId'>> => {
    const p = who(request);
    if (p.kind === 'device') {
      allow(p.device.kind === 'counter' && !!p.device.counterId, 'Only a counter device or its official can do this');
      return { counterId: p.device.counterId!, deviceId: p.device.id, ...(ticketId ? { ticketId } : {}) };
    }
    const working = await queue.db.selectFrom('counter').select(['id', 'siteId']).where('staffId', '=', p.user.id)
      .where('status', '<>', 'closed').executeTakeFirst();
    if (!working) {
      if (ticketId) {
        const ticket = await queue.db.selectFrom('ticket').select('siteId').where('id', '=', ticketId).executeTakeFirst();
        if (!ticket || !staffOfSite(p, ticket.siteId)) throw new QueueError('TICKET_NOT_FOUND', `No ticket ${ticketId}`, 404);
      }
      throw new QueueError('COUNTER_NOT_OPEN', 'You are not working a counter: open one first', 409);
    }
    return { counterId: working.id, staffId: p.user.id, ...(ticketId ? { ticketId } : {}) };
  };

  app.post('/sites/:siteId/tickets', {
    schema: { tags: ['tickets'], params: SiteParams, headers: IssueHeaders, body: IssueBody, response: { 201: printing.reply, ...errors } },
    config: { rateLimit: app.rateLimits.issue },
  }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(deviceOfSite(p, siteId, ['kiosk']) || staffOfSite(p, siteId), 'Only a kiosk or staff of this site can issue tickets');
    const body = request.body as { serviceId: string; priority?: string; lang?: string };
    const issueKey = request.headers['idempotency-key'] as string | undefined;
    const { value, events, replayed } = await queue.issue({ siteId, ...body, ...actor(p), channel: p.kind === 'device' ? 'kiosk' : 'staff', issueKey });
    app.realtime.publish(events);
    if (replayed) reply.header('idempotent-replayed', 'true');
    // After the commit and the events: the ticket exists whatever the printer does. A retried
    // press prints again: its first answer was lost, perhaps before the paper came out, and a
    // second slip of the same number harms nobody, where none leaves the citizen with nothing.
    return reply.code(201).send({ ticket: value, ...(await printing.afterIssue(request, value)) });
  });

  app.get('/tickets/:ticketId', { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const { ticketId } = request.params as { ticketId: string };
    const p = who(request);
    const ticket = await queue.getTicket(ticketId);
    allow(staffOfSite(p, ticket.siteId) || deviceOfSite(p, ticket.siteId, ['counter']));
    return { ticket };
  });

  for (const [path, method] of [['recall', 'recall'], ['start', 'start'], ['finish', 'finish'], ['no-show', 'noShow']] as const) {
    app.post(`/tickets/:ticketId/${path}`, { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
      const { ticketId } = request.params as { ticketId: string };
      const { value, events } = await queue[method](await counterOf(request, ticketId) as TicketAtCounter);
      app.realtime.publish(events);
      return { ticket: value };
    });
  }

  /** Call one particular waiting ticket (extension of API.md). */
  app.post('/tickets/:ticketId/call', { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const { ticketId } = request.params as { ticketId: string };
    const { value, events } = await queue.callTicket(await counterOf(request, ticketId) as TicketAtCounter);
    app.realtime.publish(events);
    return { ticket: value };
  });

  app.post('/tickets/:ticketId/transfer', { schema: { tags: ['tickets'], params: TicketParams, body: TransferBody, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const { ticketId } = request.params as { ticketId: string };
    const { serviceId } = request.body as { serviceId: string };
    const { value, events } = await queue.transfer({ ...(await counterOf(request, ticketId) as TicketAtCounter), serviceId });
    app.realtime.publish(events);
    return { ticket: value };
  });

  /** Withdraw a waiting ticket (extension): staff of its site. */
  app.post('/tickets/:ticketId/cancel', { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const { ticketId } = request.params as { ticketId: string };
    const p = who(request);
    const current = await queue.getTicket(ticketId);
    allow(staffOfSite(p, current.siteId));
    const { value, events } = await queue.cancel({ ticketId, siteId: current.siteId, ...actor(p) });
    app.realtime.publish(events);
    return { ticket: value };
  });

  app.post('/tickets/:ticketId/rating', { schema: { tags: ['ratings'], params: TicketParams, body: RatingBody, response: created } }, async (request, reply) => {
    const { ticketId } = request.params as { ticketId: string };
    const p = who(request);
    allow(p.kind === 'device' && p.device.kind === 'rating', 'Only the rating device of the counter that served the ticket rates it');
    const body = request.body as { score: number; reason?: string; comment?: string };
    const { siteId, counterId, ...rating } = await ratings.rate({ ticketId, ...body, device: { id: p.device.id, counterId: p.device.counterId }, channel: 'tablet' });
    // the counter's other screens (and a phone page's poll) learn it is rated
    if (counterId) app.realtime.publish([event('rating:created', siteId, { ticketId, counterId, channel: 'tablet' }, counterId)]);
    // the lowest score raised an alert in the rating's transaction: managers see it now
    const alert = await alerts.lowRatingOf(ticketId).catch(() => undefined);
    if (alert && !alert.acknowledgedAt) app.realtime.publish([event('alert:raised', alert.siteId, { alert })]);
    return reply.code(201).send({ rating });
  });

  // ---- counters ----

  const counterAction = async (request: FastifyRequest) => {
    const { counterId } = request.params as { counterId: string };
    const p = who(request);
    const siteId = await siteOfCounter(counterId);
    if (p.kind === 'device') {
      allow(p.device.kind === 'counter' && p.device.counterId === counterId, 'Only the counter\'s own device or official can do this');
      return { counterId, deviceId: p.device.id };
    }
    allow(staffOfSite(p, siteId), NOT_STAFF_OF_SITE);
    return { counterId, staffId: p.user.id };
  };

  /**
   * Who presses "call next": the counter's own device, or an official. For an official the
   * counter's site is not looked up first: qms_call_next refuses one who is not staff of it
   * (403, as counterAction), in the same round trip as the call.
   */
  const caller = async (request: FastifyRequest) => {
    const { counterId } = request.params as { counterId: string };
    const p = who(request);
    if (p.kind === 'device') {
      if (p.device.kind === 'counter' && p.device.counterId === counterId) return { counterId, deviceId: p.device.id };
      return counterAction(request); // throws: 404 for an unknown counter, 403 for another's
    }
    return { counterId, staffId: p.user.id, staffSiteIds: p.user.role === 'admin' ? null : p.siteIds };
  };

  app.post('/counters/:counterId/open', { schema: { tags: ['counters'], params: CounterParams, response: errors } }, async (request) => {
    const input = await counterAction(request);
    allow(!!input.staffId, 'An official opens a counter by signing in');
    const { value, events } = await queue.openCounter({ counterId: input.counterId, staffId: input.staffId! });
    app.realtime.publish(events);
    return { counter: value };
  });

  app.post('/counters/:counterId/pause', { schema: { tags: ['counters'], params: CounterParams, body: PauseBody, response: errors } }, async (request) => {
    const reason = (request.body as { reason?: string } | undefined)?.reason;
    const { value, events } = await queue.pauseCounter({ ...(await counterAction(request)), ...(reason ? { reason } : {}) });
    app.realtime.publish(events);
    return { counter: value };
  });

  for (const [path, method] of [['resume', 'resumeCounter'], ['close', 'closeCounter']] as const) {
    app.post(`/counters/:counterId/${path}`, { schema: { tags: ['counters'], params: CounterParams, response: errors } }, async (request) => {
      const { value, events } = await queue[method](await counterAction(request));
      app.realtime.publish(events);
      return { counter: value };
    });
  }

  app.post('/counters/:counterId/call-next', { schema: { tags: ['counters'], params: CounterParams, response: { 200: TicketReply, 204: Type.Null(), ...errors } } }, async (request, reply) => {
    const { value, events } = await queue.callNext(await caller(request));
    app.realtime.publish(events);
    return value ? { ticket: value } : reply.code(204).send();
  });

  app.get('/counters/:counterId', { schema: { tags: ['counters'], params: CounterParams } }, async (request) => {
    const { counterId } = request.params as { counterId: string };
    const p = who(request);
    const siteId = await siteOfCounter(counterId);
    allow(staffOfSite(p, siteId) || deviceOfSite(p, siteId));
    return { counter: await queue.getCounter(counterId) };
  });

  // ---- queue state and the public page ----

  app.get('/sites/:siteId/queue', { schema: { tags: ['queue'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || deviceOfSite(p, siteId));
    return queue.snapshot(siteId);
  });

  app.get('/public/tickets/:publicId', {
    schema: { tags: ['public'], params: Type.Object({ publicId: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false }), response: { 200: PublicTicket, 404: ErrorBody, 400: ErrorBody } },
  }, async (request) => {
    const { publicId } = request.params as { publicId: string };
    const ticket = await queue.publicTicket(publicId);
    return { ...ticket, ...await ratings.publicState(publicId) };
  });
}
