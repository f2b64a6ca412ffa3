import { sql, type Kysely } from 'kysely';
import { up as callNextWithoutSites } from './2026-11-24T13-00-00_call-next-function.ts';

// call-next without a lookup before it (server/src/routes/ticket.routes.ts, measured in
// docs/performance.md, "Call-to-screen latency"): the route used to read the counter's site
// (one more round trip, cached per process but missed on each counter's first call) only to
// check that the official is staff of that site. qms_call_next now takes the official's sites
// and checks them itself, right after finding the counter: unknown counter 404 first, then
// not staff of its site (NOT_SITE_STAFF, the route's 403), then the checks of 13-00-00.
// Everything else is the function of 2026-11-24T13-00-00 unchanged.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION qms_call_next(uuid, uuid, uuid, timestamptz)`.execute(db);
  await sql`
    CREATE FUNCTION qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz, p_sites uuid[])
    RETURNS SETOF ticket
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      c record;
      busy record;
      v_picked uuid;
      v_called ticket;
      v_strict boolean;
      v_priority_first boolean;
    BEGIN
      -- the counter, locked, with its site's rules (the site is not locked)
      SELECT k.id, k.site_id, k.number, k.active, k.status, k.staff_id, k.normal_streak, s.service_order, s.priority_ratio
        INTO c
        FROM counter k JOIN site s ON s.id = k.site_id
        WHERE k.id = p_counter
        FOR UPDATE OF k;
      IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'COUNTER_NOT_FOUND';
      END IF;
      -- an official calls only at the sites they are staff of (p_sites NULL: an admin, a device)
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

      -- two counters never get the same ticket, and neither waits for the other
      SELECT t.id INTO v_picked
        FROM ticket t
        JOIN counter_service cs ON cs.service_id = t.service_id AND cs.counter_id = p_counter
        WHERE t.status = 'waiting'
        ORDER BY CASE WHEN v_strict THEN cs.position END,
          CASE WHEN v_priority_first THEN t.priority_rank IS NULL ELSE t.priority_rank IS NOT NULL END,
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
      UPDATE counter SET normal_streak = CASE WHEN v_called.priority_rank IS NULL THEN coalesce(normal_streak, 0) + 1 ELSE 0 END
        WHERE id = p_counter;
      RETURN NEXT v_called;
      RETURN;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS qms_call_next(uuid, uuid, uuid, timestamptz, uuid[])`.execute(db);
  await callNextWithoutSites(db);
}
