import type { DbFunction } from './function.ts';

// The transactional outbox's writers: triggers that copy each fact into `outbox` in the
// transaction that records it, so a fact committed is a fact to be notified and nothing else is.
// Triggers rather than application code because the hottest writer, qms_call_next, is one
// statement of the database's own; and so no future command can forget. The relay
// (server/src/notifications/relay.ts) turns outbox rows into messages.
// A fact nobody at its site would hear of is not written (qms_outbox_wanted): most commune
// centres have no webhook, channel or leader to tell, and a fact written is three index entries,
// an update when relayed and a delete a week later.

/**
 * Whether a fact of `p_type` at the site reaches anyone, as the relay would fan it out: an
 * active webhook subscribed to the type; for a ticket's change, a citizen channel (the call's
 * message and "N people ahead"); for an alert, a leader to tell. Read in the writing statement's
 * snapshot: a webhook added later hears of the facts committed after it.
 */
export const qmsOutboxWanted: DbFunction = {
  name: 'qms_outbox_wanted',
  signature: 'qms_outbox_wanted(p_site uuid, p_type text)',
  returns: 'boolean',
  language: 'plpgsql STABLE',
  body: `
    BEGIN
      RETURN EXISTS (SELECT 1 FROM webhook w WHERE w.site_id = p_site AND w.active AND p_type = ANY (w.events))
        OR (p_type LIKE 'ticket:%' AND EXISTS (SELECT 1 FROM notification_channel c WHERE c.site_id = p_site AND c.enabled))
        OR (p_type = 'alert:raised' AND EXISTS (SELECT 1 FROM notification_recipient r WHERE r.site_id = p_site AND r.active));
    END `,
};

/** Every ticket change (ticket_event): ticket:issued, ticket:called (a call or a recall), ticket:updated. */
export const qmsOutboxTicketEvent: DbFunction = {
  name: 'qms_outbox_ticket_event',
  signature: 'qms_outbox_ticket_event()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    DECLARE
      v_type text := CASE NEW.type WHEN 'issued' THEN 'ticket:issued' WHEN 'called' THEN 'ticket:called' WHEN 'recalled' THEN 'ticket:called' ELSE 'ticket:updated' END;
    BEGIN
      IF NOT qms_outbox_wanted(NEW.site_id, v_type) THEN RETURN NULL; END IF;
      INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
      VALUES (NEW.site_id, v_type, NEW.ticket_id, NEW.id::text, NEW.at,
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
      IF NOT qms_outbox_wanted(NEW.site_id, 'rating:created') THEN RETURN NULL; END IF;
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
      IF qms_outbox_wanted(NEW.site_id, 'alert:raised') THEN
        INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
        VALUES (NEW.site_id, 'alert:raised', NEW.ticket_id, NEW.id::text, NEW.created_at, jsonb_build_object('kind', NEW.kind));
      END IF;
      IF NEW.kind = 'criticism' AND qms_outbox_wanted(NEW.site_id, 'criticism:created') THEN
        INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
        VALUES (NEW.site_id, 'criticism:created', NEW.ticket_id, NEW.id::text, NEW.created_at, jsonb_build_object('kind', NEW.kind));
      END IF;
      RETURN NULL;
    END `,
};
