import type { TicketEventType, TicketStatus } from '@qms/db';
import { LIFECYCLE, type TicketAction } from '@qms/protocol';
import { QueueError } from './queue.errors.ts';

// Which moves of a ticket are legal: waiting → called → serving → done; called → no_show;
// called/serving → waiting again in another service (transfer); waiting → cancelled; and
// waiting/called/serving → expired when the site's day ends (day-end.ts, the system's move).
// A recall re-announces a called ticket and changes nothing else. Every change the engine
// makes in TypeScript passes through `transition`. One does not: "call next" moves the ticket
// it picks from waiting to called inside the database, in the function qms_call_next
// (db/src/functions/qms_call_next.ts, one round trip), by the same `call` rule (from waiting
// only, a `called` event).

export type { TicketAction };
/** The lifecycle table, protocol's (the screens read the same one). */
export const RULES = LIFECYCLE;

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

export { AT_COUNTER_STATUSES as ACTIVE_STATUSES, FINAL_STATUSES, isAtCounter, LIVE_STATUSES } from '@qms/protocol';
