import type { DbFunction } from './function.ts';

// call-next in one round trip (server/src/queue/queue.repository.ts `callNext`, measured in
// docs/performance.md, "Call-to-screen latency"): the one place a ticket goes from waiting to
// called by "call next". Its current body; the migrations that changed it are its history
// (2026-11-24T13-00-00 made it, 15-00-00 added the overload with the official's sites,
// 2026-12-04T19-00-00 the day's condition on the pick, 2026-12-05T21-30-00 the booked streak,
// 2026-12-06T04-30-00 the pick by the counter's services, 2026-12-07T04-00-00 one function instead
// of two: the official's site checked on the locked counter, and the counter's number, name and
// site's zone returned with the ticket, which the server's statement used to join; the bodies
// before it are in history/qms_call_next.ts).
//
// Why PL/pgSQL and not one SQL statement: in READ COMMITTED a statement reads from a snapshot
// taken when it starts, so a statement that first waits for the counter's lock would check "the
// counter is free" against the state from before the wait, and two presses of one counter could
// both call. Inside a VOLATILE function every statement takes a fresh snapshot, so the checks
// after the lock see what the previous holder committed.
//
// The rules in here, and their TypeScript twins for the other counter actions:
// - the counter checks (open, not paused, the official's, free) are QueueService.workingCounter
//   and assertIdle for call-a-ticket, recall, start, finish; the refusals have the same codes;
// - the pick's order is the one positions are counted by (aheadOf in queue.repository.ts; a
//   property test, server/test/queue/call-order.property.test.ts, holds them together);
// - the normal streak (priority ratio) and the booked streak (a site's bookedInRow: at most that
//   many booked tickets in a row while a walk-in waits, docs/appointments.md) are counted here
//   for call-next and in QueueService.call for call-a-ticket. A booked ticket's place in line is
//   its queued_at, set at check-in (its slot less the site's walk-in cap).
// Refusals are raised with SQLSTATE QMS01, the refusal's code as the message and its figures as
// JSON in the detail; the engine turns them into its QueueError (same codes and statuses).

/**
 * Call-next at a counter, for an official (p_sites: the sites they are staff of; NULL for an admin
 * or a counter device) or a counter device. No row: there is no such counter. Otherwise one row
 * with the counter's number and name, its site and the site's zone, and the ticket called (NULL
 * when nothing waits for the counter's services).
 */
export const qmsCallNext: DbFunction = {
  name: 'qms_call_next',
  signature: 'qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz, p_sites uuid[])',
  returns: 'TABLE (counter_number integer, counter_name text, counter_site_id uuid, site_timezone text, called ticket)',
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
  SELECT k.id, k.number, k.name, k.active, k.status, k.staff_id, k.normal_streak, k.booked_streak, k.site_id, s.service_order, s.priority_ratio, s.timezone
    INTO c
    FROM counter k JOIN site s ON s.id = k.site_id
    WHERE k.id = p_counter
    FOR UPDATE OF k;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_sites IS NOT NULL AND NOT (c.site_id = ANY (p_sites)) THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'NOT_SITE_STAFF';
  END IF;
  IF NOT c.active THEN
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
    RETURN QUERY SELECT c.number, c.name, c.site_id, c.timezone, NULL::ticket;
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
  RETURN QUERY SELECT c.number, c.name, c.site_id, c.timezone, v_called;
END
`,
};
