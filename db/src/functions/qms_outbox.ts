import type { DbFunction } from './function.ts';

// The transactional outbox's writers: triggers that copy each fact into `outbox` in the
// transaction that records it, so a fact committed is a fact to be notified and nothing else is.
// Triggers rather than application code because the hottest writer, qms_call_next, is one
// statement of the database's own; and so no future command can forget. The relay
// (server/src/notifications/relay.ts) turns outbox rows into messages.

/** Every ticket change (ticket_event): ticket:issued, ticket:called (a call or a recall), ticket:updated. */
export const qmsOutboxTicketEvent: DbFunction = {
  name: 'qms_outbox_ticket_event',
  signature: 'qms_outbox_ticket_event()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
      VALUES (NEW.site_id,
        CASE NEW.type WHEN 'issued' THEN 'ticket:issued' WHEN 'called' THEN 'ticket:called' WHEN 'recalled' THEN 'ticket:called' ELSE 'ticket:updated' END,
        NEW.ticket_id, NEW.id::text, NEW.at,
        jsonb_build_object('event', NEW.type, 'fromStatus', NEW.from_status, 'status', NEW.to_status,
          'serviceId', NEW.service_id, 'counterId', NEW.counter_id, 'staffId', NEW.staff_id));
      RETURN NULL;
    END `,
};

/** A rating: rating:created. */
export const qmsOutboxRating: DbFunction = {
  name: 'qms_outbox_rating',
  signature: 'qms_outbox_rating()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
      VALUES (NEW.site_id, 'rating:created', NEW.ticket_id, NEW.id::text, NEW.created_at,
        jsonb_build_object('score', NEW.score, 'reason', NEW.reason, 'comment', NEW.comment, 'channel', NEW.channel,
          'counterId', NEW.counter_id, 'staffId', NEW.staff_id));
      RETURN NULL;
    END `,
};

/** An alert: alert:raised, and criticism:created for a criticism. */
export const qmsOutboxAlert: DbFunction = {
  name: 'qms_outbox_alert',
  signature: 'qms_outbox_alert()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
      VALUES (NEW.site_id, 'alert:raised', NEW.ticket_id, NEW.id::text, NEW.created_at, jsonb_build_object('kind', NEW.kind));
      IF NEW.kind = 'criticism' THEN
        INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
        VALUES (NEW.site_id, 'criticism:created', NEW.ticket_id, NEW.id::text, NEW.created_at, jsonb_build_object('kind', NEW.kind));
      END IF;
      RETURN NULL;
    END `,
};
