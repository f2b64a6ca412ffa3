import type { TicketEventType, TicketStatus } from '@qms/db';
import type { ErrorCode } from '@qms/protocol';
import { QueueError } from './queue.errors.ts';

// Which moves of a ticket are legal: waiting → called → serving → done; called → no_show;
// called/serving → waiting again in another service (transfer); waiting → cancelled; and
// waiting/called/serving → expired when the site's day ends (day-end.ts, the system's move).
// A recall re-announces a called ticket and changes nothing else. Every change the engine
// makes in TypeScript passes through `transition`. One does not: "call next" moves the ticket
// it picks from waiting to called inside the database, in the function qms_call_next
// (db/src/functions/qms_call_next.ts, one round trip), by the same `call` rule (from waiting
// only, a `called` event).

export type TicketAction = 'call' | 'recall' | 'start' | 'finish' | 'no_show' | 'transfer' | 'cancel' | 'expire';

interface Rule {
  from: readonly TicketStatus[];
  to: TicketStatus | 'same';
  event: TicketEventType;
  /** error code when the ticket is not in one of `from` */
  refusal: ErrorCode;
}

export const RULES: Record<TicketAction, Rule> = {
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

const VERB: Record<TicketAction, string> = {
  call: 'call', recall: 'recall', start: 'start serving', finish: 'finish', no_show: 'mark as no-show',
  transfer: 'transfer', cancel: 'cancel', expire: 'expire',
};

export interface Transition {
  from: TicketStatus;
  to: TicketStatus;
  event: TicketEventType;
}

/** The status after `action`, or a QueueError (409) naming why the move is illegal. */
export function transition(from: TicketStatus, action: TicketAction, code?: string): Transition {
  const rule = RULES[action];
  if (!rule.from.includes(from)) {
    throw new QueueError(rule.refusal, `Cannot ${VERB[action]} ${code ?? 'the ticket'}: it is ${from.replace('_', ' ')}`, 409, { status: from, ...(code ? { code } : {}) });
  }
  return { from, to: rule.to === 'same' ? from : rule.to, event: rule.event };
}

export const ACTIVE_STATUSES: readonly TicketStatus[] = ['called', 'serving'];
export const FINAL_STATUSES: readonly TicketStatus[] = ['done', 'no_show', 'cancelled', 'expired'];
/** a ticket not ended yet: what the day's end ends, and what may not share a printed code */
export const LIVE_STATUSES = RULES.expire.from;
