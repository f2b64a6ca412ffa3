import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '@qms/db';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import { callStaffId, secondsBetween } from './report.sql.ts';
import type { ReportPace } from './pace.ts';

// The summary report (API.md, "Reports"), computed in PostgreSQL from the stored history:
// ticket rows, their append-only ticket_event rows and ratings. One snapshot per report (the
// bounds of the events to read, then the report); nothing per ticket ever comes back to Node.
//
// Definitions (README.md in this folder says the same for people):
// - A ticket belongs to the range by its issued_at: from inclusive, to exclusive. Everything
//   about it counts, even what happened after `to` (a call after midnight, a late rating).
// - A stint is one wait in one service's queue: from the 'issued' event, or from a
//   'transferred' event (whose service_id is the target service), to the next 'called' event.
//   A stint has at most one call: only a transfer puts a called ticket back in a queue.
// - Wait figures (waits, waitAvg/P50/P90, withinTargetShare) cover called stints: served or
//   not, never stints still waiting or cancelled.
// - Service time = finished_at − the final call, over `done` tickets only.
// - Percentiles are PostgreSQL's percentile_cont (continuous: linear interpolation between
//   the two nearest ranks, p at position p·(n−1) of the sorted values).
//
// Grouping: everything counts with the stint it happened in (README.md has the table).
// - A stint's wait, and its transfer out, count where the stint happened: the service it waited
//   in, the counter whose call ended it, the official of that call. A transfer in counts with
//   the stint it began (in the target service, at the counter that later called it).
// - The ticket's issue counts with its first stint (the service it was issued for, the counter
//   of its first call); its outcome (served, noShow, cancelled, service time, rating) with its
//   final stint, where it ended. So a ticket sent from A at counter 1 to B, served at counter 3,
//   is issued and transferred out in A / counter 1, and served and rated in B / counter 3.
// - A stint never called belongs to no counter or official: in the totals only.
// - day / hour: the local date ('yyyy-MM-dd') or hour ('0'..'23') of issue, in the site's
//   timezone, for everything about the ticket.
// - estimateMaeSeconds is a figure of the first stint (the one the estimate was made for).
// - procedure: like day and hour, a property of the ticket: everything about the ticket counts in
//   each of its procedures (ticket_procedure), so a ticket with two counts in both rows and once
//   in the totals; a ticket with none in the group '' ("(không ghi thủ tục)").

export type ReportGroupBy = 'service' | 'counter' | 'staff' | 'day' | 'hour' | 'procedure';

/** The group of the tickets on which no procedure was recorded (groupBy procedure). */
export const NO_PROCEDURE = { key: '', label: '(không ghi thủ tục)' } as const;

export interface SummaryQuery {
  /** null: every site (admins) */
  siteId: string | null;
  /** with siteId null: only these sites (a manager's) */
  siteIds?: string[];
  from: Date;
  to: Date;
  groupBy: ReportGroupBy;
  /** the server's clock: days over by then may be built into facts first (default: the system's) */
  now?: Date;
}

/** The figures of a group or of the whole range. Durations in seconds; null when there is no data. */
export interface ReportTotals {
  issued: number;
  served: number;
  noShow: number;
  waitAvgSeconds: number | null;
  waitP50Seconds: number | null;
  waitP90Seconds: number | null;
  serviceAvgSeconds: number | null;
  serviceP90Seconds: number | null;
  ratings: number;
  ratingAvg: number | null;
  // ---- beyond the v1 contract ----
  /** transfers out of the group: stints that ended in a transfer (a ticket transferred twice counts twice) */
  transferred: number;
  /** transfers into the group: stints that began with a transfer */
  transfersIn: number;
  cancelled: number;
  /** tickets still waiting, called or served when their site's day ended: apart from no-shows */
  expired: number;
  /** called stints: how many waits the wait figures cover */
  waits: number;
  /** share (0..1) of called stints whose wait was at most their service's target_wait_seconds */
  withinTargetShare: number | null;
  /** score → share (0..1) of the ratings; scores nobody gave are absent */
  ratingShares: Record<string, number>;
  /** share of ratings with the lowest score of the site's scale (1 with the default 3-level scale) */
  notSatisfiedShare: number | null;
  /** median of |estimated_wait_seconds − wait of the first stint| over tickets with an estimate whose first stint was called */
  estimateMaeSeconds: number | null;
}

export interface ReportRow extends ReportTotals {
  /** service, counter or user id; local date 'yyyy-MM-dd'; local hour '0'..'23' */
  key: string;
  /** service name (vi), counter name, official's display name, the date, the hour */
  label: string;
}

export interface SummaryReport {
  rows: ReportRow[];
  totals: ReportTotals;
}

interface Grouping {
  /** key of a stint's figures, over `f` (the stint's facts) and `t` (its site) */
  stintKey: RawBuilder<unknown>;
  /** joins of the aggregated row `a` to name and order it */
  join: RawBuilder<unknown>;
  label: RawBuilder<unknown>;
  order: RawBuilder<unknown>;
  /** the row's key as text (default `a.key::text`) */
  keyText?: RawBuilder<unknown>;
  /** the key's SQL type, to read it back from its text (groupOrder) */
  keyType: 'uuid' | 'date' | 'int' | 'text';
}

// a date and an int per stint, turned to text once per row of the report; a built stint's own
// (stored when its day was built, in the timezone its site still has: ReadPlan.sameZones), as
// reckoning them from issued_at in the site's timezone costs a fifth of an all-sites month; the
// others' are reckoned in the branch of stint_fact that reads them, so that the statement groups
// by a column, not by an expression of three whose groups the planner takes for a million (it
// then sorted a year's stints on disk, 72.5 MB, rather than hashing its 365 days: performance.md h)
const localDay = sql`f.local_date`;
const localHour = sql`f.local_hour`;
/** A stint's local day and hour reckoned from its issued_at in its site's timezone (`z`, site_scope). */
const reckonedDayHour = (f: string) => sql`(${sql.ref(`${f}.issued_at`)} AT TIME ZONE z.timezone)::date, date_part('hour', ${sql.ref(`${f}.issued_at`)} AT TIME ZONE z.timezone)::int`;
const dayText = sql`to_char(a.key, 'YYYY-MM-DD')`;

