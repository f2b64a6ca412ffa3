import { sql } from 'kysely';
import type { Db } from '@qms/db';
import { buildReportDays } from '../../../server/src/reports/report.service.ts';
import { now } from './util.ts';

// A year of history for the report benchmark, written inside PostgreSQL (INSERT ... SELECT over
// generate_series: nothing goes row by row through Node). Exactly `tickets` tickets over
// `sites` centres and the days of 2026, shaped like the one-stop centres:
//
// - opening hours Monday-Friday 07:30-11:30 and 13:30-17:00, Saturday mornings 07:30-11:30,
//   closed on Sundays and on the public holidays of 2026 (New Year, Tết, Hùng Kings, 30/4, 1/5,
//   National Day); every site has these rows in opening_hours and holiday;
// - centres of different sizes (the busiest about 6 times the quietest), 4 to 8 services each
//   (civil status and certification most asked for, land and business less), 5 to 16 counters
//   each serving two services, two more officials than counters;
// - arrivals by quarter hour with the morning peak at 09:00 and a smaller one at 14:30, more on
//   Mondays, fewer on Saturdays, a rush before Tết and a quiet week after it, ±20 % per site-day;
// - waits exponential around a mean that grows with the hour's crowd and the centre's size (a
//   third for priority tickets, 8 % of them), service times log-normal per service;
// - fates: 84.5 % served, 5 % no-show, 3 % left before their call (cancelled), 7.5 %
//   transferred once to another service and served there; 8 % of calls recalled once;
// - officials rotate between desks from day to day (each counter opened, paused for lunch,
//   resumed and closed every open day in counter_event); 60 % of calls name the official who
//   pressed the button, the rest come from the counter device and name none, so the report
//   finds the official through counter_event as it does in production;
// - 40 % of served tickets rated (70 % "Rất hài lòng", 22 % "Hài lòng", 8 % "Không hài lòng",
//   the last with a reason), 20 % of the ratings from the phone; an estimate on 96 % of tickets,
//   off by ±25 % and ±90 s.
//
// Tickets are inserted in issue order and events in the order they happened, as a live server
// writes them, with random uuids as ids: the rows of one site-month lie scattered among the
// other sites' rows exactly as they would after a real year. Foreign keys are not re-checked
// during the load (session_replication_role = replica): the rows are consistent by construction.

export const REPORT_YEAR = 2026;
export const REPORT_TZ = 'Asia/Ho_Chi_Minh';

export interface HistoryOptions {
  tickets: number;
  sites: number;
  log?: (line: string) => void;
  /** deterministic shape (PostgreSQL's setseed), default 0.42 */
  seed?: number;
}

export interface GeneratedHistory {
  siteIds: string[];
  /** the site with the most tickets */
  busiestSiteId: string;
  counts: { tickets: number; events: number; ratings: number; counterEvents: number };
  /** seconds per step */
  seconds: Record<string, number>;
  /** bytes on disk of the history tables with their indexes */
  bytes: Record<string, number>;
}

const SERVICES = [
  // code, prefix, vi, en, weight, target wait (s), service time factor
  ['HT', 'A', 'Hộ tịch', 'Civil status', 30, 900, 0.8],
  ['CT', 'B', 'Chứng thực', 'Certification', 25, 600, 0.5],
  ['DD', 'C', 'Đất đai', 'Land', 15, 1200, 1.6],
  ['KD', 'D', 'Đăng ký kinh doanh', 'Business registration', 10, 1200, 1.3],
  ['LD', 'E', 'Lao động – Thương binh và Xã hội', 'Labour and social affairs', 8, 900, 1.0],
  ['XD', 'F', 'Xây dựng', 'Construction', 6, 1200, 1.4],
  ['YT', 'G', 'Y tế – Bảo hiểm', 'Health insurance', 5, 900, 0.9],
  ['TP', 'H', 'Tư pháp', 'Justice', 4, 900, 1.0],
] as const;

