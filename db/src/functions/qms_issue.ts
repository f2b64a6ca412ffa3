import type { DbFunction } from './function.ts';

// A walk-in issue in one round trip (server/src/queue/queue.service.ts `issueNew`, measured in
// docs/performance.md, "What changed for issue 20"), and the two counts it shares with the
// engine's other reads. Made by migration 2026-12-06T04-00-00.
//
// Why one function: the service's number row (daily_sequence) is locked from the moment the
// number is taken until the commit, so that numbers have no gaps and positions are counted in
// number order. In a transaction driven from the server the lock was held over three round trips
// and the commit; in here it is held for the statements' own time. Why PL/pgSQL and not one SQL
// statement: in READ COMMITTED a statement reads from a snapshot taken when it starts, so a
// statement that first waits for the number's lock would count the people ahead without the
// ticket the previous holder just committed. Inside a VOLATILE function each statement takes a
// fresh snapshot.

/**
 * The people call-next will take before a waiting ticket of its service: the order of
 * qms_call_next, counted (the rules are written at aheadOf in queue.repository.ts, which calls
 * this; server/test/queue/call-order.property.test.ts holds the two together). The ticket itself
 * (p_id) is not counted, so it may be counted before its insert.
 */
export const qmsTicketAhead: DbFunction = {
  name: 'qms_ticket_ahead',
  signature: 'qms_ticket_ahead(p_service uuid, p_id uuid, p_rank integer, p_queued_at timestamptz, p_issued_at timestamptz, p_number integer)',
  returns: 'integer',
  language: 'sql STABLE',
  body: `
  SELECT (CASE
      WHEN o.ratio IS NULL THEN w.before + CASE WHEN p_rank IS NULL THEN w.priority ELSE 0 END
      WHEN p_rank IS NULL THEN w.before + least(w.priority, CASE WHEN w.before >= o.first_normals THEN 1 + (w.before - o.first_normals) / o.ratio ELSE 0 END)
      ELSE w.before + least(w.normal, o.first_normals + w.before * o.ratio)
    END)::int
  FROM (
    SELECT count(*) FILTER (WHERE CASE WHEN p_rank IS NULL
          THEN t.priority_rank IS NULL AND (t.queued_at, t.issued_at, t.number) < (p_queued_at, p_issued_at, p_number)
          ELSE t.priority_rank IS NOT NULL AND (t.priority_rank < p_rank
            OR (t.priority_rank = p_rank AND (t.queued_at, t.issued_at, t.number) < (p_queued_at, p_issued_at, p_number))) END) AS before,
      count(*) FILTER (WHERE t.priority_rank IS NOT NULL) AS priority,
      count(*) FILTER (WHERE t.priority_rank IS NULL) AS normal
    FROM ticket t
    WHERE t.service_id = p_service AND t.status = 'waiting' AND t.id <> p_id
  ) w, (
    -- (greatest() skips NULL: no ratio must stay NULL)
    SELECT CASE WHEN s.priority_ratio IS NOT NULL THEN greatest(s.priority_ratio, 1) END AS ratio,
      greatest(s.priority_ratio - coalesce((
        SELECT max(coalesce(k.normal_streak, s.priority_ratio)) FROM counter k JOIN counter_service cs ON cs.counter_id = k.id
        WHERE cs.service_id = v.id AND k.active), s.priority_ratio), 0) AS first_normals
    FROM service v JOIN site s ON s.id = v.site_id WHERE v.id = p_service
  ) o
`,
};

/**
 * What a service can serve at an instant: its counters (open; open or paused, an official at the
 * desk; all active), and the mean call-to-finish seconds of its last 20 tickets served in the two
 * weeks before (null without any). An issue's estimate needs these and not the waiting tickets,
 * which it counts itself (qms_ticket_ahead).
 * The last 20 served are read with one bound, and the two weeks applied to those 20: the same
 * tickets. With both bounds in the scan, a plan made for the parameters (PL/pgSQL's after five
 * runs, a prepared statement's) guessed a handful of rows between two unknown dates and read
 * every ticket the service had served today, then sorted them (docs/performance.md, g).
 */
export const qmsServiceCapacity: DbFunction = {
  name: 'qms_service_capacity',
  signature: 'qms_service_capacity(p_service uuid, p_now timestamptz)',
  returns: 'TABLE (open_counters integer, serving_counters integer, counters integer, recent_service_seconds double precision)',
  language: 'sql STABLE',
  body: `
  SELECT k.open_counters, k.serving_counters, k.counters,
    (SELECT avg(extract(epoch FROM r.finished_at - r.called_at))::float8 FROM (
      SELECT t.finished_at, t.called_at FROM ticket t
      WHERE t.service_id = p_service AND t.status = 'done' AND t.finished_at <= p_now
      ORDER BY t.finished_at DESC LIMIT 20) r
     WHERE r.finished_at > p_now - interval '14 days')
  FROM (
    SELECT count(*) FILTER (WHERE c.status = 'open')::int AS open_counters,
      count(*) FILTER (WHERE c.status IN ('open', 'paused'))::int AS serving_counters,
      count(*)::int AS counters
    FROM counter_service cs JOIN counter c ON c.id = cs.counter_id
    WHERE cs.service_id = p_service AND c.active
  ) k
`,
};

/**
 * A service's load at an instant: its waiting tickets and the oldest of them, and what it can
 * serve (qms_service_capacity). Inlined into the query that calls it (one SELECT, STABLE), so
 * serviceLoads plans it with the services it reads.
 */