const GROUPINGS: Record<ReportGroupBy, Grouping> = {
  service: {
    stintKey: sql`f.service_id`,
    join: sql`LEFT JOIN service g ON g.id = a.key`,
    label: sql`g.name->>'vi'`,
    order: sql`g.position, g.code, a.key`,
    keyType: 'uuid',
  },
  counter: {
    stintKey: sql`f.call_counter_id`,
    join: sql`LEFT JOIN counter g ON g.id = a.key`,
    label: sql`g.name`,
    order: sql`g.number, a.key`,
    keyType: 'uuid',
  },
  staff: {
    stintKey: sql`f.call_staff_id`,
    join: sql`LEFT JOIN app_user g ON g.id = a.key`,
    label: sql`g.display_name`,
    order: sql`g.display_name, a.key`,
    keyType: 'uuid',
  },
  day: { stintKey: localDay, join: sql``, label: dayText, keyText: dayText, order: sql`a.key`, keyType: 'date' },
  hour: { stintKey: localHour, join: sql``, label: sql`a.key`, order: sql`a.key`, keyType: 'int' },
  // rows come from the ticket's procedures (see summaryStatement); the label is the name most
  // recently recorded for the code (the list's name can change; the code is national)
  procedure: {
    stintKey: sql`NULL::text`,
    join: sql``,
    label: sql`CASE WHEN a.key = ${NO_PROCEDURE.key} THEN ${NO_PROCEDURE.label} ELSE g.name END`,
    order: sql`a.key = ${NO_PROCEDURE.key}, a.key COLLATE "C"`,
    // (never sliced, so never ordered by groupOrder: its label is a lookup of summaryStatement's)
    keyType: 'text',
  },
};

/**
 * The Vietnamese name of the procedure `code` as last recorded on a ticket of the scope: the
 * name of the latest `added_at` (ties: the greatest name). `code` is an SQL expression.
 */
export function procedureLabel(code: RawBuilder<unknown>, sites: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql<string | null>`(SELECT tp.procedure_name->>'vi' FROM ticket_procedure tp
    WHERE tp.procedure_code = ${code} ${sites}
    ORDER BY tp.added_at DESC, tp.procedure_name->>'vi' COLLATE "C" DESC LIMIT 1)`;
}

export interface AggregateRow {
  key: string | null;
  /**
   * whether the group's stints count in the totals: all of them, but by procedure, where a
   * ticket with several procedures is in several groups: there a group comes in two parts, its
   * stints in the ticket's first procedure (counted in the totals) and its other copies
   */
  primary: boolean;
  label: string | null;
  // counts and sums: bigint counts and integer sums arrive as strings
  issued: number | string;
  served: number | string;
  noShow: number | string;
  cancelled: number | string;
  expired: number | string;
  transferred: number | string;
  transfersIn: number | string;
  waits: number | string;
  /** the group's waits in whole microseconds (numeric: a string) */
  waitMicros: string | bigint | null;
  targets: number | string;
  withinTarget: number | string | null;
  services: number | string;
  serviceMicros: string | bigint | null;
  ratings: number | string;
  scoreSum: number | string | null;
  notSatisfied: number | string | null;
  /** the group's waits, service times and estimate errors as big-endian float8s (float8send) */
  waitValues: Buffer | null;
  serviceValues: Buffer | null;
  estimateErrorValues: Buffer | null;
  /** the group's rating scores as big-endian int4s (int4send) */
  scoreValues: Buffer | null;
}

export interface SummaryOptions {
  /** read the whole range from the raw history, build nothing (the facts' tests and benchmark compare with it) */
  raw?: boolean;
  /** the pace of `db`'s statements (pace.ts): while it paces, the range is read in short slices */
  pace?: ReportPace;
}

/**
 * The summary of `q`. While `options.pace` paces the reports (the queue is busy), the range is
 * read in slices of about `pace.sliceMs` of work each, so that the rests between them come often
 * and no statement holds a core for long; the slices' groups are added up as the groups are for
 * the totals, and come out the same to the last digit (report.facts.test.ts). By procedure the
 * statement reads all of the sites' procedures whatever the range, so it is never sliced.
 */
export async function summaryReport(db: Kysely<Database>, q: SummaryQuery, options: SummaryOptions = {}): Promise<SummaryReport> {
  if (!(q.from.getTime() < q.to.getTime())) {
    throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  }
  if (!Object.hasOwn(GROUPINGS, q.groupBy)) throw new QueueError('INVALID_GROUP_BY', `Unknown groupBy "${String(q.groupBy)}"`, 400);
  if (q.siteId !== null) {
    const site = await db.selectFrom('site').select('id').where('id', '=', q.siteId).executeTakeFirst();
    if (!site) throw notFound('site', q.siteId);
  }

  // The closed days of the range that have no facts yet get them first, a few (LAZY_BUILD_DAYS
  // site-days) per report so that it still answers quickly: the day-end runner builds each day
  // as it ends and older days after an upgrade (reportFactsBuilder). A build that fails costs
  // nothing but speed: those days are read raw. One that ran out of time (statement or lock
  // timeout) is the report's answer: reading the same history raw would not be quicker.
  if (!options.raw) {
    await buildReportDays(db, { ...q, now: q.now ?? new Date(), limit: LAZY_BUILD_DAYS }).catch((error: unknown) => {
      if (TIMED_OUT.has((error as { code?: string }).code ?? '')) throw error;
    });
  }

  const pace = q.groupBy === 'procedure' ? undefined : options.pace;
  if (!pace) return summaryFromRows(await summaryRows(db, q, options.raw ?? false));
  // sliced while its statements rest: within the report's budget of rests (pace.ts), after which
  // the rest of the range is read at once
  return pace.budgeted(async () => {
    const rows: AggregateRow[] = [];
    const end = q.to.getTime();
    let from = q.from.getTime();
    let length = FIRST_SLICE_MS;
    let slices = 0;
    while (from < end) {
      const to = pace.resting ? Math.min(end, from + length) : end;
      const slice = { ...q, from: new Date(from), to: new Date(to) };
      const { value, workedMs } = await pace.measure(() => summaryRows(db, slice, options.raw ?? false));
      rows.push(...value);
      length = nextSlice(to - from, workedMs, pace.sliceMs);
      from = to;
      slices++;
    }
    // the groups of the slices, named and ordered as the one statement would have
    return summaryFromRows(rows, slices > 1 ? await groupOrder(db, q, rows) : undefined);
  });
}

