import type { KioskPrinter, Ticket } from '@qms/protocol';
import type { AfterCommit } from '../app/after-commit.ts';
import { phoneUrl } from '../printing/phone-url.ts';
import type { PrintOutcome, TicketPrinter } from '../printing/ticket-printer.service.ts';
import type { IssueInput, QueueService } from '../queue/queue.service.ts';

export interface IssueTicketInput extends IssueInput {
  /** the issuing kiosk, whose printer prints the ticket; none for an official's issue */
  kioskId?: string;
  /** that kiosk's printer as its principal names it (null: none); absent: read it */
  kioskPrinter?: KioskPrinter | null;
  /** where phones reach this server (the QR code's address, printing/phone-url.ts) */
  baseUrl: string;
}

export interface IssuedTicket {
  ticket: Ticket;
  /** the ticket the first request of this press made (Idempotency-Key) */
  replayed: boolean;
  print: PrintOutcome;
  phoneUrl: string;
  /** the procedure it was taken for, printed on it */
  procedure?: { code: string; name: { vi: string; en: string } };
}

/**
 * A citizen takes a number: the ticket is issued (and its events dispatched), then printed on
 * the kiosk's printer, and the kiosk shows the same QR code as the paper.
 *
 * After the commit and the events: the ticket exists whatever the printer does. A retried
 * press prints again: its first answer was lost, perhaps before the paper came out, and a
 * second slip of the same number harms nobody, where none leaves the citizen with nothing.
 */
export class IssueTicket {
  constructor(private readonly queue: AfterCommit<QueueService>, private readonly printer: TicketPrinter) {}

  async run({ kioskId, kioskPrinter, baseUrl, ...input }: IssueTicketInput): Promise<IssuedTicket> {
    const { value: ticket, replayed, procedure } = await this.queue.issue(input);
    const url = phoneUrl(baseUrl, ticket.publicId);
    const print: PrintOutcome = kioskId
      ? await this.printer.printIssued({ ticket, deviceId: kioskId, url, procedure, ...(kioskPrinter !== undefined ? { printer: kioskPrinter } : {}) })
      : { status: 'none' };
    return { ticket, replayed: !!replayed, print, phoneUrl: url, ...(procedure ? { procedure } : {}) };
  }
}
