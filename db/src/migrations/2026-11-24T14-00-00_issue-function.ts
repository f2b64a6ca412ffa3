import { sql, type Kysely } from 'kysely';

// Issuing a ticket in one round trip (server/src/queue/queue.repository.ts `issueTicket`,
// measured in docs/performance.md, "Call-to-screen latency"). The engine used to run BEGIN, the
// daily sequence, the ticket insert, its position, its service's load, the estimate update with
// the issued event and COMMIT; this function does the same work when called in autocommit.
//
// Why a PL/pgSQL function and not one SQL statement: the daily sequence's row lock serialises
// the kiosks of a service, and the ticket's position must count the tickets those kiosks
// committed while we waited for the lock. In READ COMMITTED a statement reads from a snapshot
// taken when it starts; inside a VOLATILE function every statement takes a fresh one.
//
// The numbers stay gap-free and duplicate-free per service per local day: the increment and
// the insert commit together, and a refusal (SERVICE_CLOSING, raised with SQLSTATE QMS01 and
// the estimate as JSON detail) rolls the whole statement back, number included.
//
// The wait estimate is the engine's (server/src/queue/wait.estimate.ts): the people ahead
// share the counters open for the service (the configured ones before any opens), each taking
// the mean service time of its last p_recent_served tickets done in the last 14 days
// (p_default_seconds without any). Math.round of a positive number is floor(x + 0.5).
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION qms_issue_ticket(
      p_site uuid, p_service uuid, p_local_date date, p_public_id text, p_prefix text, p_code_digits int,
      p_priority text, p_priority_rank int, p_lang text, p_channel text, p_device uuid, p_staff uuid,
      p_at timestamptz, p_closes_at timestamptz, p_default_seconds float8, p_recent_served int)
    RETURNS SETOF ticket
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_number int;
      v_at timestamptz;
      v_ahead int;
      v_open int;
      v_counters int;
      v_recent float8;
      v_estimate int;
      v_ticket ticket;
    BEGIN
      -- the number: the row lock serialises concurrent kiosks of this service until commit
      INSERT INTO daily_sequence AS d (service_id, local_date, last_number) VALUES (p_service, p_local_date, 1)
        ON CONFLICT (service_id, local_date) DO UPDATE SET last_number = d.last_number + 1
        RETURNING d.last_number INTO v_number;

      -- arrival order follows number order even when the kiosk that read the clock first
      -- got the lock second
      SELECT greatest(p_at, p.issued_at) INTO v_at
        FROM (SELECT NULL::timestamptz) one
        LEFT JOIN ticket p ON p.issued_service_id = p_service AND p.local_date = p_local_date AND p.number = v_number - 1;

      -- from here on, each statement sees what the previous holder of the lock committed
      SELECT count(*)::int INTO v_ahead
        FROM ticket t
        WHERE t.service_id = p_service AND t.status = 'waiting'
          AND (CASE WHEN p_priority_rank IS NULL THEN t.priority_rank IS NOT NULL ELSE t.priority_rank < p_priority_rank END
            OR (t.priority_rank IS NOT DISTINCT FROM p_priority_rank
              AND (t.queued_at, t.issued_at, t.number) < (v_at, v_at, v_number)));

      SELECT count(*) FILTER (WHERE c.status = 'open')::int, count(*)::int INTO v_open, v_counters
        FROM counter_service cs JOIN counter c ON c.id = cs.counter_id
        WHERE cs.service_id = p_service AND c.active;
      SELECT avg(extract(epoch FROM r.finished_at - r.called_at))::float8 INTO v_recent
        FROM (SELECT t.finished_at, t.called_at FROM ticket t
          WHERE t.service_id = p_service AND t.status = 'done'
            AND t.finished_at > v_at - interval '14 days' AND t.finished_at <= v_at
          ORDER BY t.finished_at DESC LIMIT p_recent_served) r;
      v_estimate := floor(v_ahead * coalesce(v_recent, p_default_seconds) / greatest(1, coalesce(nullif(v_open, 0), v_counters)) + 0.5);

      IF p_closes_at IS NOT NULL AND v_at + v_estimate * interval '1 second' > p_closes_at THEN
        RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'SERVICE_CLOSING', DETAIL = json_build_object('estimatedWaitSeconds', v_estimate)::text;
      END IF;

      INSERT INTO ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, priority,
          priority_rank, lang, channel, device_id, staff_id, issued_at, queued_at, estimated_wait_seconds, position_at_issue)
        VALUES (p_public_id, p_site, p_service, p_service, p_local_date, v_number,
          p_prefix || lpad(v_number::text, greatest(p_code_digits, length(v_number::text)), '0'), 'waiting', p_priority,
          p_priority_rank, p_lang, p_channel, p_device, p_staff, v_at, v_at, v_estimate, v_ahead)
        RETURNING * INTO v_ticket;
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, staff_id, device_id, at)
        VALUES (v_ticket.id, p_site, 'issued', NULL, 'waiting', p_service, p_staff, p_device, v_at);
      RETURN NEXT v_ticket;
      RETURN;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS qms_issue_ticket(uuid, uuid, date, text, text, int, text, int, text, text, uuid, uuid,
    timestamptz, timestamptz, float8, int)`.execute(db);
}