/** A summary's first slice of the range, while the reports are paced: the next ones are sized by its work. */
const FIRST_SLICE_MS = 60 * 60_000;

/** The next slice's length: the last one's scaled to the work aimed at, at most four times longer or shorter, a minute at least. */
function nextSlice(length: number, workedMs: number, aimMs: number): number {
  const scaled = length * (aimMs / Math.max(workedMs, 1));
  return Math.max(60_000, Math.min(length * 4, Math.max(length / 4, scaled)));
}

/**
 * The statement's rows for `q`, on one snapshot: which site-days have facts, the bounds of the
 * raw rest's events, then the report with both as literals (so the planner sizes the scans
 * right). The sorts of the percentiles and of the per-ticket window get the memory to stay off disk.
 */
async function summaryRows(db: Kysely<Database>, q: SummaryQuery, raw: boolean): Promise<AggregateRow[]> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
    await NO_NESTED_LOOPS.execute(trx);
    const plan = raw ? RAW_PLAN : await readPlan(trx, q);
    const bounds = await reportBounds(trx, q, plan.spans);
    return (await summaryStatement(q, bounds, plan).execute(trx)).rows;
  });
}

/** The groups of a sliced summary's rows, named and in the order summaryStatement gives them. */
async function groupOrder(db: Kysely<Database>, q: SummaryQuery, rows: AggregateRow[]): Promise<{ key: string; label: string | null }[]> {
  const keys = [...new Set(rows.map((r) => r.key).filter((key) => key !== null))];
  const grouping = GROUPINGS[q.groupBy];
  const { rows: groups } = await sql<{ key: string; label: string | null }>`
    SELECT ${grouping.keyText ?? sql`a.key::text`} AS "key", (${grouping.label})::text AS "label"
    FROM (SELECT k::${sql.raw(grouping.keyType)} AS key FROM unnest(${keys}::text[]) AS k) a
    ${grouping.join}
    ORDER BY ${grouping.order}`.execute(db);
  return groups;
}

/** The report from the rows of summaryStatement (of one statement, or of a summary's slices with their groups' order). */
function summaryFromRows(rows: AggregateRow[], order?: { key: string; label: string | null }[]): SummaryReport {
  // a group's parts (by procedure; of each slice) come one after the other, in the rows' order
  const groups = new Map<string | null, AggregateRow[]>();
  for (const r of rows) {
    const parts = groups.get(r.key);
    if (parts) parts.push(r);
    else groups.set(r.key, [r]);
  }
  const row = (key: string, label: string | null | undefined) => {
    const parts = groups.get(key)!;
    const r = parts.length === 1 ? parts[0]! : sumRows(parts);
    return { key, label: label ?? key, ...figures(r) };
  };
  return {
    // the group of stints nobody called (counter, staff) is part of the totals, not a row
    rows: order
      ? order.map((g) => row(g.key, g.label))
      : [...groups].filter(([key]) => key !== null).map(([key, parts]) => row(key!, parts[0]!.label)),
    // every stint once: the groups' primary parts added up
    totals: figures(sumRows(rows.filter((r) => r.primary))),
  };
}

/**
 * Joins hashed, whatever the planner guesses of their sides: the history read by rawStints goes
 * through CTEs and a window whose row counts it cannot estimate (one row for a table not yet
 * analysed, a few dozen for tens of thousands after the window), and a nested loop over a
 * misjudged side costs seconds to minutes (docs/performance.md, "Report facts"). The lookups
 * that must loop (a span's tickets, an open ticket's events, a stint's rating) are LATERAL,
 * which nothing else can do. For the report's and the build's own transactions only.
 */
const NO_NESTED_LOOPS = sql`SET LOCAL enable_nestloop = off`;

/**
 * Ends a LATERAL lookup's subquery: OFFSET 0 keeps the planner from pulling it up into a plain
 * join (which, without nested loops, it would hash over the whole table: every ticket, every
 * rating), so it stays an index lookup per row.
 */
const LOOKUP = sql`OFFSET 0`;

/** PostgreSQL's query_canceled (statement timeout) and lock_not_available (lock timeout). */
const TIMED_OUT = new Set(['57014', '55P03']);

/**
 * Site-days a report builds at most before it answers: a day of 50 centres, 0.6-1.3 s on a
 * history of 5 M tickets (docs/performance.md). The rest of the range is read raw meanwhile.
 */
export const LAZY_BUILD_DAYS = 50;

/** Where the events of the range's ended tickets lie: see `ev` in summaryStatement. */
export interface EventBounds {
  lo: Date | null;
  hi: Date | null;
}

/** Instants of one site whose tickets are read from the raw history. */
export interface Span {
  siteId: string;
  lo: Date;
  hi: Date;
  /** the site's local date of the span, when it is built into facts */
  localDate?: string;
}

/**
 * How a report reads its range: the site-days with facts (report_day), and the spans of the
 * range they leave, read raw. `spans: null` reads the whole range raw (no facts).
 */
export interface ReadPlan {
  /** how many site-days of the range have facts */
  builtDays: number;
  spans: Span[] | null;
  /** every built day was reckoned in its site's current timezone: the stints' local day and hour hold */
  sameZones: boolean;
}

export const RAW_PLAN: ReadPlan = { builtDays: 0, spans: null, sameZones: true };

const siteFilter = (q: Pick<SummaryQuery, 'siteId' | 'siteIds'>, column: RawBuilder<unknown>) =>
  q.siteId !== null ? sql`AND ${column} = ${q.siteId}` : q.siteIds ? sql`AND ${column} = ANY(${q.siteIds}::uuid[])` : sql``;