const HOLIDAYS_2026 = [
  ['2026-01-01', 'Tết Dương lịch'],
  ...['2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20'].map((d) => [d, 'Tết Nguyên đán']),
  ['2026-04-27', 'Giỗ Tổ Hùng Vương'],
  ['2026-04-30', 'Ngày Giải phóng miền Nam'],
  ['2026-05-01', 'Quốc tế Lao động'],
  ['2026-09-01', 'Quốc khánh'],
  ['2026-09-02', 'Quốc khánh'],
] as const;

export async function generateReportHistory(db: Db, options: HistoryOptions): Promise<GeneratedHistory> {
  const log = options.log ?? (() => {});
  const seconds: Record<string, number> = {};
  const N = Math.max(1, Math.round(options.tickets));
  const S = Math.max(1, Math.min(99, Math.round(options.sites)));

  return db.connection().execute(async (c) => {
    try {
      return await load(c);
    } finally {
      // the connection goes back to the pool: nothing of the load's settings may stay on it
      await sql`RESET ALL`.execute(c);
    }
  });

  async function load(c: Db): Promise<GeneratedHistory> {
    const step = async (name: string, work: () => Promise<unknown>) => {
      const t0 = now();
      await work();
      seconds[name] = (now() - t0) / 1000;
      log(`  history: ${name} ${seconds[name]!.toFixed(1)} s`);
    };
    await sql`SET synchronous_commit = off`.execute(c);
    await sql`SET session_replication_role = replica`.execute(c);
    await sql`SET work_mem = '512MB'`.execute(c);
    await sql`SET maintenance_work_mem = '1GB'`.execute(c);
    await sql`SELECT setseed(${options.seed ?? 0.42})`.execute(c);

    await step('sites, services, counters, officials', async () => {
      await sql`
        CREATE TEMP TABLE g_site AS
        SELECT i, gen_random_uuid() AS id,
          -- sizes spread evenly from 0.35 to 2 (a permutation of 1..S, so sizes are not in site order)
          0.35 + 1.65 * ((i * 37) % ${S}) / greatest(${S} - 1, 1)::float8 AS load,
          4 + (i % 5) AS n_services
        FROM generate_series(1, ${S}) i`.execute(c);
      await sql`ALTER TABLE g_site ADD COLUMN n_counters int, ADD COLUMN n_staff int`.execute(c);
      await sql`UPDATE g_site SET n_counters = n_services + ceil(4 * load)::int, n_staff = n_services + ceil(4 * load)::int + 2`.execute(c);
      await sql`
        INSERT INTO site (id, code, name, level, timezone, code_digits)
        SELECT id, 'BS' || lpad(i::text, 2, '0'), 'Trung tâm Phục vụ hành chính công số ' || i, 'commune', ${REPORT_TZ}, 3
        FROM g_site ORDER BY i`.execute(c);
      await sql`
        CREATE TEMP TABLE g_pool (k int, code text, prefix text, vi text, en text, weight int, target int, factor float8)`.execute(c);
      for (const [k, s] of SERVICES.entries()) {
        await sql`INSERT INTO g_pool VALUES (${k + 1}, ${s[0]}, ${s[1]}, ${s[2]}, ${s[3]}, ${s[4]}, ${s[5]}, ${s[6]})`.execute(c);
      }
      await sql`
        CREATE TEMP TABLE g_service AS
        SELECT s.i AS site_i, s.id AS site_id, p.k, gen_random_uuid() AS id, p.code, p.prefix, p.vi, p.en, p.weight, p.target, p.factor
        FROM g_site s JOIN g_pool p ON p.k <= s.n_services`.execute(c);
      await sql`
        INSERT INTO service (id, site_id, code, prefix, name, target_wait_seconds, position)
        SELECT id, site_id, code, prefix, jsonb_build_object('vi', vi, 'en', en), target, k FROM g_service`.execute(c);
      await sql`
        CREATE TEMP TABLE g_counter AS
        SELECT s.i AS site_i, s.id AS site_id, n AS number, gen_random_uuid() AS id,
          1 + (n - 1) % s.n_services AS k1, 1 + n % s.n_services AS k2
        FROM g_site s CROSS JOIN generate_series(1, s.n_counters) n`.execute(c);
      await sql`
        INSERT INTO counter (id, site_id, number, name, status)
        SELECT id, site_id, number, 'Quầy ' || number, 'closed' FROM g_counter`.execute(c);
      await sql`
        INSERT INTO counter_service (counter_id, service_id, position)
        SELECT gc.id, gs.id, CASE WHEN gs.k = gc.k1 THEN 0 ELSE 1 END
        FROM g_counter gc JOIN g_service gs ON gs.site_i = gc.site_i AND gs.k IN (gc.k1, gc.k2)`.execute(c);
      await sql`
        CREATE TEMP TABLE g_staff AS
        SELECT s.i AS site_i, s.id AS site_id, n, gen_random_uuid() AS id
        FROM g_site s CROSS JOIN generate_series(1, s.n_staff) n`.execute(c);
      await sql`
        INSERT INTO app_user (id, username, password_hash, display_name, role)
        SELECT id, 'bs' || site_i || '_canbo' || n, 'x', 'Cán bộ ' || n || ' (BS' || lpad(site_i::text, 2, '0') || ')', 'staff' FROM g_staff`.execute(c);
      await sql`INSERT INTO site_membership (site_id, user_id) SELECT site_id, id FROM g_staff`.execute(c);
      await sql`
        INSERT INTO priority_group (site_id, code, name, rank)
        SELECT id, 'NCT', '{"vi":"Người cao tuổi","en":"Elderly"}'::jsonb, 1 FROM g_site`.execute(c);
      // opening hours and holidays, as the configuration screens store them
      await sql`
        INSERT INTO opening_hours (site_id, weekday, opens, closes)
        SELECT s.id, w, o.opens, o.closes
        FROM g_site s CROSS JOIN generate_series(1, 6) w
        CROSS JOIN (VALUES (time '07:30', time '11:30'), (time '13:30', time '17:00')) AS o(opens, closes)
        WHERE w <= 5 OR o.opens < time '12:00'`.execute(c);
      for (const [date, name] of HOLIDAYS_2026) {
        await sql`INSERT INTO holiday (site_id, date, name) SELECT id, ${date}::date, ${name} FROM g_site`.execute(c);
      }
    });

    await step('calendar and arrival slots', async () => {
      await sql`
        CREATE TEMP TABLE g_day AS
        SELECT d::date AS day, extract(isodow FROM d)::int AS dow,
          (CASE extract(isodow FROM d)::int WHEN 1 THEN 1.25 WHEN 2 THEN 1.05 WHEN 5 THEN 0.95 WHEN 6 THEN 0.6 ELSE 1.0 END)
          * (CASE WHEN d BETWEEN '2026-02-02' AND '2026-02-13' THEN 1.35 WHEN d BETWEEN '2026-02-23' AND '2026-03-01' THEN 0.7
                  WHEN extract(month FROM d) IN (7, 8) THEN 0.9 WHEN extract(month FROM d) = 12 THEN 1.1 ELSE 1.0 END) AS w
        FROM generate_series(${`${REPORT_YEAR}-01-01`}::date, ${`${REPORT_YEAR}-12-31`}::date, interval '1 day') d
        WHERE extract(isodow FROM d) <= 6
          AND d::date NOT IN (SELECT DISTINCT date FROM holiday WHERE site_id = (SELECT id FROM g_site WHERE i = 1))`.execute(c);
      // quarter hours of the sessions and their share of the day's arrivals
      await sql`
        CREATE TEMP TABLE g_quarter (at time, w float8)`.execute(c);
      await sql`
        INSERT INTO g_quarter VALUES
          ('07:30', 0.5), ('07:45', 0.8), ('08:00', 1.0), ('08:15', 1.2), ('08:30', 1.35), ('08:45', 1.45), ('09:00', 1.5),
          ('09:15', 1.45), ('09:30', 1.35), ('09:45', 1.2), ('10:00', 1.05), ('10:15', 0.9), ('10:30', 0.75), ('10:45', 0.6),
          ('11:00', 0.4), ('11:15', 0.2),
          ('13:30', 0.6), ('13:45', 0.85), ('14:00', 1.0), ('14:15', 1.1), ('14:30', 1.15), ('14:45', 1.1), ('15:00', 1.0),
          ('15:15', 0.9), ('15:30', 0.75), ('15:45', 0.6), ('16:00', 0.45), ('16:15', 0.35), ('16:30', 0.2), ('16:45', 0.1)`.execute(c);
      // ±20 % from one site-day to the next
      await sql`CREATE TEMP TABLE g_sday AS SELECT s.i AS site_i, d.day, 0.8 + 0.4 * random() AS noise FROM g_site s CROSS JOIN g_day d`.execute(c);
      await sql`
        CREATE TEMP TABLE g_slot AS
        WITH w AS (
          SELECT s.i AS site_i, ((d.day + q.at) AT TIME ZONE ${REPORT_TZ}) AS start,
            s.load * d.w * q.w * sd.noise AS w, q.w AS crowd, d.w AS day_w, s.load
          FROM g_site s
          CROSS JOIN g_day d
          JOIN g_sday sd ON sd.site_i = s.i AND sd.day = d.day
          JOIN g_quarter q ON d.dow <= 5 OR q.at < time '12:00'
        ),
        cum AS (
          SELECT w.*, sum(w) OVER (ORDER BY start, site_i ROWS UNBOUNDED PRECEDING) AS upto FROM w
        ),
        total AS (SELECT max(upto) AS all_w FROM cum)
        SELECT cum.*, (floor(${N}::float8 * upto / all_w) - floor(${N}::float8 * coalesce(lag(upto) OVER (ORDER BY start, site_i), 0) / all_w))::int AS n
        FROM cum, total`.execute(c);
    });

    await step('ticket plan', async () => {
      // per site: services drawn by weight (100 slots), counters per service
      await sql`
        CREATE TEMP TABLE g_pick AS
        SELECT gs.site_i, array_agg(gs.k ORDER BY gs.k, r) AS ks
        FROM g_service gs
        CROSS JOIN LATERAL generate_series(1, gs.weight) r
        GROUP BY gs.site_i`.execute(c);
      await sql`
        CREATE TEMP TABLE g_svc AS
        SELECT gs.site_i, gs.k, gs.id, gs.prefix, gs.factor,
          (SELECT array_agg(gc.id ORDER BY gc.number) FROM g_counter gc WHERE gc.site_i = gs.site_i AND gs.k IN (gc.k1, gc.k2)) AS counters,
          (SELECT n_services FROM g_site WHERE i = gs.site_i) AS n_services
        FROM g_service gs`.execute(c);
      await sql`CREATE UNIQUE INDEX ON g_svc (site_i, k)`.execute(c);
      // who works which counter each day: officials move desks from one day to the next
      await sql`
        CREATE TEMP TABLE g_desk AS
        SELECT gc.id AS counter_id, d.day, d.dow, st.id AS staff_id
        FROM g_counter gc
        JOIN g_site s ON s.i = gc.site_i
        CROSS JOIN g_day d
        JOIN g_staff st ON st.site_i = gc.site_i
          AND st.n = 1 + (gc.number + (d.day - date '2026-01-01')) % s.n_staff`.execute(c);
      await sql`CREATE UNIQUE INDEX ON g_desk (counter_id, day)`.execute(c);
      await sql`ANALYZE g_slot, g_svc, g_desk, g_pick, g_site`.execute(c);
      await sql`
        CREATE UNLOGGED TABLE g_plan AS
        WITH base AS (
          SELECT sl.site_i, gsite.id AS site_id, sl.start + random() * interval '15 minutes' AS issued_at,
            sl.crowd * sl.day_w * sl.load AS pressure,
            random() AS u_fate, random() AS u_svc, random() AS u_prio, random() AS u_w1, random() AS u_w2,
            random() AS u_s1a, random() AS u_s1b, random() AS u_s2a, random() AS u_s2b,
            random() AS u_c1, random() AS u_c2, random() AS u_named, random() AS u_recall, random() AS u_est, random() AS u_est2,
            random() AS u_rate, random() AS u_score, random() AS u_misc
          FROM g_slot sl
          JOIN g_site gsite ON gsite.i = sl.site_i
          CROSS JOIN LATERAL generate_series(1, sl.n) k
          WHERE sl.n > 0
        ),
        shaped AS (
          SELECT b.*,
            (b.issued_at AT TIME ZONE ${REPORT_TZ})::date AS local_date,
            p.ks[1 + floor(b.u_svc * array_length(p.ks, 1))::int] AS k1,
            CASE WHEN b.u_fate < 0.845 THEN 'done' WHEN b.u_fate < 0.895 THEN 'no_show'
              WHEN b.u_fate < 0.925 THEN 'cancelled' ELSE 'transfer' END AS fate,
            b.u_prio < 0.08 AS priority,
            -- mean wait: 3 min plus up to ~30 min in a crowded hour at a big centre, a third for priority
            (180 + 600 * b.pressure) * CASE WHEN b.u_prio < 0.08 THEN 0.3 ELSE 1 END AS mean_wait
          FROM base b JOIN g_pick p ON p.site_i = b.site_i
        ),
        timed AS (
          SELECT s.*, s1.id AS svc1, s1.prefix, s2.id AS svc2,
            s1.counters[1 + floor(s.u_c1 * array_length(s1.counters, 1))::int] AS c1,
            s2.counters[1 + floor(s.u_c2 * array_length(s2.counters, 1))::int] AS c2,
            least(7200, -ln(1 - s.u_w1) * s.mean_wait) AS w1,
            least(3600, -ln(1 - s.u_w2) * s.mean_wait * 0.5) AS w2,
            greatest(90, least(3600, s1.factor * exp(ln(420) + 0.55 * sqrt(-2 * ln(1 - s.u_s1a)) * cos(2 * pi() * s.u_s1b)))) AS st1,
            greatest(90, least(3600, s2.factor * exp(ln(420) + 0.55 * sqrt(-2 * ln(1 - s.u_s2a)) * cos(2 * pi() * s.u_s2b)))) AS st2
          FROM shaped s
          JOIN g_svc s1 ON s1.site_i = s.site_i AND s1.k = s.k1
          JOIN g_svc s2 ON s2.site_i = s.site_i AND s2.k = 1 + s.k1 % s1.n_services
        )
        SELECT gen_random_uuid() AS id, replace(gen_random_uuid()::text, '-', '') AS public_id,
          t.site_id, t.local_date, t.issued_at, t.fate, t.priority, t.svc1, t.svc2, t.prefix, t.c1, t.c2,
          d1.staff_id AS staff1, d2.staff_id AS staff2, t.u_named < 0.6 AS named, t.u_recall < 0.08 AS recalled,
          t.w1, t.w2, t.st1, t.st2,
          t.issued_at + make_interval(secs => t.w1) AS call1,
          t.issued_at + make_interval(secs => t.w1 + 0.5 * t.st1) AS transfer_at,
          t.issued_at + make_interval(secs => t.w1 + 0.5 * t.st1 + t.w2) AS call2,
          CASE WHEN t.u_est < 0.04 THEN NULL ELSE greatest(0, t.w1 * (0.75 + 0.5 * t.u_est2) + (t.u_misc - 0.5) * 180) END AS estimate,
          t.u_rate < 0.4 AS rated,
          CASE WHEN t.u_score < 0.70 THEN 3 WHEN t.u_score < 0.92 THEN 2 ELSE 1 END AS score,
          t.u_misc,
          row_number() OVER (PARTITION BY t.svc1, t.local_date ORDER BY t.issued_at) AS number
        FROM timed t
        JOIN g_desk d1 ON d1.counter_id = t.c1 AND d1.day = t.local_date
        JOIN g_desk d2 ON d2.counter_id = t.c2 AND d2.day = t.local_date`.execute(c);
    });

    await step('tickets', () => sql`
      INSERT INTO ticket (id, public_id, site_id, issued_service_id, service_id, local_date, number, code, status, priority,
        priority_rank, lang, channel, counter_id, staff_id, issued_at, queued_at, called_at, started_at, finished_at,
        estimated_wait_seconds, position_at_issue, transfer_count)
      SELECT p.id, p.public_id, p.site_id, p.svc1, CASE WHEN p.fate = 'transfer' THEN p.svc2 ELSE p.svc1 END,
        p.local_date, p.number, p.prefix || lpad(p.number::text, 3, '0'),
        CASE p.fate WHEN 'transfer' THEN 'done' ELSE p.fate END,
        CASE WHEN p.priority THEN 'NCT' ELSE 'none' END, CASE WHEN p.priority THEN 1 END,
        CASE WHEN p.u_misc < 0.05 THEN 'en' ELSE 'vi' END, CASE WHEN p.u_misc > 0.9 THEN 'staff' ELSE 'kiosk' END,
        CASE p.fate WHEN 'cancelled' THEN NULL WHEN 'transfer' THEN p.c2 ELSE p.c1 END,
        CASE p.fate WHEN 'cancelled' THEN NULL WHEN 'transfer' THEN p.staff2 ELSE p.staff1 END,
        p.issued_at,
        CASE WHEN p.fate = 'transfer' THEN p.transfer_at ELSE p.issued_at END,
        CASE p.fate WHEN 'cancelled' THEN NULL WHEN 'transfer' THEN p.call2 ELSE p.call1 END,
        CASE p.fate WHEN 'done' THEN p.call1 + make_interval(secs => CASE WHEN p.recalled THEN 65 ELSE 20 END)
          WHEN 'transfer' THEN p.call2 + interval '20 seconds' END,
        CASE p.fate WHEN 'done' THEN p.call1 + make_interval(secs => p.st1) WHEN 'no_show' THEN p.call1 + interval '180 seconds'
          WHEN 'cancelled' THEN p.issued_at + make_interval(secs => 0.6 * p.w1) WHEN 'transfer' THEN p.call2 + make_interval(secs => p.st2) END,
        p.estimate, floor(p.w1 / 90)::int, CASE WHEN p.fate = 'transfer' THEN 1 ELSE 0 END
      FROM g_plan p
      ORDER BY p.issued_at`.execute(c));

    await step('ticket events', () => sql`
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, at, data)
      SELECT p.id, p.site_id, e.type, e.from_status, e.to_status, e.service_id, e.counter_id,
        CASE WHEN p.named THEN e.staff_id END, e.at, e.data
      FROM g_plan p
      CROSS JOIN LATERAL (VALUES
        (1, 'issued', NULL, 'waiting', p.svc1, NULL::uuid, NULL::uuid, p.issued_at, NULL::jsonb, true),
        (2, 'called', 'waiting', 'called', p.svc1, p.c1, p.staff1, p.call1, NULL, p.fate <> 'cancelled'),
        (3, 'recalled', 'called', 'called', p.svc1, p.c1, p.staff1, p.call1 + interval '45 seconds', NULL,
          p.fate <> 'cancelled' AND (p.recalled OR p.fate = 'no_show')),
        (4, 'started', 'called', 'serving', p.svc1, p.c1, p.staff1,
          p.call1 + make_interval(secs => CASE WHEN p.recalled THEN 65 ELSE 20 END), NULL, p.fate IN ('done', 'transfer')),
        (5, 'finished', 'serving', 'done', p.svc1, p.c1, p.staff1, p.call1 + make_interval(secs => p.st1), NULL, p.fate = 'done'),
        (5, 'no_show', 'called', 'no_show', p.svc1, p.c1, p.staff1, p.call1 + interval '180 seconds', NULL, p.fate = 'no_show'),
        (5, 'cancelled', 'waiting', 'cancelled', p.svc1, NULL, NULL, p.issued_at + make_interval(secs => 0.6 * p.w1), NULL, p.fate = 'cancelled'),
        (5, 'transferred', 'serving', 'waiting', p.svc2, p.c1, p.staff1, p.transfer_at,
          jsonb_build_object('fromServiceId', p.svc1, 'toServiceId', p.svc2), p.fate = 'transfer'),
        (6, 'called', 'waiting', 'called', p.svc2, p.c2, p.staff2, p.call2, NULL, p.fate = 'transfer'),
        (7, 'started', 'called', 'serving', p.svc2, p.c2, p.staff2, p.call2 + interval '20 seconds', NULL, p.fate = 'transfer'),
        (8, 'finished', 'serving', 'done', p.svc2, p.c2, p.staff2, p.call2 + make_interval(secs => p.st2), NULL, p.fate = 'transfer')
      ) AS e(step, type, from_status, to_status, service_id, counter_id, staff_id, at, data, happened)
      WHERE e.happened
      ORDER BY e.at, p.id, e.step`.execute(c));

    await step('ratings', () => sql`
      INSERT INTO rating (ticket_id, site_id, counter_id, staff_id, score, reason, channel, created_at)
      SELECT p.id, p.site_id, CASE WHEN p.fate = 'transfer' THEN p.c2 ELSE p.c1 END,
        CASE WHEN p.fate = 'transfer' THEN p.staff2 ELSE p.staff1 END, p.score,
        CASE WHEN p.score = 1 THEN CASE WHEN p.u_misc < 0.5 THEN 'waiting' ELSE 'attitude' END END,
        CASE WHEN p.u_misc < 0.2 THEN 'phone' ELSE 'tablet' END,
        CASE WHEN p.fate = 'transfer' THEN p.call2 + make_interval(secs => p.st2 + 20) ELSE p.call1 + make_interval(secs => p.st1 + 20) END
      FROM g_plan p
      WHERE p.fate IN ('done', 'transfer') AND p.rated
      ORDER BY 8`.execute(c));

    await step('counter events', () => sql`
      INSERT INTO counter_event (counter_id, type, staff_id, reason, at)
      SELECT d.counter_id, k.type, d.staff_id, k.reason, (d.day + k.at) AT TIME ZONE ${REPORT_TZ}
      FROM g_desk d
      CROSS JOIN (VALUES ('opened', time '07:20', NULL, true), ('paused', time '11:35', 'Nghỉ trưa', false),
        ('resumed', time '13:20', NULL, false), ('closed', time '17:15', NULL, false), ('closed', time '11:45', NULL, true)) AS k(type, at, reason, saturday)
      WHERE (d.dow = 6) = k.saturday OR (d.dow < 6 AND k.type = 'opened')
      ORDER BY 5, 1`.execute(c));

    await step('vacuum analyze', async () => {
      await sql`DROP TABLE g_plan`.execute(c);
      // what autovacuum would have done by the time a manager asks for a report
      for (const table of ['ticket', 'ticket_event', 'rating', 'counter_event']) await sql`VACUUM (ANALYZE) ${sql.table(table)}`.execute(c);
    });
    await sql`SET session_replication_role = origin`.execute(c);

    const { rows: [counts] } = await sql<{ tickets: string; events: string; ratings: string; counterEvents: string }>`
      SELECT (SELECT count(*) FROM ticket) AS tickets, (SELECT count(*) FROM ticket_event) AS events,
        (SELECT count(*) FROM rating) AS ratings, (SELECT count(*) FROM counter_event) AS counter_events`.execute(c);
    const { rows: sizes } = await sql<{ name: string; bytes: string }>`
      SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class
      WHERE relname IN ('ticket', 'ticket_event', 'rating', 'counter_event') AND relkind = 'r'`.execute(c);
    const { rows: ids } = await sql<{ id: string }>`SELECT id FROM g_site ORDER BY i`.execute(c);
    const { rows: [busiest] } = await sql<{ id: string }>`SELECT id FROM g_site ORDER BY load DESC LIMIT 1`.execute(c);
    for (const t of ['g_site', 'g_pool', 'g_service', 'g_counter', 'g_staff', 'g_day', 'g_sday', 'g_quarter', 'g_slot', 'g_pick', 'g_svc', 'g_desk']) {
      await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(c);
    }
    return {
      siteIds: ids.map((r) => r.id),
      busiestSiteId: busiest!.id,
      counts: { tickets: Number(counts!.tickets), events: Number(counts!.events), ratings: Number(counts!.ratings), counterEvents: Number(counts!.counterEvents) },
      seconds,
      bytes: Object.fromEntries(sizes.map((r) => [r.name, Number(r.bytes)])),
    };
  }
}

