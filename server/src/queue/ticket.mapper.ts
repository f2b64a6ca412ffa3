import type { TicketRow } from '@qms/db';
import type { Ticket } from '@qms/protocol';
import { isoInZone } from './time.ts';

/** Database rows never leave the domain: this is the only way a ticket goes out. */
export function toTicket(row: TicketRow, timezone: string, extra: { position?: number; estimatedWaitSeconds?: number; noCounterOpen?: boolean } = {}): Ticket {
  const ticket: Ticket = {
    id: row.id,
    publicId: row.publicId,
    code: row.code,
    number: row.number,
    siteId: row.siteId,
    serviceId: row.serviceId,
    status: row.status,
    priority: row.priority,
    lang: row.lang,
    issuedAt: isoInZone(row.issuedAt, timezone),
    transferCount: row.transferCount,
  };
  if (row.calledAt) ticket.calledAt = isoInZone(row.calledAt, timezone);
  if (row.startedAt) ticket.startedAt = isoInZone(row.startedAt, timezone);
  if (row.finishedAt) ticket.finishedAt = isoInZone(row.finishedAt, timezone);
  if (row.counterId) ticket.counterId = row.counterId;
  // rows read before the bookings migration's columns (a test's old dump) have neither
  if (row.bookingKind && row.slotAt) ticket.booking = { kind: row.bookingKind, slotAt: isoInZone(row.slotAt, timezone) };
  if (extra.position !== undefined) ticket.position = extra.position;
  if (extra.estimatedWaitSeconds !== undefined) ticket.estimatedWaitSeconds = extra.estimatedWaitSeconds;
  if (extra.noCounterOpen !== undefined) ticket.noCounterOpen = extra.noCounterOpen;
  return ticket;
}

export function formatCode(prefix: string, number: number, digits: number): string {
  return `${prefix}${String(number).padStart(digits, '0')}`;
}
