import { describe, expect, it } from 'vitest';
import { TICKET_STATUSES, type TicketStatus } from '@qms/protocol';
import { transition, type TicketAction } from '../../src/queue/ticket.lifecycle.ts';
import { QueueError } from '../../src/queue/queue.errors.ts';

// Every action against every status: the legal moves, and for the rest the exact refusal.
const LEGAL: Record<TicketAction, Partial<Record<TicketStatus, TicketStatus>>> = {
  call: { waiting: 'called' },
  recall: { called: 'called' },
  start: { called: 'serving' },
  finish: { called: 'done', serving: 'done' },
  no_show: { called: 'no_show' },
  transfer: { called: 'waiting', serving: 'waiting' },
  cancel: { waiting: 'cancelled' },
  expire: { waiting: 'expired', called: 'expired', serving: 'expired' },
};
const REFUSAL: Record<TicketAction, string> = {
  call: 'TICKET_NOT_WAITING', recall: 'TICKET_NOT_CALLED', start: 'TICKET_NOT_CALLED', finish: 'TICKET_NOT_IN_SERVICE',
  no_show: 'TICKET_NOT_CALLED', transfer: 'TICKET_NOT_IN_SERVICE', cancel: 'TICKET_NOT_WAITING',
  expire: 'TICKET_FINISHED',
};
const EVENT: Record<TicketAction, string> = {
  call: 'called', recall: 'recalled', start: 'started', finish: 'finished', no_show: 'no_show', transfer: 'transferred', cancel: 'cancelled',
  expire: 'expired',
};

const cases = (Object.keys(LEGAL) as TicketAction[]).flatMap((action) =>
  TICKET_STATUSES.map((from) => ({ action, from, to: LEGAL[action][from] })));

describe('ticket lifecycle', () => {
  it('covers 8 actions x 8 statuses', () => expect(cases).toHaveLength(64));

  it.each(cases.filter((c) => c.to))('$action: $from -> $to', ({ action, from, to }) => {
    expect(transition(from, action)).toEqual({ from, to, event: EVENT[action] });
  });

  it.each(cases.filter((c) => !c.to))('$action refused when $from', ({ action, from }) => {
    let error: unknown;
    try {
      transition(from, action, 'A023');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueueError);
    expect(error).toMatchObject({ code: REFUSAL[action], status: 409 });
    expect((error as Error).message).toContain('A023');
  });

  it('final statuses allow nothing', () => {
    for (const from of ['done', 'no_show', 'cancelled'] as const) {
      for (const action of Object.keys(LEGAL) as TicketAction[]) expect(() => transition(from, action)).toThrow(QueueError);
    }
  });
});
