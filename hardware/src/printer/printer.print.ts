import { encodeTicket, type EncodeTicketOptions } from '../escpos/escpos.encode.ts';
import { renderTicket, type RenderTicketOptions } from '../ticket/ticket.render.ts';
import type { TicketPrintData } from '../ticket/ticket.text.ts';
import { PrinterOfflineError } from './printer.status.ts';
import type { PrinterTransport } from './printer.transport.ts';

export type PrintTicketOptions = RenderTicketOptions & EncodeTicketOptions;

export type PrintFailureReason = 'paper_out' | 'offline' | 'error';

export type PrintResult =
  | { ok: true; /** still printed, but someone should bring paper soon */ paperLow?: boolean }
  | { ok: false; reason: PrintFailureReason; message: string };

/**
 * Checks the printer, then renders, encodes and sends one ticket. Never throws: a kiosk
 * turns the reason into a message for the citizen ("the printer is out of paper, please
 * note your number") and an alert for staff.
 */
export async function printTicket(transport: PrinterTransport, data: TicketPrintData, options: PrintTicketOptions = {}): Promise<PrintResult> {
  let status;
  try {
    status = await transport.status();
  } catch (error) {
    return { ok: false, reason: 'offline', message: (error as Error).message };
  }
  // Paper end also sets the printer offline, so it is checked first: it is the one cause
  // staff can fix in a minute.
  if (status.paperOut) return { ok: false, reason: 'paper_out', message: status.error ?? 'out of paper' };
  if (status.coverOpen) return { ok: false, reason: 'error', message: status.error ?? 'cover open' };
  if (!status.online) return { ok: false, reason: 'offline', message: status.error ?? 'printer offline' };

  let job: Uint8Array;
  try {
    job = encodeTicket(await renderTicket(data, options), options);
  } catch (error) {
    return { ok: false, reason: 'error', message: `cannot draw the ticket: ${(error as Error).message}` };
  }
  try {
    await transport.write(job);
  } catch (error) {
    const reason = error instanceof PrinterOfflineError ? 'offline' : 'error';
    return { ok: false, reason, message: (error as Error).message };
  }
  return status.paperLow ? { ok: true, paperLow: true } : { ok: true };
}