/** The built site-days overlapping the range, and the rest of the range per site (raw). */
export async function readPlan(db: Kysely<Database>, q: Pick<SummaryQuery, 'siteId' | 'siteIds' | 'from' | 'to'>): Promise<ReadPlan> {
  const { rows: sites } = await sql<{ id: string }>`SELECT s.id FROM site s WHERE true ${siteFilter(q, sql`s.id`)}`.execute(db);
  const { rows: days } = await sql<{ siteId: string; fromAt: Date; toAt: Date; sameZone: boolean }>`
    SELECT d.site_id AS "siteId", d.from_at AS "fromAt", d.to_at AS "toAt",
      d.timezone = (SELECT s.timezone FROM site s WHERE s.id = d.site_id) AS "sameZone"
    FROM report_day d
    WHERE d.to_at > ${q.from} AND d.from_at < ${q.to} ${siteFilter(q, sql`d.site_id`)}
    ORDER BY d.site_id, d.from_at`.execute(db);
  const bySite = new Map<string, typeof days>();
  for (const d of days) bySite.set(d.siteId, [...(bySite.get(d.siteId) ?? []), d]);
  const spans: Span[] = [];
  for (const { id } of sites) {
    let at = q.from.getTime();
    for (const d of bySite.get(id) ?? []) {
      if (d.fromAt.getTime() > at) spans.push({ siteId: id, lo: new Date(at), hi: new Date(Math.min(d.fromAt.getTime(), q.to.getTime())) });
      at = Math.max(at, d.toAt.getTime());
    }
    if (at < q.to.getTime()) spans.push({ siteId: id, lo: new Date(at), hi: q.to });
  }
  return { builtDays: days.length, spans, sameZones: days.every((d) => d.sameZone) };
}

const spanArrays = (spans: Span[]) => ({
  sites: sql`${spans.map((s) => s.siteId)}::uuid[]`,
  los: sql`${spans.map((s) => s.lo.toISOString())}::timestamptz[]`,
  his: sql`${spans.map((s) => s.hi.toISOString())}::timestamptz[]`,
  dates: sql`${spans.map((s) => s.localDate ?? null)}::date[]`,
});

/**
 * The period the events of the range's ended tickets (done, no-show, cancelled, expired) were stamped
 * in: from a day before the first issue to a day after the last end. Read from the covering
 * index ticket_report_idx alone. With `spans`, over the tickets of those spans only.
 */
export async function reportBounds(db: Kysely<Database>, q: SummaryQuery, spans: Span[] | null = null): Promise<EventBounds> {
  const select = sql`min(t.issued_at) - interval '1 day' AS lo,
      max(t.finished_at) FILTER (WHERE t.status IN ('done', 'no_show', 'cancelled', 'expired')) + interval '1 day' AS hi`;
  if (spans !== null) {
    if (!spans.length) return { lo: null, hi: null };
    const a = spanArrays(spans);
    const { rows: [row] } = await sql<EventBounds>`
      SELECT ${select}
      FROM unnest(${a.sites}, ${a.los}, ${a.his}) AS u(site_id, lo, hi)
      CROSS JOIN LATERAL (SELECT t.issued_at, t.finished_at, t.status FROM ticket t
        WHERE t.site_id = u.site_id AND t.issued_at >= u.lo AND t.issued_at < u.hi ${LOOKUP}) t`.execute(db);
    return { lo: row?.lo ?? null, hi: row?.hi ?? null };
  }
  const { rows: [row] } = await sql<EventBounds>`
    SELECT ${select}
    FROM ticket t
    WHERE t.issued_at >= ${q.from} AND t.issued_at < ${q.to} ${siteFilter(q, sql`t.site_id`)}`.execute(db);
  return { lo: row?.lo ?? null, hi: row?.hi ?? null };
}

const STINT_COLUMN_NAMES = ['site_id', 'issued_at', 'ticket_id', 'service_id', 'call_counter_id', 'call_staff_id', 'first', 'transfer_in',
  'transfer_out', 'final', 'status', 'wait', 'service_seconds', 'estimate_error', 'score'];
/** the columns of a stint's facts, as report_stint has them (less its local day and hour) */
const stintColumns = (alias?: string) => sql.join(STINT_COLUMN_NAMES.map((c) => (alias ? sql.ref(`${alias}.${c}`) : sql.ref(c))));
const STINT_COLUMNS = stintColumns();

/**
 * The stint facts of the tickets of `scope` (CTE columns id, site_id, local_date, service_id,
 * status, issued_at, finished_at, estimated_wait_seconds), computed from the raw history: CTEs
 * ending in `raw_fact`, with STINT_COLUMNS and local_date. Shared by the report (for what has
 * no facts) and by the build of the facts, so both compute a stint the same way.
 */
