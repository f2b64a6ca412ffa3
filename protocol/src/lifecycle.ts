import type { TicketStatus } from './schemas.ts';
import type { ErrorCode } from './errors.ts';

// The ticket lifecycle, one table that the server (server/src/queue/ticket.lifecycle.ts:
// `transition`, and qms_call_next for "call next") and the screens (what a counter terminal
// offers) both read. waiting → called → serving → done; called → no_show; called/serving →
// waiting again in another service (transfer); waiting → cancelled; waiting/called/serving →
// expired when the site's day ends. A recall re-announces a called ticket and changes nothing.

export type TicketAction = 'call' | 'recall' | 'start' | 'finish' | 'no_show' | 'transfer' | 'cancel' | 'expire';
export type TicketEventType = 'issued' | 'called' | 'recalled' | 'started' | 'finished' | 'no_show' | 'transferred' | 'cancelled' | 'expired';

export interface LifecycleRule {
  from: readonly TicketStatus[];
  to: TicketStatus | 'same';
  event: TicketEventType;
  /** the error code when the ticket is not in one of `from` */
  refusal: ErrorCode;
}

export const LIFECYCLE: Readonly<Record<TicketAction, LifecycleRule>> = {
  call: { from: ['waiting'], to: 'called', event: 'called', refusal: 'TICKET_NOT_WAITING' },
  recall: { from: ['called'], to: 'same', event: 'recalled', refusal: 'TICKET_NOT_CALLED' },
  start: { from: ['called'], to: 'serving', event: 'started', refusal: 'TICKET_NOT_CALLED' },
  // an official may finish straight from "called" without pressing start
  finish: { from: ['called', 'serving'], to: 'done', event: 'finished', refusal: 'TICKET_NOT_IN_SERVICE' },
  no_show: { from: ['called'], to: 'no_show', event: 'no_show', refusal: 'TICKET_NOT_CALLED' },
  transfer: { from: ['called', 'serving'], to: 'waiting', event: 'transferred', refusal: 'TICKET_NOT_IN_SERVICE' },
  cancel: { from: ['waiting'], to: 'cancelled', event: 'cancelled', refusal: 'TICKET_NOT_WAITING' },
  expire: { from: ['waiting', 'called', 'serving'], to: 'expired', event: 'expired', refusal: 'TICKET_FINISHED' },
};

/** Whether `action` may be done to a ticket in `status`. */
export const allows = (action: TicketAction, status: TicketStatus | undefined): boolean => !!status && LIFECYCLE[action].from.includes(status);

/** At a counter: called, or being served. */
export const AT_COUNTER_STATUSES: readonly TicketStatus[] = ['called', 'serving'];
export const isAtCounter = (status: TicketStatus | string | undefined): boolean => status === 'called' || status === 'serving';
/** Nothing happens to a ticket after these. */
export const FINAL_STATUSES: readonly TicketStatus[] = ['done', 'no_show', 'cancelled', 'expired'];
/** Not ended yet: what the day's end ends, and what may not share a printed code. */
export const LIVE_STATUSES: readonly TicketStatus[] = LIFECYCLE.expire.from;
