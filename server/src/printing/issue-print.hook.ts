import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Ticket } from '@qms/protocol';
import { Type } from 'typebox';
import type { Db } from '@qms/db';
import { phoneUrl, publicBaseUrl } from './phone-url.ts';
import { TicketPrinter, type PrintOutcome } from './ticket-printer.service.ts';

// What the issue route (routes/ticket.routes.ts) calls once a ticket is issued: it prints on
// the kiosk's network printer and adds two extension fields to the 201 reply, `print` and
// `phoneUrl` (the address in the QR code), so the kiosk shows the same QR as the paper.

export const PrintReply = Type.Object({
  status: Type.Enum(['sent', 'failed', 'none']),
  reason: Type.Optional(Type.String({ description: "paper_out, offline, error or timeout when status is 'failed'" })),
});

/** POST /sites/:siteId/tickets 201: `{ticket}` as API.md says, plus `print` and `phoneUrl`. */
export const IssueReply = Type.Object({
  ticket: Ticket,
  print: Type.Optional(PrintReply),
  phoneUrl: Type.Optional(Type.String()),
});

export function issuePrinting(app: FastifyInstance, db: Db) {
  const printer = new TicketPrinter({ db, log: app.log });
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
