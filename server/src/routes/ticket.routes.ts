import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Counter, CounterParams, ErrorBody, IssueBody, IssueHeaders, IssueReply, PauseBody, PublicTicket, QueueSnapshot, RatingBody, SiteParams, TicketParams, TicketReply, TransferBody } from '@qms/protocol';
import { Type } from 'typebox';
import { allow, who } from '../http/auth.plugin.ts';
import { deviceOfSite, staffOfSite, type Principal } from '../auth/principal.ts';
import { created, errors } from '../http/replies.ts';
import { NOT_STAFF_OF_SITE } from '../queue/queue.errors.ts';
import type { Actor, AtCounterInput, CounterAction } from '../queue/queue.service.ts';
import { publicBaseUrl } from '../printing/phone-url.ts';

// Tickets and counters (API.md "Tickets", "Counters", "Queue"): who may call each command is
// decided here, the rules live in the queue engine, and its events are dispatched once committed.

const actor = (p: Principal): Actor => (p.kind === 'staff' ? { staffId: p.user.id } : { deviceId: p.device.id });
const CounterReply = Type.Object({ counter: Counter });
const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });

export const ticketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { queue, ratings, issueTicket } = app.services;

  /**
   * Who acts on a ticket at a counter: a counter device from its counter; an official from the
   * counter they work, which the engine finds (in the same round trip as a start or finish).
   */
  const atCounter = (request: FastifyRequest, ticketId: string): AtCounterInput => {
    const p = who(request);
    if (p.kind === 'device') {
      allow(p.device.kind === 'counter' && !!p.device.counterId, 'Only a counter device or its official can do this');
      return { counterId: p.device.counterId, deviceId: p.device.id, ticketId };
    }
    return { staffId: p.user.id, ticketId, staffSiteIds: p.user.role === 'admin' ? null : p.siteIds };
  };

  /** The counter's own device, or staff of its site. */
  const counterAction = async (request: FastifyRequest, counterId: string): Promise<CounterAction> => {
    const p = who(request);
    const siteId = await queue.siteOfCounter(counterId);
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
  const caller = async (request: FastifyRequest, counterId: string) => {
    const p = who(request);
    if (p.kind === 'device') {
      if (p.device.kind === 'counter' && p.device.counterId === counterId) return { counterId, deviceId: p.device.id };
      return counterAction(request, counterId); // throws: 404 for an unknown counter, 403 for another's
    }
    return { counterId, staffId: p.user.id, staffSiteIds: p.user.role === 'admin' ? null : p.siteIds };
  };

  app.post('/sites/:siteId/tickets', {
    schema: { tags: ['tickets'], params: SiteParams, headers: IssueHeaders, body: IssueBody, response: { 201: IssueReply, ...errors } },
    config: { rateLimit: app.rateLimits.issue },
  }, async (request, reply) => {
    const { siteId } = request.params;
    const p = who(request);
    allow(deviceOfSite(p, siteId, ['kiosk']) || staffOfSite(p, siteId), 'Only a kiosk or staff of this site can issue tickets');
    const { replayed, ...issued } = await issueTicket.run({
      siteId, ...request.body, ...actor(p), channel: p.kind === 'device' ? 'kiosk' : 'staff', issueKey: request.headers['idempotency-key'],
      ...(p.kind === 'device' ? { kioskId: p.device.id, ...(p.device.printer !== undefined ? { kioskPrinter: p.device.printer } : {}) } : {}),
      baseUrl: publicBaseUrl(app.config, request),
    });
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(201).send(issued);
  });

  app.get('/tickets/:ticketId', { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const p = who(request);
    const ticket = await queue.getTicket(request.params.ticketId);
    allow(staffOfSite(p, ticket.siteId) || deviceOfSite(p, ticket.siteId, ['counter']));
    return { ticket };
  });

  for (const [path, method] of [['recall', 'recall'], ['start', 'start'], ['finish', 'finish'], ['no-show', 'noShow'], ['call', 'callTicket']] as const) {
    // `call`: one particular waiting ticket (extension of API.md)
    app.post(`/tickets/:ticketId/${path}`, { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) =>
      ({ ticket: (await queue[method](atCounter(request, request.params.ticketId))).value }));
  }

  app.post('/tickets/:ticketId/transfer', { schema: { tags: ['tickets'], params: TicketParams, body: TransferBody, response: { 200: TicketReply, ...errors } } }, async (request) =>
    ({ ticket: (await queue.transfer({ ...atCounter(request, request.params.ticketId), serviceId: request.body.serviceId })).value }));

  /** Withdraw a waiting ticket (extension): staff of its site. */
  app.post('/tickets/:ticketId/cancel', { schema: { tags: ['tickets'], params: TicketParams, response: { 200: TicketReply, ...errors } } }, async (request) => {
    const { ticketId } = request.params;
    const p = who(request);
    const current = await queue.getTicket(ticketId);
    allow(staffOfSite(p, current.siteId));
    return { ticket: (await queue.cancel({ ticketId, siteId: current.siteId, ...actor(p) })).value };
  });

  app.post('/tickets/:ticketId/rating', { schema: { tags: ['ratings'], params: TicketParams, body: RatingBody, response: created } }, async (request, reply) => {
    const p = who(request);
    allow(p.kind === 'device' && p.device.kind === 'rating', 'Only the rating device of the counter that served the ticket rates it');
    const { value } = await ratings.rate({
      ticketId: request.params.ticketId, ...request.body, device: { id: p.device.id, counterId: p.device.counterId }, channel: 'tablet',
    });
    const { siteId: _siteId, counterId: _counterId, ...rating } = value;
    return reply.code(201).send({ rating });
  });

  // ---- counters ----

  app.post('/counters/:counterId/open', { schema: { tags: ['counters'], params: CounterParams, response: { 200: CounterReply, ...errors } } }, async (request) => {
    const input = await counterAction(request, request.params.counterId);
    allow(!!input.staffId, 'An official opens a counter by signing in');
    return { counter: (await queue.openCounter({ counterId: input.counterId, staffId: input.staffId })).value };
  });

  app.post('/counters/:counterId/pause', { schema: { tags: ['counters'], params: CounterParams, body: PauseBody, response: { 200: CounterReply, ...errors } } }, async (request) => {
    const reason = request.body?.reason;
    return { counter: (await queue.pauseCounter({ ...(await counterAction(request, request.params.counterId)), ...(reason ? { reason } : {}) })).value };
  });

  for (const [path, method] of [['resume', 'resumeCounter'], ['close', 'closeCounter']] as const) {
    app.post(`/counters/:counterId/${path}`, { schema: { tags: ['counters'], params: CounterParams, response: { 200: CounterReply, ...errors } } }, async (request) =>
      ({ counter: (await queue[method](await counterAction(request, request.params.counterId))).value }));
  }

  app.post('/counters/:counterId/call-next', { schema: { tags: ['counters'], params: CounterParams, response: { 200: TicketReply, 204: Type.Null(), ...errors } } }, async (request, reply) => {
    const { value } = await queue.callNext(await caller(request, request.params.counterId));
    return value ? { ticket: value } : reply.code(204).send(null);
  });

  app.get('/counters/:counterId', { schema: { tags: ['counters'], params: CounterParams } }, async (request) => {
    const { counterId } = request.params;
    const p = who(request);
    const siteId = await queue.siteOfCounter(counterId);
    allow(staffOfSite(p, siteId) || deviceOfSite(p, siteId));
    return { counter: await queue.getCounter(counterId) };
  });

  // ---- queue state and the public page ----

  app.get('/sites/:siteId/queue', { schema: { tags: ['queue'], params: SiteParams, response: { 200: QueueSnapshot } } }, async (request) => {
    const { siteId } = request.params;
    const p = who(request);
    allow(staffOfSite(p, siteId) || deviceOfSite(p, siteId));
    return queue.snapshot(siteId);
  });

  app.get('/public/tickets/:publicId', {
    schema: { tags: ['public'], params: PublicIdParams, response: { 200: PublicTicket, 404: ErrorBody, 400: ErrorBody } },
  }, async (request) => {
    const { publicId } = request.params;
    const ticket = await queue.publicTicket(publicId);
    return { ...ticket, ...await ratings.publicState(publicId) };
  });
};
