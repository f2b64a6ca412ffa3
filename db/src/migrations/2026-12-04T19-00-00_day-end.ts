import { sql, type Kysely } from 'kysely';

// A site's day ends (server/src/queue/day-end.ts): every ticket still waiting, called or being
// served when it ends becomes `expired` (its own status, counted apart from an official's
// no-shows), with an `expired` event whose actor is the system.
//
// - The live tickets of a site never share a printed code: a unique index over the live ones.
//   Numbers restart each local day, so without the day's end yesterday's M002 and today's M002
//   would both wait; now the second cannot exist until the first has ended.
// - `qms_call_next` never calls a ticket of an earlier local day than the call's, even before
//   the day's end has been swept (a server that was down at midnight).
// - Tickets of earlier days still live now are expired here, so the index can be built.
//
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE ticket DROP CONSTRAINT ticket_status_check`.execute(db);
  await sql`ALTER TABLE ticket ADD CONSTRAINT ticket_status_check
    CHECK (status in ('waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled', 'expired'))`.execute(db);
  await sql`ALTER TABLE ticket_event DROP CONSTRAINT ticket_event_type_check`.execute(db);
  await sql`ALTER TABLE ticket_event ADD CONSTRAINT ticket_event_type_check
    CHECK (type in ('issued', 'called', 'recalled', 'started', 'finished', 'no_show', 'transferred', 'cancelled', 'expired'))`.execute(db);

  await sql`
    WITH stale AS (
      SELECT t.id, t.status FROM ticket t JOIN site s ON s.id = t.site_id
      WHERE t.status IN ('waiting', 'called', 'serving') AND t.local_date < (now() AT TIME ZONE s.timezone)::date
      FOR UPDATE OF t
    ), ended AS (
      UPDATE ticket t SET status = 'expired', finished_at = now() FROM stale WHERE t.id = stale.id
      RETURNING t.id, t.site_id, t.service_id, t.counter_id, stale.status AS from_status
    )
    INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, at, data)
    SELECT id, site_id, 'expired', from_status, 'expired', service_id, counter_id, now(), '{"reason":"day_end"}'::jsonb FROM ended`.execute(db);

  await sql`CREATE UNIQUE INDEX ticket_live_code_idx ON ticket (site_id, code) WHERE status IN ('waiting', 'called', 'serving')`.execute(db);
  // what the day's end looks for: the few live tickets, by site and day
  await sql`CREATE INDEX ticket_live_day_idx ON ticket (site_id, local_date) WHERE status IN ('waiting', 'called', 'serving')`.execute(db);

  // the function of 13-00-00 with one more condition on the pick: the ticket is of the call's
  // local day at the counter's site
  await sql`
    CREATE OR REPLACE FUNCTION qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz)
    RETURNS SETOF ticket
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      c record;
      busy record;
      v_picked uuid;
      v_called ticket;
      v_strict boolean;
      v_priority_first boolean;
      v_today date;
    BEGIN
      -- the counter, locked, with its site's rules (the site is not locked)
      SELECT k.id, k.number, k.active, k.status, k.staff_id, k.normal_streak, s.service_order, s.priority_ratio, s.timezone
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
      v_today := (p_at AT TIME ZONE c.timezone)::date;

      -- two counters never get the same ticket, and neither waits for the other
      SELECT t.id INTO v_picked
        FROM ticket t
        JOIN counter_service cs ON cs.service_id = t.service_id AND cs.counter_id = p_counter
        WHERE t.status = 'waiting' AND t.local_date >= v_today
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
  await sql`DROP INDEX ticket_live_day_idx`.execute(db);
  await sql`DROP INDEX ticket_live_code_idx`.execute(db);
  await sql`UPDATE ticket SET status = 'no_show' WHERE status = 'expired'`.execute(db);
  await sql`ALTER TABLE ticket DROP CONSTRAINT ticket_status_check`.execute(db);
  await sql`ALTER TABLE ticket ADD CONSTRAINT ticket_status_check
    CHECK (status in ('waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled'))`.execute(db);
}
