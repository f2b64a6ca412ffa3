import type { DbFunction } from './function.ts';

/** The trigger that keeps ticket_event append-only: history is evidence, so the database refuses to rewrite it. */
export const ticketEventAppendOnly: DbFunction = {
  name: 'ticket_event_append_only',
  signature: 'ticket_event_append_only()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      RAISE EXCEPTION 'ticket_event is append-only';
    END `,
};