export const qmsServiceLoad: DbFunction = {
  name: 'qms_service_load',
  signature: 'qms_service_load(p_service uuid, p_now timestamptz)',
  returns: 'TABLE (waiting integer, oldest_queued_at timestamptz, open_counters integer, serving_counters integer, counters integer, recent_service_seconds double precision)',
  language: 'sql STABLE',
  body: `
  SELECT w.waiting, w.oldest_queued_at, c.open_counters, c.serving_counters, c.counters, c.recent_service_seconds
  FROM (SELECT count(*)::int AS waiting, min(t.queued_at) AS oldest_queued_at FROM ticket t WHERE t.service_id = p_service AND t.status = 'waiting') w,
    qms_service_capacity(p_service, p_now) c
`,
};

/**
 * Issues a walk-in ticket: takes the service's next number for the day (locking its row), reads
 * the people ahead and what the service can serve, estimates the wait, checks it against the closing
 * time, and inserts the ticket, its `issued` event and its procedure (when one is given). Run in
 * autocommit, never inside a caller's transaction.
 *
 * - The ticket's instant is p_at, the engine's clock read before the call. Two kiosks racing for
 *   one number may read their clocks in the other order than they take the lock; so that arrival
 *   order stays number order, a ticket whose instant is less than a second before the previous
 *   number's takes that number's instant (a scripted history further back is kept as it is).
 * - The estimate is estimateWait's (server/src/queue/wait.estimate.ts): the people ahead times
 *   the recent mean service time (p_default_seconds without history), shared by the counters
 *   open for the service, or its configured ones before any opens; rounded as Math.round does.
 *   server/test/queue/issue-function.test.ts holds the two together.
 * - Refusals are raised with SQLSTATE QMS01, the code as the message and figures as JSON in the
 *   detail, and roll everything back, the number too: SERVICE_CLOSING when the estimate runs
 *   past p_closes_at; REPLAY_AHEAD when a booked ticket waits in the service, whose streak the
 *   count above does not follow (the engine then counts by replaying call-next's order).
 */
export const qmsIssue: DbFunction = {
  name: 'qms_issue',
  signature: `qms_issue(p_id uuid, p_public_id text, p_site uuid, p_service uuid, p_local_date date, p_prefix text, p_code_digits integer,
    p_priority text, p_priority_rank integer, p_lang text, p_channel text, p_device uuid, p_staff uuid, p_issue_key text,
    p_at timestamptz, p_closes_at timestamptz, p_default_seconds double precision,
    p_procedure_code text, p_procedure_name jsonb, p_procedure_source text)`,
  returns: 'TABLE (issued ticket, serving_counters integer)',
  language: 'plpgsql VOLATILE',
  body: `
DECLARE
  v_number integer;
  v_previous timestamptz;
  v_at timestamptz := date_trunc('milliseconds', p_at);
  v_ahead integer;
  v_capacity record;
  v_estimate double precision;
  v_ticket ticket;
BEGIN
  INSERT INTO daily_sequence (service_id, local_date, last_number) VALUES (p_service, p_local_date, 1)
    ON CONFLICT (service_id, local_date) DO UPDATE SET last_number = daily_sequence.last_number + 1
    RETURNING last_number INTO v_number;
  IF v_number > 1 THEN
    SELECT t.issued_at INTO v_previous FROM ticket t
      WHERE t.issued_service_id = p_service AND t.local_date = p_local_date AND t.number = v_number - 1;
    IF v_previous > v_at AND v_previous - v_at < interval '1 second' THEN v_at := v_previous; END IF;
  END IF;

  IF EXISTS (SELECT 1 FROM ticket t WHERE t.service_id = p_service AND t.status = 'waiting' AND t.booking_kind = 'slot') THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'REPLAY_AHEAD';
  END IF;
  v_ahead := qms_ticket_ahead(p_service, p_id, p_priority_rank, v_at, v_at, v_number);
  SELECT * INTO v_capacity FROM qms_service_capacity(p_service, v_at);
  v_estimate := floor(v_ahead * coalesce(v_capacity.recent_service_seconds, p_default_seconds)
    / greatest(1, coalesce(nullif(v_capacity.open_counters, 0), v_capacity.counters)) + 0.5);
  IF p_closes_at IS NOT NULL AND v_at + make_interval(secs => v_estimate) > p_closes_at THEN
    RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'SERVICE_CLOSING', DETAIL = json_build_object('estimatedWaitSeconds', v_estimate)::text;
  END IF;

  INSERT INTO ticket (id, public_id, site_id, issued_service_id, service_id, local_date, number, code, status, priority, priority_rank,
      lang, channel, device_id, staff_id, issued_at, queued_at, estimated_wait_seconds, position_at_issue, issue_key)
    VALUES (p_id, p_public_id, p_site, p_service, p_service, p_local_date, v_number,
      p_prefix || lpad(v_number::text, greatest(p_code_digits, length(v_number::text)), '0'), 'waiting', p_priority, p_priority_rank,
      p_lang, p_channel, p_device, p_staff, v_at, v_at, v_estimate, v_ahead, p_issue_key)
    RETURNING * INTO v_ticket;
  INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, device_id, at)
    VALUES (p_id, p_site, 'issued', NULL, 'waiting', p_service, NULL, p_staff, p_device, v_at);
  IF p_procedure_code IS NOT NULL THEN
    INSERT INTO ticket_procedure (ticket_id, site_id, procedure_code, procedure_name, service_id, source, added_at, added_by)
      VALUES (p_id, p_site, p_procedure_code, p_procedure_name, p_service, p_procedure_source, v_at, p_staff);
  END IF;
  RETURN QUERY SELECT v_ticket, v_capacity.serving_counters;
END
`,
};