function rawStints(scope: RawBuilder<unknown>, bounds: EventBounds, eventSites: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    raw_scope AS (${scope}),
    -- The queue history of each ticket: its stint starts and calls, in the order they happened.
    -- A ticket that has ended (done, no-show, cancelled, expired) had all its events between its issue
    -- and its end, stamped by the server's clock: they are read with one range scan of that
    -- period (bounds, see reportBounds) on ticket_event_report_idx (site_id, at), where the
    -- rows of one site-month lie together, rather than with one random lookup per ticket. The
    -- day of margin either side absorbs a server clock set back by hours during a ticket's
    -- life. Tickets still open may gain events at any time: they are read ticket by ticket.
    ev AS (
      SELECT e.ticket_id, e.id, e.type, e.service_id, e.counter_id, e."at", e.staff_id
      FROM ticket_event e
      WHERE e.type IN ('issued', 'transferred', 'called')
        AND e."at" >= ${bounds.lo} AND e."at" <= ${bounds.hi}
        ${eventSites}
        AND e.ticket_id IN (SELECT id FROM raw_scope WHERE status IN ('done', 'no_show', 'cancelled', 'expired'))
      UNION ALL
      SELECT e.ticket_id, e.id, e.type, e.service_id, e.counter_id, e."at", e.staff_id
      FROM raw_scope t
      CROSS JOIN LATERAL (SELECT * FROM ticket_event e WHERE e.ticket_id = t.id AND e.type IN ('issued', 'transferred', 'called') ${LOOKUP}) e
      WHERE t.status NOT IN ('done', 'no_show', 'cancelled', 'expired')
    ),
    -- Each event with its ticket's columns, joined here (hashed: see NO_NESTED_LOOPS), so that
    -- no join of the tickets to their stints is left after the window, whose size the planner
    -- cannot guess (a few dozen, for 16,000 stints at 5 M tickets: 14 s in a nested loop).
    named AS (
      SELECT e.ticket_id, e.id, e.type, e.service_id, e.counter_id, e."at",
        CASE WHEN e.type = 'called' THEN ${callStaffId('e')} END AS staff_id,
        t.site_id, t.local_date, t.issued_at AS ticket_issued_at, t.status AS ticket_status, t.finished_at, t.estimated_wait_seconds
      FROM ev e
      JOIN raw_scope t ON t.id = e.ticket_id
      -- a fence, so the official of a call is looked up once, not once per use
      OFFSET 0
    ),
    seq AS (
      SELECT e.ticket_id, e.id, e.type, e.service_id, e."at",
        e.site_id, e.local_date, e.ticket_issued_at, e.ticket_status, e.finished_at, e.estimated_wait_seconds,
        lead(e.type) OVER w AS next_type,
        lead(e."at") OVER w AS next_at,
        lead(e.counter_id) OVER w AS next_counter_id,
        lead(e.staff_id) OVER w AS next_staff_id,
        lead(e.type, 2) OVER w AS after_next_type,
        max(e.id) FILTER (WHERE e.type IN ('issued', 'transferred')) OVER w AS final_stint_id
      FROM named e
      -- one window: lead() ignores the frame, max() wants the whole history of the ticket
      WINDOW w AS (PARTITION BY e.ticket_id ORDER BY e.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    -- Every stint, called or not: it starts at an 'issued' or 'transferred' event and ends at the
    -- next 'called' one. It was transferred out when a 'transferred' event follows (after its call).
    stint AS (
      SELECT ticket_id, service_id, site_id, local_date, ticket_issued_at, ticket_status, finished_at, estimated_wait_seconds,
        type = 'issued' AS first,
        type = 'transferred' AS transfer_in,
        id = final_stint_id AS final,
        next_type = 'called' AS called,
        next_type = 'transferred' OR (next_type = 'called' AND after_next_type = 'transferred') AS transfer_out,
        CASE WHEN next_type = 'called' THEN next_at END AS call_at,
        CASE WHEN next_type = 'called' THEN next_counter_id END AS call_counter_id,
        CASE WHEN next_type = 'called' THEN next_staff_id END AS call_staff_id,
        CASE WHEN next_type = 'called' THEN ${secondsBetween(sql`"at"`, sql`next_at`)} END AS wait
      FROM seq
      WHERE type IN ('issued', 'transferred')
    ),
    -- One fact per stint. The ticket's issue belongs to its first stint; its outcome (status,
    -- service time, rating) to its final stint, the one that ended it (or holds it still). A
    -- ticket without events (none in practice) is one stint that is both, never called.
    raw_fact AS (
      SELECT s.site_id, s.local_date, s.ticket_issued_at AS issued_at, s.ticket_id, s.service_id,
        s.call_counter_id, s.call_staff_id, s.first, s.transfer_in, coalesce(s.transfer_out, false) AS transfer_out, s.final,
        CASE WHEN s.final THEN s.ticket_status END AS status,
        s.wait,
        CASE WHEN s.final AND s.ticket_status = 'done' THEN ${secondsBetween(sql`s.call_at`, sql`s.finished_at`)} END AS service_seconds,
        CASE WHEN s.first AND s.called THEN abs(s.estimated_wait_seconds - s.wait) END AS estimate_error,
        r.score
      FROM stint s
      LEFT JOIN LATERAL (SELECT r.score FROM rating r WHERE r.ticket_id = s.ticket_id AND s.final ${LOOKUP}) r ON true
      UNION ALL
      -- (NOT IN over the stints is one hashed set, whatever the planner guesses of their number)
      SELECT t.site_id, t.local_date, t.issued_at, t.id, t.service_id, NULL, NULL, true, false, false, true, t.status,
        NULL, NULL, NULL, r.score
      FROM raw_scope t
      LEFT JOIN LATERAL (SELECT r.score FROM rating r WHERE r.ticket_id = t.id ${LOOKUP}) r ON true
      WHERE t.id NOT IN (SELECT ticket_id FROM stint)
    )`;
}

/** The tickets of `spans`, as rawStints wants them. */
function spanScope(spans: Span[]): RawBuilder<unknown> {
  const a = spanArrays(spans);
  return sql`
      SELECT t.id, t.site_id, u.local_date, t.service_id, t.status, t.issued_at, t.finished_at, t.estimated_wait_seconds
      FROM unnest(${a.sites}, ${a.los}, ${a.his}, ${a.dates}) AS u(site_id, lo, hi, local_date)
      CROSS JOIN LATERAL (SELECT * FROM ticket t WHERE t.site_id = u.site_id AND t.issued_at >= u.lo AND t.issued_at < u.hi ${LOOKUP}) t`;
}

/** The statement behind summaryReport (exported to EXPLAIN it; call summaryReport instead). */
export function summaryStatement(q: SummaryQuery, bounds: EventBounds, plan: ReadPlan = RAW_PLAN): RawBuilder<AggregateRow> {
  const grouping = GROUPINGS[q.groupBy];
  const byProcedure = q.groupBy === 'procedure';
  const rawScope = plan.spans === null
    ? sql`
      SELECT t.id, t.site_id, NULL::date AS local_date, t.service_id, t.status, t.issued_at, t.finished_at, t.estimated_wait_seconds
      FROM ticket t
      WHERE t.issued_at >= ${q.from} AND t.issued_at < ${q.to} ${siteFilter(q, sql`t.site_id`)}`
    : spanScope(plan.spans);
  const eventSites = plan.spans === null ? siteFilter(q, sql`e.site_id`) : sql`AND e.site_id = ANY(${[...new Set(plan.spans.map((s) => s.siteId))]}::uuid[])`;
  return sql<AggregateRow>`
    WITH site_scope AS MATERIALIZED (
      SELECT s.id, s.timezone,
        -- the lowest score of the site's rating scale; the default scale (3, 2, 1) when none is set
        coalesce((SELECT min((scale.entry->>'score')::int) FROM jsonb_array_elements(
          CASE WHEN jsonb_typeof(s.settings->'ratingScale') = 'array' THEN s.settings->'ratingScale' ELSE '[]'::jsonb END) AS scale(entry)), 1)
          AS lowest_score
      FROM site s
      WHERE true ${siteFilter(q, sql`s.id`)}
    ),
    ${rawStints(rawScope, bounds, eventSites)},
    -- the facts of the built site-days (report_day), then the stints of the rest read raw: the
    -- same columns, computed by the same rawStints when the days were built
    stint_fact AS (
      ${plan.builtDays ? sql`
      SELECT ${stintColumns('f')}, ${plan.sameZones ? sql`f.local_date, f.local_hour` : reckonedDayHour('f')}
      FROM report_stint f ${plan.sameZones ? sql`` : sql`JOIN site_scope z ON z.id = f.site_id`}
      -- only built days have stints (the rating trigger drops a day and its stints together)
      WHERE f.issued_at >= ${q.from} AND f.issued_at < ${q.to} ${siteFilter(q, sql`f.site_id`)}
      UNION ALL` : sql``}
      -- a raw stint's local day and hour are reckoned from issued_at (reckonedDayHour)
      SELECT ${stintColumns('r')}, ${reckonedDayHour('r')} FROM raw_fact r JOIN site_scope z ON z.id = r.site_id
    ),
    -- every stint in the group where it happened; what is a current setting (the service's
    -- target wait, the site's rating scale and timezone) joined now
    fact AS (
      SELECT ${grouping.stintKey} AS key, f.ticket_id, f.first, f.transfer_in, f.transfer_out, f.status, f.service_seconds,
        f.score,
        CASE WHEN f.score IS NOT NULL THEN (f.score = t.lowest_score)::int END AS not_satisfied,
        f.wait,
        CASE WHEN f.wait IS NOT NULL THEN (f.wait <= sv.target_wait_seconds)::int END AS within_target,
        f.estimate_error
      FROM stint_fact AS f (${STINT_COLUMNS}, local_date, local_hour)
      JOIN site_scope t ON t.id = f.site_id
      LEFT JOIN service sv ON sv.id = f.service_id
    ),
    ${byProcedure ? sql`
    -- each stint once per procedure of its ticket, under '' for a ticket with none; the copy in
    -- the ticket's first procedure (byte order) is its primary one, which the totals count
    first_procedure AS (
      SELECT tp.ticket_id, min(tp.procedure_code COLLATE "C") AS code
      FROM ticket_procedure tp
      WHERE true ${siteFilter(q, sql`tp.site_id`)}
      GROUP BY tp.ticket_id
    ),
    keyed AS (
      SELECT coalesce(tp.procedure_code, ${NO_PROCEDURE.key}) AS key,
        tp.procedure_code IS NULL OR tp.procedure_code = fp.code AS "primary",
        f.first, f.transfer_in, f.transfer_out, f.status,
        f.service_seconds, f.score, f.not_satisfied, f.wait, f.within_target, f.estimate_error
      FROM fact f
      -- the same procedures as first_procedure's, so that a copy is primary or not, never unknown
      LEFT JOIN ticket_procedure tp ON tp.ticket_id = f.ticket_id ${siteFilter(q, sql`tp.site_id`)}
      LEFT JOIN first_procedure fp ON fp.ticket_id = f.ticket_id
    ),
    -- one pass: each group in its primary part and its other copies, added up in summaryFromRows
    agg AS (
      SELECT key, "primary", ${AGGREGATES} FROM keyed GROUP BY key, "primary"
    )` : sql`
    -- one row per group, the stints nobody called (counter, staff) in a group of their own (key
    -- null); every stint is in one group, so the totals are the groups added up (summaryFromRows)
    agg AS (
      SELECT key, true AS "primary", ${AGGREGATES}
      FROM fact
      GROUP BY key
    )`}
    SELECT ${grouping.keyText ?? sql`a.key::text`} AS "key", a."primary" AS "primary", (${grouping.label})::text AS "label",
      a.issued AS "issued", a.served AS "served", a.no_show AS "noShow", a.cancelled AS "cancelled", a.expired AS "expired",
      a.transferred AS "transferred", a.transfers_in AS "transfersIn", a.waits AS "waits", a.wait_micros AS "waitMicros",
      a.wait_values AS "waitValues", a.targets AS "targets", a.within_target AS "withinTarget",
      a.services AS "services", a.service_micros AS "serviceMicros", a.service_values AS "serviceValues",
      a.ratings AS "ratings", a.score_sum AS "scoreSum", a.not_satisfied AS "notSatisfied", a.score_values AS "scoreValues",
      a.estimate_error_values AS "estimateErrorValues"
    FROM agg a
    ${grouping.join}
    ${byProcedure ? sql`LEFT JOIN LATERAL (SELECT ${procedureLabel(sql`a.key`, siteFilter(q, sql`tp.site_id`))} AS name) g ON true` : sql``}
    ORDER BY ${grouping.order}, a."primary" DESC`;
}

export interface BuildQuery {
  siteId: string | null;
  siteIds?: string[];
  from: Date;
  to: Date;
  /** days ending after this instant are not built (today, the future) */
  now: Date;
  /** site-days built at most */
  limit?: number;
  /** which missing days first: the oldest (default) or the newest */
  newestFirst?: boolean;
}

/**
 * The site-days touching [from, to) over by `now` that have no facts (nor facts of a day
 * overlapping them, after a timezone change) and no ticket still open, first days first.
 */
async function missingDays(db: Kysely<Database>, q: BuildQuery): Promise<{ siteId: string; localDate: string; lo: Date; hi: Date }[]> {
  const { rows } = await sql<{ siteId: string; localDate: string; lo: Date; hi: Date }>`
    WITH day AS (
      SELECT s.id AS site_id, g.day::date AS day, g.day::timestamp AT TIME ZONE s.timezone AS lo,
        (g.day + interval '1 day')::timestamp AT TIME ZONE s.timezone AS hi
      FROM site s
      -- a site's days start with its first ticket (ticket_site_issued_idx): before it there is
      -- nothing to build, and a report reads that stretch raw as one empty span (readPlan)
      CROSS JOIN LATERAL (SELECT min(t.issued_at) AS first FROM ticket t WHERE t.site_id = s.id) f
      CROSS JOIN LATERAL generate_series(greatest((${q.from}::timestamptz AT TIME ZONE s.timezone)::date, (f.first AT TIME ZONE s.timezone)::date),
        ((${q.to}::timestamptz - interval '1 millisecond') AT TIME ZONE s.timezone)::date, interval '1 day') AS g(day)
      WHERE f.first IS NOT NULL ${siteFilter(q, sql`s.id`)}
    ),
    -- the days without facts first, on report_day alone (a built range costs no ticket read)
    missing AS MATERIALIZED (
      SELECT d.* FROM day d
      WHERE d.hi <= ${q.now}
        AND NOT EXISTS (SELECT 1 FROM report_day r WHERE r.site_id = d.site_id AND r.local_date = d.day)
        -- a day built in another timezone overlapping this one: offsets differ by at most 26 hours
        AND NOT EXISTS (SELECT 1 FROM report_day r WHERE r.site_id = d.site_id AND r.local_date BETWEEN d.day - 2 AND d.day + 2
          AND r.from_at < d.hi AND r.to_at > d.lo)
    )
    SELECT m.site_id AS "siteId", to_char(m.day, 'YYYY-MM-DD') AS "localDate", m.lo, m.hi
    FROM missing m
    WHERE NOT EXISTS (SELECT 1 FROM ticket t WHERE t.site_id = m.site_id AND t.issued_at >= m.lo AND t.issued_at < m.hi
      AND t.status NOT IN ('done', 'no_show', 'cancelled', 'expired'))
    ORDER BY ${q.newestFirst ? sql`m.day DESC` : sql`m.day`}, m.site_id
    LIMIT ${q.limit ?? 1_000_000}`.execute(db);
  return rows;
}

/**
 * Builds the report facts (report_stint, report_day) of the site-days that touch [from, to) and
 * have none, from the site's first ticket on: those over by `now` whose every ticket has ended
 * (done, no-show, cancelled, expired: none of these moves again). One transaction; returns the
 * site-days and tickets built.
 */
export async function buildReportDays(db: Kysely<Database>, q: BuildQuery): Promise<{ days: number; tickets: number }> {
  // which site-days are missing, first without a lock: usually none (the report's own check)
  if (!(await missingDays(db, q)).length) return { days: 0, tickets: 0 };
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
    // orders the build with a rating's trigger (see the migration): a rating committed before
    // this is read below; one after waits, then drops the day again
    await sql`LOCK TABLE report_day IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
    const days = await missingDays(trx, q);
    if (!days.length) return { days: 0, tickets: 0 };
    await NO_NESTED_LOOPS.execute(trx);
    const spans: Span[] = days.map((d) => ({ siteId: d.siteId, lo: d.lo, hi: d.hi, localDate: d.localDate }));
    const a = spanArrays(spans);
    // facts left by a day whose report_day row a rating dropped
    await sql`DELETE FROM report_stint f USING unnest(${a.sites}, ${a.dates}) AS u(site_id, local_date)
      WHERE f.site_id = u.site_id AND f.local_date = u.local_date`.execute(trx);
    const bounds = await reportBounds(trx, { siteId: null, from: q.from, to: q.to, groupBy: 'service' }, spans);
    const eventSites = sql`AND e.site_id = ANY(${[...new Set(spans.map((s) => s.siteId))]}::uuid[])`;
    const { rows: [built] } = await sql<{ tickets: string }>`
      WITH ${rawStints(spanScope(spans), bounds, eventSites)},
      inserted AS (
        INSERT INTO report_stint (local_date, local_hour, ${STINT_COLUMNS})
        SELECT f.local_date, date_part('hour', f.issued_at AT TIME ZONE s.timezone), ${stintColumns('f')}
        FROM raw_fact f
        JOIN site s ON s.id = f.site_id
        RETURNING site_id, local_date, ticket_id, first
      ),
      marked AS (
        INSERT INTO report_day (site_id, local_date, from_at, to_at, timezone, tickets)
        SELECT u.site_id, u.local_date, u.lo, u.hi, s.timezone, coalesce(n.tickets, 0)
        FROM unnest(${a.sites}, ${a.dates}, ${a.los}, ${a.his}) AS u(site_id, local_date, lo, hi)
        JOIN site s ON s.id = u.site_id
        LEFT JOIN (SELECT site_id, local_date, count(*) FILTER (WHERE first) AS tickets FROM inserted GROUP BY 1, 2) n
          ON n.site_id = u.site_id AND n.local_date = u.local_date
        RETURNING tickets
      )
      SELECT coalesce(sum(tickets), 0) AS tickets FROM marked`.execute(trx);
    return { days: days.length, tickets: Number(built?.tickets ?? 0) };
  });
}