/**
 * The report facts of [from, to), one day at a time, as the day-end runner builds each day once
 * it is over (`now`: after the last); then analysed, so that autovacuum does not come round
 * during what is measured next. Returns the site-days and tickets built and each day's time.
 */
export async function buildFactsDayByDay(
  db: Db, q: { from: Date; to: Date; now: Date; siteIds?: string[] },
): Promise<{ days: number; tickets: number; perDay: number[] }> {
  const perDay: number[] = [];
  let days = 0;
  let tickets = 0;
  for (let d = q.from; d < q.to; d = new Date(d.getTime() + 86_400_000)) {
    const t = now();
    const built = await buildReportDays(db, { siteId: null, ...(q.siteIds ? { siteIds: q.siteIds } : {}), from: d, to: new Date(d.getTime() + 86_400_000), now: q.now });
    perDay.push(now() - t);
    days += built.days;
    tickets += built.tickets;
  }
  await sql`VACUUM ANALYZE report_stint, report_day`.execute(db);
  return { days, tickets, perDay };
}

/**
 * The generated history as a server that has run through REPORT_YEAR holds it: the report facts
 * of its sites' days built, as the day-end runner builds them each night, then (`freeze`, the
 * default) its pages hinted and frozen, as autovacuum has long since done there, and all of it
 * written out (a checkpoint). Not frozen, the first read of a page sets its tuples' hint bits
 * and writes the page's whole image to the WAL (tools/report-io.ts: 28,118 pages, 231 MB, for
 * the first export of one site's year of 1 M tickets), and the checkpoint of the history spreads
 * its writes over whatever runs next.
 */
export async function settleYear(db: Db, siteIds: string[], options: { freeze?: boolean } = {}): Promise<{ factsSeconds: number; settleSeconds: number }> {
  const t0 = now();
  const yearEnd = new Date(`${REPORT_YEAR + 1}-01-01T00:00:00Z`);
  await buildFactsDayByDay(db, { from: new Date(`${REPORT_YEAR - 1}-12-31T00:00:00Z`), to: yearEnd, now: new Date(yearEnd.getTime() + 86_400_000), siteIds });
  const t1 = now();
  if (options.freeze ?? true) await sql`VACUUM (FREEZE, ANALYZE)`.execute(db);
  await sql`CHECKPOINT`.execute(db);
  return { factsSeconds: (t1 - t0) / 1000, settleSeconds: (now() - t1) / 1000 };
}
