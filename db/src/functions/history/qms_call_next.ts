import type { DbFunction } from '../function.ts';

// qms_call_next as it was until migration 2026-12-07T04-00-00 merged its two functions into one
// (db/src/functions/qms_call_next.ts): the 4-argument function that did the work and the
// 5-argument one the server called, which checked the official's site first. The migrations
// before that one create these bodies, so that a fresh database passes through the same history
// as a database migrated at the time, and the new one's down restores them. Only migrations
// import this file.

export const qmsCallNextBefore: DbFunction = {
  name: 'qms_call_next',
  signature: 'qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz)',
  returns: 'SETOF ticket',
  language: 'plpgsql VOLATILE',
  settings: { enable_bitmapscan: 'off' },
  body: `
DECLARE
  c record;
  busy record;
  v_picked uuid;
  v_called ticket;
  v_strict boolean;
  v_priority_first boolean;
  v_walk_in_first boolean;
  v_today date;
  v_services uuid[];
  v_positions integer[];
BEGIN
  -- the counter, locked, with its site's rules (the site is not locked)
  SELECT k.id, k.number, k.active, k.status, k.staff_id, k.normal_streak, k.booked_streak, k.site_id, s.service_order, s.priority_ratio, s.timezone
    INTO c
    FROM counter k JOIN site s ON s.id = k.site_id
    WHERE k.id = p_counter
    FOR UPDATE OF k;
  IF NOT FOUND OR NOT c.active THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'COUNTER_NOT_FOUND';
  END IF;
  IF c.status = 'closed' THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'COUNTER_NOT_OPEN', DETAIL = json_build_object('number', c.number)::text;
  END IF;
  IF c.status <> 'open' THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'COUNTER_PAUSED', DETAIL = json_build_object('number', c.number)::text;
  END IF;
  IF p_staff IS NOT NULL AND c.staff_id IS DISTINCT FROM p_staff THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'NOT_COUNTER_OFFICIAL', DETAIL = json_build_object('number', c.number)::text;
  END IF;

  -- from here on, each statement sees what was committed before the lock was ours
  SELECT a.id, a.code INTO busy
    FROM ticket a
    WHERE a.counter_id = p_counter AND a.status IN ('called', 'serving')
    ORDER BY a.called_at DESC LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'COUNTER_BUSY',
      DETAIL = json_build_object('number', c.number, 'ticketId', busy.id, 'code', busy.code)::text;
  END IF;

  -- the priority ratio: normal tickets first while the streak is below the ratio
  v_priority_first := NOT (c.priority_ratio IS NOT NULL AND c.normal_streak IS NOT NULL AND c.normal_streak < c.priority_ratio);
  v_strict := c.service_order = 'strict';
  -- a walk-in (or remote) ticket before booked ones once the counter has called its row of them;
  -- the site's settings are read only then (a counter that has just called a booked ticket)
  v_walk_in_first := false;
  IF coalesce(c.booked_streak, 0) > 0 THEN
    SELECT c.booked_streak >= coalesce((s.settings->'bookings'->>'bookedInRow')::int, 2) INTO v_walk_in_first
      FROM site s WHERE s.id = c.site_id;
  END IF;
  v_today := (p_at AT TIME ZONE c.timezone)::date;

  -- the counter's services, in its order: the pick reads their waiting tickets by the index on
  -- (service_id, ...) WHERE status = 'waiting'. A join with counter_service let the planner scan
  -- every live ticket of every site instead, when its statistics said there were few (they are
  -- a day old in the morning: autoanalyze waits for a tenth of the table to change). The services
  -- are the counter's site's (the configuration checks it), so the pick names no site; the day is
  -- a filter on what that index gives (local_date + 0: no index can take it); and the function
  -- runs without bitmap scans. Otherwise the plan cached for its parameters read the live
  -- tickets' index by site and day (every site's, dead entries included, as a bitmap scan never
  -- marks them; dropped since, migration 2026-12-07T00-40-00) on every call, alone or
  -- intersected with the waiting tickets'.
  SELECT array_agg(cs.service_id ORDER BY cs.position), array_agg(cs.position ORDER BY cs.position) INTO v_services, v_positions
    FROM counter_service cs WHERE cs.counter_id = p_counter;

  -- two counters never get the same ticket, and neither waits for the other
  SELECT t.id INTO v_picked
    FROM ticket t
    WHERE t.service_id = ANY (v_services) AND t.status = 'waiting' AND t.local_date + 0 >= v_today
    ORDER BY CASE WHEN v_strict THEN v_positions[array_position(v_services, t.service_id)] END,
      CASE WHEN v_priority_first THEN t.priority_rank IS NULL ELSE t.priority_rank IS NOT NULL END,
      CASE WHEN v_walk_in_first THEN t.booking_kind IS NOT DISTINCT FROM 'slot' END,
      t.priority_rank, t.queued_at, t.issued_at, t.number, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED;
  IF v_picked IS NULL THEN
    RETURN;
  END IF;

  UPDATE ticket SET status = 'called', counter_id = p_counter, staff_id = coalesce(p_staff, c.staff_id), called_at = p_at
    WHERE id = v_picked
    RETURNING * INTO v_called;
  INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, device_id, at)
    VALUES (v_called.id, v_called.site_id, 'called', 'waiting', 'called', v_called.service_id, p_counter, p_staff, p_device, p_at);
  UPDATE counter SET normal_streak = CASE WHEN v_called.priority_rank IS NULL THEN coalesce(normal_streak, 0) + 1 ELSE 0 END,
      booked_streak = CASE WHEN v_called.booking_kind IS NOT DISTINCT FROM 'slot' THEN coalesce(booked_streak, 0) + 1 ELSE 0 END
    WHERE id = p_counter;
  RETURN NEXT v_called;
  RETURN;
END
`,
};

/**
 * The overload the server calls for an official: refuses an official of another site
 * (NOT_SITE_STAFF, the route's 403; NULL sites for an admin or a counter device) and otherwise
 * runs the function above. A counter's site never changes, so it is checked without the lock.
 */
export const qmsCallNextForStaffBefore: DbFunction = {
  name: 'qms_call_next',
  signature: 'qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz, p_sites uuid[])',
  returns: 'SETOF ticket',
  language: 'plpgsql VOLATILE',
  body: `
BEGIN
  IF p_sites IS NOT NULL AND EXISTS (SELECT 1 FROM counter k WHERE k.id = p_counter AND NOT (k.site_id = ANY (p_sites))) THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'NOT_SITE_STAFF';
  END IF;
  RETURN QUERY SELECT * FROM qms_call_next(p_counter, p_staff, p_device, p_at);
END
`,
};