/**
 * A sum of seconds (float8, from microsecond timestamps) that does not depend on the order the
 * rows are read in: whole microseconds, added exactly (here, and in sumRows across groups and a
 * summary's slices). A float8 sum's last digits follow the order, which a plan changed by an
 * ANALYZE changes: the same report would differ between pulls.
 */
const microsSum = (seconds: RawBuilder<unknown>) => sql`sum(round(${seconds} * 1000000)::int8)`;

/**
 * The figures of one group (or of the totals), over the stint facts `fact` or their copies: counts
 * and sums (averages and shares are divided in figures(), so groups add up), and the values
 * behind the percentiles and the rating shares as bytes, sorted and counted in figures().
 */
const AGGREGATES = sql`
        count(*) FILTER (WHERE first) AS issued,
        count(*) FILTER (WHERE status = 'done') AS served,
        count(*) FILTER (WHERE status = 'no_show') AS no_show,
        count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE status = 'expired') AS expired,
        count(*) FILTER (WHERE transfer_out) AS transferred,
        count(*) FILTER (WHERE transfer_in) AS transfers_in,
        count(wait) AS waits,
        ${microsSum(sql`wait`)} AS wait_micros,
        string_agg(float8send(wait), ''::bytea) AS wait_values,
        count(within_target) AS targets,
        sum(within_target) AS within_target,
        count(service_seconds) AS services,
        ${microsSum(sql`service_seconds`)} AS service_micros,
        string_agg(float8send(service_seconds), ''::bytea) AS service_values,
        count(score) AS ratings,
        sum(score) AS score_sum,
        sum(not_satisfied) AS not_satisfied,
        string_agg(int4send(score), ''::bytea) AS score_values,
        string_agg(float8send(estimate_error), ''::bytea) AS estimate_error_values`;

