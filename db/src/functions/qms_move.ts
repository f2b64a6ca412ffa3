import type { DbFunction } from './function.ts';

// start, finish and no-show in one round trip, when nothing is wrong (server/src/queue/
// queue.service.ts `move`; measured in docs/performance.md, g). Before it, an official's finish
// was five: which counter the official works, BEGIN, the counter and ticket locked, the ticket
// and its event written, COMMIT.
//
// This function is the happy path only. It moves the ticket when every check the engine's
// transaction makes holds: the counter (given, or the one the official works) is active, not
// closed, and the official's; the ticket is at that counter, at its site, in one of the statuses
// the move is allowed from (p_from, which the engine takes from the lifecycle table, so the rule
// is written once). Otherwise it changes nothing and returns no row, and the engine runs its
// transaction, which moves the ticket or says why not: every refusal is made in one place.
//
// Locks in call-next's order (the counter, then the ticket), so the two never deadlock. PL/pgSQL
// for the reason qms_call_next gives: the ticket's UPDATE, after the counter's lock, checks the
// ticket as the previous holder of the lock left it.
//
// Returns the moved ticket with its counter's id and site, the site's zone and the official the
// rating request names (the one who called it, else the counter's): what the engine's reply and
// events need.

export const qmsMove: DbFunction = {
  name: 'qms_move',
  signature: `qms_move(p_ticket uuid, p_counter uuid, p_staff uuid, p_device uuid, p_from text[], p_to text, p_event text,
    p_at timestamptz, p_started boolean, p_finished boolean)`,
  returns: `TABLE (moved ticket, k_id uuid, k_site_id uuid, site_timezone text, official_id uuid, official_name text,
    official_photo_etag text)`,
  language: 'plpgsql VOLATILE',
  body: `
DECLARE
  v_counter uuid := p_counter;
  c record;
  v_old ticket;
  v_moved ticket;
BEGIN
  IF v_counter IS NULL THEN
    -- an official: the counter they work is the one the ticket is at, if it is theirs (an
    -- official works one counter at a time: opening one closes their others)
    SELECT t.counter_id INTO v_counter FROM ticket t WHERE t.id = p_ticket;
    IF v_counter IS NULL THEN
      RETURN;
    END IF;
  END IF;

  SELECT k.id, k.site_id, k.staff_id, s.timezone
    INTO c
    FROM counter k JOIN site s ON s.id = k.site_id
    WHERE k.id = v_counter AND k.active AND k.status <> 'closed' AND (p_staff IS NULL OR k.staff_id = p_staff)
    FOR UPDATE OF k;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  -- from here on, each statement sees what was committed before the counter's lock was ours
  SELECT * INTO v_old FROM ticket t WHERE t.id = p_ticket FOR UPDATE;
  IF NOT FOUND OR v_old.counter_id IS DISTINCT FROM c.id OR v_old.site_id <> c.site_id OR NOT (v_old.status = ANY (p_from)) THEN
    RETURN;
  END IF;

  UPDATE ticket t SET status = p_to,
      started_at = CASE WHEN p_started THEN p_at ELSE t.started_at END,
      finished_at = CASE WHEN p_finished THEN p_at ELSE t.finished_at END
    WHERE t.id = p_ticket
    RETURNING t.* INTO v_moved;
  INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, device_id, at)
    VALUES (v_moved.id, v_moved.site_id, p_event, v_old.status, p_to, v_moved.service_id, c.id, p_staff, p_device, p_at);

  RETURN QUERY
    SELECT v_moved, c.id, c.site_id, c.timezone, u.id, u.display_name, p.etag
    FROM (SELECT 1) one
      LEFT JOIN app_user u ON u.id = coalesce(v_moved.staff_id, c.staff_id)
      LEFT JOIN staff_photo p ON p.user_id = u.id;
END
`,
};
