import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { AddDossierBody, DossierCodeParams, DossierLookup, DossierParams, SetProceduresBody, TicketParams, Visit } from '@qms/protocol';
import { deviceOfSite, managerOfSite, staffOfSite } from '../auth/principal.ts';
import type { Editor, EditableTicket } from '../dossiers/visit.service.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { requireIntegrationScope } from '../http/integration-key.ts';
import { errors, noContent } from '../http/replies.ts';
import { QueueError } from '../queue/queue.errors.ts';

// Procedures and dossier codes on a ticket (the counter terminal), and a dossier's visits (the
// dossier system, the provincial portal, the manager console): docs/integration.md.

const tags = ['dossiers'];

export const dossierRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { visits, queue, notifications } = app.services;

  /**
   * Who may change what a visit was about: the official working the counter the ticket was
   * called to (while called or serving, and once done, for a code scanned after "finish"), that
   * counter's own device, or a manager of the site.
   */
  const editor = async (request: FastifyRequest, ticketId: string): Promise<{ ticket: EditableTicket; by: Editor }> => {
    const p = who(request);
    const ticket = await visits.editable(ticketId);
    const by: Editor = p.kind === 'staff' ? { staffId: p.user.id } : {};
    if (managerOfSite(request.principal, ticket.siteId)) return { ticket, by };
    const notFound = new QueueError('TICKET_NOT_FOUND', `No ticket ${ticketId}`, 404);
    let counterId: string | null | undefined;
    if (p.kind === 'device') {
      if (!deviceOfSite(p, ticket.siteId, ['counter'])) throw notFound;
      counterId = p.device.counterId;
    } else {
      if (!staffOfSite(p, ticket.siteId)) throw notFound;
      counterId = (await queue.workingCounterOf(p.user.id))?.id;
    }
    if (!ticket.editable || !counterId || ticket.counterId !== counterId) {
      throw new QueueError('TICKET_NOT_AT_YOUR_COUNTER', 'Only the official serving this ticket at their counter (or a manager) records what the visit was about', 409);
    }
    return { ticket, by };
  };

  app.get('/tickets/:ticketId/visit', {
    schema: { tags, description: 'The ticket with its procedures and dossier codes: staff of its site, or a counter device', params: TicketParams, response: { 200: Visit, ...errors } },
  }, async (request) => {
    const p = who(request);
    const ticket = await visits.editable(request.params.ticketId);
    allow(staffOfSite(p, ticket.siteId) || deviceOfSite(p, ticket.siteId, ['counter']));
    return visits.visit(ticket.id);
  });

  app.put('/tickets/:ticketId/procedures', {
    schema: {
      tags, params: TicketParams, body: SetProceduresBody, response: { 200: Visit, ...errors },
      description: 'The visit\'s procedures become exactly these national codes (of the site\'s procedures; 400 UNKNOWN_PROCEDURE otherwise). The official of the ticket\'s counter while it is called, served or just done there, or a manager; 409 TICKET_NOT_AT_YOUR_COUNTER otherwise.',
    },
  }, async (request) => {
    const { ticket, by } = await editor(request, request.params.ticketId);
    return visits.setProcedures(ticket, request.body.codes, by);
  });

  app.post('/tickets/:ticketId/dossiers', {
    schema: {
      tags, params: TicketParams, body: AddDossierBody, response: { 200: Visit, 201: Visit, ...errors },
      description: 'Records a dossier code (mã hồ sơ, kept upper-case) received or returned during the visit: 201 with the visit; 200 when the visit already had this code in this direction (a double scan records nothing). Who: as PUT /tickets/:ticketId/procedures. Webhook event dossier:recorded.',
    },
  }, async (request, reply) => {
    const { ticket, by } = await editor(request, request.params.ticketId);
    const { visit, created } = await visits.addDossier(ticket, request.body, by);
    return reply.code(created ? 201 : 200).send(visit);
  });

  app.delete('/tickets/:ticketId/dossiers/:dossierId', {
    schema: { tags, params: DossierParams, response: noContent, description: 'Removes a mistyped dossier code. Who: as PUT /tickets/:ticketId/procedures.' },
  }, async (request, reply) => {
    const { ticket } = await editor(request, request.params.ticketId);
    await visits.removeDossier(ticket, request.params.dossierId);
    return reply.code(204).send(null);
  });

  app.get('/sites/:siteId/dossiers/:dossierCode', {
    schema: {
      tags, params: DossierCodeParams, response: { 200: DossierLookup, ...errors },
      description: 'Every visit of a dossier at the site, oldest first: waits, service times, the officials who served it, the rating and any criticism with its handling. Authorization: Bearer <integration key with the scope dossiers:read>, or a manager of the site. 404 DOSSIER_NOT_FOUND when no visit recorded it.',
    },
    config: { rateLimit: app.config.rateLimits ? { max: 600, timeWindow: 60_000 } : false },
  }, async (request) => {
    const { siteId, dossierCode } = request.params;
    if (!managerOfSite(request.principal, siteId)) await requireIntegrationScope(notifications, request.headers.authorization, siteId, 'dossiers:read');
    return visits.lookup(siteId, dossierCode);
  });
};