/**
 * PostgreSQL's percentile_cont (continuous: linear interpolation between the two nearest ranks,
 * `lo + (hi - lo) * fraction`, the same float8 arithmetic) over float8send bytes, at several
 * fractions. The statement hands the values over rather than sorting them itself: its sorts,
 * one per percentile's column and group, were most of an all-sites month (docs/performance.md,
 * "Report facts"); here each rank is found by selection (quickselect), in linear time.
 */
export function percentiles(bytes: Buffer | null, fractions: readonly number[]): (number | null)[] {
  const n = bytes ? bytes.length / 8 : 0;
  if (!bytes || n === 0) return fractions.map(() => null);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = bytes.readDoubleBE(i * 8);
  return fractions.map((fraction) => {
    const position = fraction * (n - 1);
    const first = Math.floor(position);
    const second = Math.ceil(position);
    const lo = select(values, first);
    // the next rank up: the least of what selection left above `first`
    let hi = lo;
    if (second !== first) {
      hi = Infinity;
      for (let i = first + 1; i < n; i++) if (values[i]! < hi) hi = values[i]!;
    }
    return lo + (hi - lo) * (position - first);
  });
}

/** The k-th least of `a` (0-based), moving it to a[k] with nothing greater before it and nothing less after (Hoare's selection). */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    // median of three as the pivot, so sorted runs (a day's waits often are) stay linear
    const mid = (left + right) >>> 1;
    const pivot = median(a[left]!, a[mid]!, a[right]!);
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!; a[i] = a[j]!; a[j] = t;
        i++; j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

