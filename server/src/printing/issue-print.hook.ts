import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rooms, Ticket } from '@qms/protocol';
import { Type } from 'typebox';
import type { Db } from '@qms/db';
import { AlertService } from '../alerts/alert.service.ts';
import { event } from '../queue/queue.events.ts';
import { phoneUrl, publicBaseUrl } from './phone-url.ts';
import { TicketPrinter, type AgentLink, type PrintOutcome } from './ticket-printer.service.ts';

// What the issue route (routes/ticket.routes.ts) calls once a ticket is issued: it prints on
// the kiosk's printer (network, or USB/serial through the site agent) and adds two extension
// fields to the 201 reply, `print` and `phoneUrl` (the address in the QR code), so the kiosk
// shows the same QR as the paper.

export const PrintReply = Type.Object({
  status: Type.Enum(['sent', 'failed', 'none']),
  reason: Type.Optional(Type.String({
    description: "paper_out, offline, error or timeout when status is 'failed'. paper_out and error come from the printer's own status reply; "
      + 'offline is also the one answer whenever no printer answered at the address, whatever was there (nothing, another kind of service, a refused address).',
  })),
});

/** POST /sites/:siteId/tickets 201: `{ticket}` as API.md says, plus `print` and `phoneUrl`. */
export const IssueReply = Type.Object({
  ticket: Ticket,
  print: Type.Optional(PrintReply),
  phoneUrl: Type.Optional(Type.String()),
});

/**
 * Print jobs to a kiosk's site agent: a broadcast to its agent room with acknowledgements.
 * The callback form, not emitWithAck, because a timeout must still hand over the answers that
 * did arrive (socket.io answers at once, with none, when the room is empty on every process).
 */
export function agentLink(app: FastifyInstance): AgentLink {
  return {
    send(deviceId, job, timeoutMs) {
      return new Promise((resolve) => {
        app.realtime.io.to(rooms.agent(deviceId)).timeout(timeoutMs)
          .emit('print:requested', job, (error: Error | null, answers: unknown[]) => resolve({ answers: answers ?? [], timedOut: !!error }));
      });
    },
  };
}

/** A printer alert goes to the managers of its site at once (alert:raised). */
export function alertPublisher(app: FastifyInstance, db: Db): (alertId: string) => Promise<void> {
  const alerts = new AlertService(db, () => new Date());
  return async (alertId) => {
    const [alert] = await alerts.byIds([alertId]);
    if (alert) app.realtime.publish([event('alert:raised', alert.siteId, { alert })]);
  };
}

/** The ticket printer of this app: network printers, site agents, alerts published at once. */
export function ticketPrinter(app: FastifyInstance, db: Db, options: { waitMs?: number } = {}): TicketPrinter {
  return new TicketPrinter({ db, log: app.log, agents: agentLink(app), publishAlert: alertPublisher(app, db), addresses: app.printerAddresses, ...options });
}

export function issuePrinting(app: FastifyInstance, db: Db) {
  const printer = ticketPrinter(app, db);
  return {
    reply: IssueReply,
    async afterIssue(request: FastifyRequest, ticket: Ticket): Promise<{ print: PrintOutcome; phoneUrl: string }> {
      const url = phoneUrl(publicBaseUrl(app.config, request), ticket.publicId);
      const p = request.principal;
      const print: PrintOutcome = p?.kind === 'device' && p.device.kind === 'kiosk'
        ? await printer.printIssued({ ticket, deviceId: p.device.id, url })
        : { status: 'none' };
      return { print, phoneUrl: url };
    },
  };
}