const median = (x: number, y: number, z: number) => Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));

/** A count or sum of the statement as a number (0 for a sum over nothing). */
const n = (v: number | string | null): number => (v === null ? 0 : Number(v));
/** sum / count, null over nothing (as PostgreSQL's avg) */
const mean = (sum: number | string | null, count: number | string) => (n(count) ? n(sum) / n(count) : null);
/** whole microseconds as seconds (exact below 2^53 µs, 285 years) */
const seconds = (micros: string | bigint | null): number => (micros === null ? 0 : Number(micros) / 1e6);

function figures(r: AggregateRow): ReportTotals {
  const [waitP50Seconds, waitP90Seconds] = percentiles(r.waitValues, [0.5, 0.9]);
  const [serviceP90Seconds] = percentiles(r.serviceValues, [0.9]);
  const [estimateMaeSeconds] = percentiles(r.estimateErrorValues, [0.5]);
  const ratings = n(r.ratings);
  const counts = new Map<number, number>();
  for (let i = 0; r.scoreValues && i < r.scoreValues.length; i += 4) {
    const score = r.scoreValues.readInt32BE(i);
    counts.set(score, (counts.get(score) ?? 0) + 1);
  }
  const ratingShares: Record<string, number> = {};
  for (const [score, count] of [...counts].sort(([a], [b]) => a - b)) ratingShares[String(score)] = count / ratings;
  return {
    issued: n(r.issued),
    served: n(r.served),
    noShow: n(r.noShow),
    waitAvgSeconds: mean(seconds(r.waitMicros), r.waits),
    waitP50Seconds: waitP50Seconds ?? null,
    waitP90Seconds: waitP90Seconds ?? null,
    serviceAvgSeconds: mean(seconds(r.serviceMicros), r.services),
    serviceP90Seconds: serviceP90Seconds ?? null,
    ratings,
    ratingAvg: mean(r.scoreSum, r.ratings),
    transferred: n(r.transferred),
    transfersIn: n(r.transfersIn),
    cancelled: n(r.cancelled),
    expired: n(r.expired),
    waits: n(r.waits),
    withinTargetShare: mean(r.withinTarget, r.targets),
    ratingShares,
    notSatisfiedShare: mean(r.notSatisfied, r.ratings),
    estimateMaeSeconds: estimateMaeSeconds ?? null,
  };
}

const SUMMED = ['issued', 'served', 'noShow', 'cancelled', 'expired', 'transferred', 'transfersIn', 'waits', 'targets',
  'withinTarget', 'services', 'ratings', 'scoreSum', 'notSatisfied'] as const;
const MICROS = ['waitMicros', 'serviceMicros'] as const;
const JOINED = ['waitValues', 'serviceValues', 'estimateErrorValues', 'scoreValues'] as const;

/** The groups added up: counts and sums added, values put together (an empty list: nothing). */
function sumRows(rows: AggregateRow[]): AggregateRow {
  const total = { key: rows[0]?.key ?? null, primary: true, label: rows[0]?.label ?? null } as AggregateRow;
  for (const field of SUMMED) total[field] = rows.reduce((sum, r) => sum + n(r[field]), 0);
  // as integers: a province's year of waits is near 2^53 microseconds
  for (const field of MICROS) total[field] = rows.reduce((sum, r) => sum + BigInt(r[field] ?? 0), 0n);
  for (const field of JOINED) {
    const parts = rows.map((r) => r[field]).filter((b): b is Buffer => b !== null);
    total[field] = parts.length ? Buffer.concat(parts) : null;
  }
  return total;
}

/** How far back the day-end runner builds the facts of days that have none (after an upgrade). */
export const BACKFILL_DAYS = 400;

/**
 * The day-end runner's part of the report facts: each check builds the days just over (the last
 * two), then up to `perCheck` older site-days without facts, newest first, back BACKFILL_DAYS;
 * once a look back finds none it stops looking back (until the server restarts), so a check
 * then costs one look at the last two days.
 */
export function reportFactsBuilder(db: Kysely<Database>, perCheck = LAZY_BUILD_DAYS) {
  let backfilled = false;
  return {
    async build(now: Date): Promise<{ days: number; tickets: number }> {
      const recent = await buildReportDays(db, { siteId: null, from: new Date(now.getTime() - 2 * DAY_MS), to: now, now, limit: 500 });
      if (backfilled) return recent;
      const older = await buildReportDays(db, {
        siteId: null, from: new Date(now.getTime() - BACKFILL_DAYS * DAY_MS), to: now, now, limit: perCheck, newestFirst: true,
      });
      if (!older.days) backfilled = true;
      return { days: recent.days + older.days, tickets: recent.tickets + older.tickets };
    },
  };
}

const DAY_MS = 86_400_000;
