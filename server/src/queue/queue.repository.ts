import { sql, type Kysely, type Transaction } from 'kysely';
import type { CounterRow, Database, NewTicket, NewTicketEvent, SiteRow, TicketRow, TicketStatus, TicketUpdate } from '@qms/db';
import type { Calendar } from '@qms/protocol/calendar';
import { aheadInOrder, type StreakState, type Waiting } from './call-order.ts';
import { DEFAULT_SERVICE_SECONDS } from './wait.estimate.ts';

// Every query of the queue engine. Queries that lock rows take a Transaction, so the
// compiler refuses to run them outside one.

type Q = Kysely<Database>;
type Trx = Transaction<Database>;

export async function findSite(db: Q, siteId: string): Promise<SiteRow | undefined> {
  return db.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
}

export async function loadCalendar(db: Q, site: SiteRow): Promise<Calendar> {
  const [hours, days] = await Promise.all([openingHours(db, site.id), holidays(db, site.id)]);
  return { timezone: site.timezone, hours, holidays: days };
}

export function openingHours(db: Q, siteId: string): Promise<Calendar['hours']> {
  return db.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', siteId).execute();
}

export async function holidays(db: Q, siteId: string): Promise<Calendar['holidays']> {
  return (await db.selectFrom('holiday').select('date').where('siteId', '=', siteId).execute()).map((h) => h.date);
}

export async function findService(db: Q, serviceId: string) {
  return db.selectFrom('service').selectAll().where('id', '=', serviceId).executeTakeFirst();
}

/** What an issue needs to know of its site and service, in one round trip (nothing of it is locked). */
export interface IssueSettings {
  site: Pick<SiteRow, 'id' | 'timezone' | 'codeDigits'>;
  service: { id: string; siteId: string; active: boolean; prefix: string } | null;
  /** the rank of the requested priority group, if one was asked for and it is configured and active */
  priorityRank: number | null;
  priorityKnown: boolean;
  calendar: Calendar;
  procedure: { code: string; name: { vi: string; en: string } } | null;
}

export async function issueSettings(db: Q, siteId: string, serviceId: string, priority: string | null, procedureCode: string | null): Promise<IssueSettings | undefined> {
  const { rows } = await sql<{
    id: string; timezone: string; codeDigits: number; serviceId: string | null; serviceSiteId: string | null; serviceActive: boolean | null;
    prefix: string | null; priorityRank: number | null; priorityKnown: boolean; hours: Calendar['hours']; holidays: string[];
    procedure: { code: string; name: { vi: string; en: string } } | null;
  }>`
    SELECT s.id, s.timezone, s.code_digits AS "codeDigits",
      v.id AS "serviceId", v.site_id AS "serviceSiteId", v.active AS "serviceActive", v.prefix,
      g.rank AS "priorityRank", g.id IS NOT NULL AS "priorityKnown",
      (SELECT coalesce(json_agg(json_build_object('weekday', h.weekday, 'opens', h.opens, 'closes', h.closes)), '[]')
        FROM opening_hours h WHERE h.site_id = s.id) AS hours,
      (SELECT coalesce(json_agg(to_char(d.date, 'YYYY-MM-DD')), '[]') FROM holiday d WHERE d.site_id = s.id) AS holidays,
      (SELECT json_build_object('code', p.code, 'name', p.name) FROM procedure p
        WHERE p.service_id = v.id AND p.code = ${procedureCode}) AS procedure
    FROM site s
    LEFT JOIN service v ON v.id = ${serviceId}
    LEFT JOIN priority_group g ON g.site_id = s.id AND g.code = ${priority} AND g.active
    WHERE s.id = ${siteId}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    site: { id: row.id, timezone: row.timezone, codeDigits: row.codeDigits },
    service: row.serviceId ? { id: row.serviceId, siteId: row.serviceSiteId!, active: row.serviceActive!, prefix: row.prefix! } : null,
    priorityRank: row.priorityRank,
    priorityKnown: row.priorityKnown,
    calendar: { timezone: row.timezone, hours: row.hours, holidays: row.holidays },
    procedure: row.procedure,
  };
}

/** One of a service's procedures, by its national code. */
export async function findProcedure(db: Q, serviceId: string, code: string) {
  return db.selectFrom('procedure').select(['code', 'name']).where('serviceId', '=', serviceId).where('code', '=', code).executeTakeFirst();
}

/** The procedure a ticket was issued for (at the kiosk, or by an official's walk-in issue), if any. */
export async function issuedProcedure(db: Q, ticketId: string) {
  return db.selectFrom('ticketProcedure').innerJoin('ticket', 'ticket.id', 'ticketProcedure.ticketId')
    .select(['ticketProcedure.procedureCode as code', 'ticketProcedure.procedureName as name'])
    .where('ticketProcedure.ticketId', '=', ticketId).whereRef('ticketProcedure.addedAt', '=', 'ticket.issuedAt').executeTakeFirst();
}

/** Next ticket number of a service for a local day. The row lock serialises concurrent kiosks;
 * a rolled-back issue rolls the number back too, so numbers have no gaps. */
export async function nextNumber(trx: Trx, serviceId: string, localDate: string): Promise<number> {
  const row = await trx
    .insertInto('dailySequence')
    .values({ serviceId, localDate, lastNumber: 1 })
    .onConflict((oc) => oc.columns(['serviceId', 'localDate']).doUpdateSet({ lastNumber: sql`daily_sequence.last_number + 1` }))
    .returning('lastNumber')
    .executeTakeFirstOrThrow();
  return row.lastNumber;
}

export async function insertEvent(db: Q, event: NewTicketEvent): Promise<void> {
  await db.insertInto('ticketEvent').values(event).execute();
}

export async function lockTicket(trx: Trx, ticketId: string): Promise<TicketRow | undefined> {
  return trx.selectFrom('ticket').selectAll().where('id', '=', ticketId).forUpdate().executeTakeFirst();
}

export async function lockCounter(trx: Trx, counterId: string): Promise<CounterRow | undefined> {
  return trx.selectFrom('counter').selectAll().where('id', '=', counterId).forUpdate().executeTakeFirst();
}

/** What the ticket and counter operations need of a site. */
export type SiteRules = Pick<SiteRow, 'id' | 'timezone' | 'serviceOrder' | 'priorityRatio' | 'transferToFront'>;

/** The counter, locked, with its site's rules read in the same round trip (the site is not locked). */
export async function lockCounterAtSite(trx: Trx, counterId: string): Promise<{ counter: CounterRow; site: SiteRules } | undefined> {
  const row = await trx.selectFrom('counter').innerJoin('site', 'site.id', 'counter.siteId')
    .selectAll('counter')
    .select(['site.timezone as siteTimezone', 'site.serviceOrder as siteServiceOrder', 'site.priorityRatio as sitePriorityRatio',
      'site.transferToFront as siteTransferToFront'])
    .where('counter.id', '=', counterId)
    .forUpdate('counter')
    .executeTakeFirst();
  if (!row) return undefined;
  const { siteTimezone, siteServiceOrder, sitePriorityRatio, siteTransferToFront, ...counter } = row;
  return {
    counter,
    site: { id: counter.siteId, timezone: siteTimezone, serviceOrder: siteServiceOrder, priorityRatio: sitePriorityRatio, transferToFront: siteTransferToFront },
  };
}

/** The official a ticket's history names, as the statements below read them (app_user and staff_photo). */
export interface Official {
  id: string;
  displayName: string;
  etag: string | null;
}
type OfficialColumns = { officialId: string | null; officialName: string | null; officialPhotoEtag: string | null };
const officialOf = (r: OfficialColumns): Official | null => (r.officialId ? { id: r.officialId, displayName: r.officialName!, etag: r.officialPhotoEtag } : null);

/**
 * A ticket and the counter acting on it, both locked (the counter first, as call-next locks
 * them), with the counter's site rules and the official the ticket's history names (its
 * caller, else the counter's), in one round trip. Undefined when the counter or the ticket does
 * not exist: the caller then finds out which, the slower way.
 */
export async function lockTicketAtCounter(trx: Trx, counterId: string, ticketId: string): Promise<{
  counter: CounterRow; site: SiteRules; row: TicketRow; official: Official | null;
} | undefined> {
  const { rows } = await sql<TicketRow & OfficialColumns & {
    kId: string; kSiteId: string; kNumber: number; kName: string; kStatus: CounterRow['status']; kStaffId: string | null; kPauseReason: string | null;
    kStatusChangedAt: Date; kNormalStreak: number | null; kBookedStreak: number | null; kActive: boolean;
    siteTimezone: string; siteServiceOrder: SiteRules['serviceOrder']; sitePriorityRatio: number | null; siteTransferToFront: boolean;
  }>`
    SELECT t.*, k.id AS k_id, k.site_id AS k_site_id, k.number AS k_number, k.name AS k_name, k.status AS k_status, k.staff_id AS k_staff_id,
      k.pause_reason AS k_pause_reason, k.status_changed_at AS k_status_changed_at, k.normal_streak AS k_normal_streak,
      k.booked_streak AS k_booked_streak, k.active AS k_active,
      s.timezone AS site_timezone, s.service_order AS site_service_order, s.priority_ratio AS site_priority_ratio, s.transfer_to_front AS site_transfer_to_front,
      u.id AS official_id, u.display_name AS official_name, p.etag AS official_photo_etag
    FROM counter k JOIN site s ON s.id = k.site_id JOIN ticket t ON t.id = ${ticketId}
      LEFT JOIN app_user u ON u.id = coalesce(t.staff_id, k.staff_id) LEFT JOIN staff_photo p ON p.user_id = u.id
    WHERE k.id = ${counterId}
    FOR UPDATE OF k, t`.execute(trx);
  const found = rows[0];
  if (!found) return undefined;
  const { kId, kSiteId, kNumber, kName, kStatus, kStaffId, kPauseReason, kStatusChangedAt, kNormalStreak, kBookedStreak, kActive,
    siteTimezone, siteServiceOrder, sitePriorityRatio, siteTransferToFront, officialId, officialName, officialPhotoEtag, ...row } = found;
  return {
    counter: { id: kId, siteId: kSiteId, number: kNumber, name: kName, status: kStatus, staffId: kStaffId, pauseReason: kPauseReason,
      statusChangedAt: kStatusChangedAt, normalStreak: kNormalStreak, bookedStreak: kBookedStreak, active: kActive },
    site: { id: kSiteId, timezone: siteTimezone, serviceOrder: siteServiceOrder, priorityRatio: sitePriorityRatio, transferToFront: siteTransferToFront },
    row,
    official: officialOf(found),
  };
}

/** Updates a locked ticket and appends its history event in one round trip. */
export async function updateTicketRecorded(trx: Trx, ticketId: string, changes: TicketUpdate, event: NewTicketEvent): Promise<TicketRow> {
  return trx.with('recorded', (db) => db.insertInto('ticketEvent').values(event).returning('id'))
    .updateTable('ticket').set(changes).where('id', '=', ticketId).returningAll().executeTakeFirstOrThrow();
}

/** A move of a ticket at a counter, for `qms_move` (db/src/functions/qms_move.ts). */
export interface MoveAtCounter {
  ticketId: string;
  /** null: the counter the official works */
  counterId: string | null;
  staffId: string | null;
  deviceId: string | null;
  from: readonly TicketStatus[];
  to: TicketStatus;
  event: string;
  at: Date;
  started: boolean;
  finished: boolean;
}

/**
 * Start, finish or no-show in one round trip, in autocommit, when every check holds; undefined
 * when one does not (nothing changed: the engine's transaction then moves it or says why not).
 */
export async function moveAtCounter(db: Q, m: MoveAtCounter): Promise<{
  row: TicketRow; counter: Pick<CounterRow, 'id' | 'siteId'>; siteTimezone: string;
  official: Official | null;
} | undefined> {
  const { rows } = await sql<TicketRow & OfficialColumns & { kId: string; kSiteId: string; siteTimezone: string }>`
    SELECT (f.moved).*, f.k_id, f.k_site_id, f.site_timezone, f.official_id, f.official_name, f.official_photo_etag
    FROM qms_move(${m.ticketId}::uuid, ${m.counterId}::uuid, ${m.staffId}::uuid, ${m.deviceId}::uuid, ${[...m.from]}::text[], ${m.to}, ${m.event},
      ${m.at}::timestamptz, ${m.started}, ${m.finished}) f`.execute(db);
  const found = rows[0];
  if (!found) return undefined;
  const { kId, kSiteId, siteTimezone, officialId, officialName, officialPhotoEtag, ...row } = found;
  return {
    row, siteTimezone,
    counter: { id: kId, siteId: kSiteId },
    official: officialOf(found),
  };
}

export async function counterServiceIds(db: Q, counterId: string): Promise<string[]> {
  const rows = await db.selectFrom('counterService').select('serviceId')
    .where('counterId', '=', counterId).orderBy('position').execute();
  return rows.map((r) => r.serviceId);
}

export async function activeTicketAt(db: Q, counterId: string): Promise<TicketRow | undefined> {
  return db.selectFrom('ticket').selectAll()
    .where('counterId', '=', counterId).where('status', 'in', ['called', 'serving'])
    .orderBy('calledAt', 'desc').executeTakeFirst();
}

export interface CallNext {
  counterId: string;
  /** the official who pressed (must be the one working the counter), or null for a counter device */
  staffId: string | null;
  deviceId: string | null;
  at: Date;
  /** the sites the official is staff of (refused elsewhere: NOT_SITE_STAFF); null for an admin or a device */
  staffSiteIds: string[] | null;
}

/** What one call-next did: nothing waited (`called` absent), or the ticket called; with the counter and its site's zone. */
export interface CallNextOutcome {
  counter: Pick<CounterRow, 'id' | 'number' | 'name' | 'siteId'>;
  siteTimezone: string;
  called?: TicketRow;
}

/** A refusal raised by `qms_call_next` (SQLSTATE QMS01): its code and figures. */
export interface CallNextRefusal {
  code: 'COUNTER_NOT_FOUND' | 'NOT_SITE_STAFF' | 'COUNTER_NOT_OPEN' | 'COUNTER_PAUSED' | 'NOT_COUNTER_OFFICIAL' | 'COUNTER_BUSY';
  number?: number;
  ticketId?: string;
  ticketCode?: string;
}

const REFUSALS = new Set<string>(['COUNTER_NOT_FOUND', 'NOT_SITE_STAFF', 'COUNTER_NOT_OPEN', 'COUNTER_PAUSED', 'NOT_COUNTER_OFFICIAL', 'COUNTER_BUSY']);

export function callNextRefusal(error: unknown): CallNextRefusal | undefined {
  const e = error as { code?: string; message?: string; detail?: string } | undefined;
  if (e?.code !== 'QMS01' || !e.message || !REFUSALS.has(e.message)) return undefined;
  const detail = e.detail ? JSON.parse(e.detail) as { number?: number; ticketId?: string; code?: string } : {};
  return { code: e.message as CallNextRefusal['code'], number: detail.number, ticketId: detail.ticketId, ticketCode: detail.code };
}

/**
 * call-next in ONE round trip, run in autocommit (never inside a transaction of the caller):
 * the database function `qms_call_next` (db/src/functions/qms_call_next.ts) locks the counter,
 * checks it (the official's site, open, the official's, free: read after the lock), picks the
 * next eligible waiting ticket with SKIP LOCKED, marks it called, appends its `called` event and
 * counts the streak; a refusal rolls it all back and is raised as QMS01 (see callNextRefusal).
 * The counter's number and name and its site's zone come back with the ticket (they are for the
 * event). Returns undefined when there is no such counter.
 */
export async function callNext(db: Q, c: CallNext): Promise<CallNextOutcome | undefined> {
  const { rows } = await sql<TicketRow & { counterNumber: number; counterName: string; counterSiteId: string; siteTimezone: string }>`
    SELECT f.counter_number, f.counter_name, f.counter_site_id, f.site_timezone, (f.called).*
    FROM qms_call_next(${c.counterId}::uuid, ${c.staffId}::uuid, ${c.deviceId}::uuid, ${c.at}::timestamptz, ${c.staffSiteIds}::uuid[]) f`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { counterNumber, counterName, counterSiteId, siteTimezone, ...ticket } = row;
  const outcome: CallNextOutcome = { counter: { id: c.counterId, number: counterNumber, name: counterName, siteId: counterSiteId }, siteTimezone };
  if (ticket.id) outcome.called = ticket as TicketRow;
  return outcome;
}

type Queued = Pick<TicketRow, 'id' | 'serviceId' | 'priorityRank' | 'queuedAt' | 'issuedAt' | 'number' | 'bookingKind'>;

/**
 * The count of people call-next will take before a waiting ticket of its service: the order of
 * qms_call_next (db/src/functions), counted. Priority tickets by rank, then arrival; normal
 * tickets by arrival. Without a priority ratio every priority ticket goes first. With a ratio
 * r, a counter takes r normal tickets (those left of its current streak first), then one
 * priority ticket, and so on: a normal ticket with n normal ones before it has as many priority
 * ones before it as fall in its first n picks, and a priority ticket the normal ones of the
 * streaks before its turn. Of the counters serving the service, the one nearest to its
 * priority turn is counted (a counter that never called starts with a priority ticket).
 * server/test/queue/call-order.property.test.ts holds the two to each other. The count is the
 * database function qms_ticket_ahead (db/src/functions/qms_issue.ts), which qms_issue calls too.
 */
function aheadOf(ticket: Queued) {
  return sql<number>`SELECT qms_ticket_ahead(${ticket.serviceId}::uuid, ${ticket.id}::uuid, ${ticket.priorityRank}::int,
    ${ticket.queuedAt}::timestamptz, ${ticket.issuedAt}::timestamptz, ${ticket.number}::int)`;
}

/** Whether a booked ticket waits in the ticket's service (the ticket aside): then the booked streak can change the order. */
function bookedWaiting(ticket: Queued) {
  return sql<boolean>`${ticket.bookingKind === 'slot'} OR EXISTS (
    SELECT 1 FROM ticket t WHERE t.service_id = ${ticket.serviceId} AND t.status = 'waiting' AND t.booking_kind = 'slot' AND t.id <> ${ticket.id})`;
}

/**
 * With booked tickets waiting, the people ahead are counted by replaying call-next's order
 * (call-order.ts) over the service's waiting tickets, from the streaks of the counter serving it
 * that is nearest its priority turn and has called the most booked tickets in a row.
 */
async function replayedAhead(db: Q, ticket: Queued): Promise<number> {
  const [{ rows: waiting }, { rows: state }] = await Promise.all([
    sql<Waiting>`
      SELECT t.id, t.priority_rank AS "priorityRank", t.booking_kind AS "bookingKind", t.queued_at AS "queuedAt", t.issued_at AS "issuedAt", t.number
      FROM ticket t WHERE t.service_id = ${ticket.serviceId} AND t.status = 'waiting' AND t.id <> ${ticket.id}`.execute(db),
    sql<StreakState>`
      SELECT s.priority_ratio AS "priorityRatio", coalesce((s.settings->'bookings'->>'bookedInRow')::int, 2) AS "bookedInRow",
        (SELECT max(coalesce(k.normal_streak, s.priority_ratio)) FROM counter k JOIN counter_service cs ON cs.counter_id = k.id
          WHERE cs.service_id = v.id AND k.active) AS "normalStreak",
        coalesce((SELECT max(coalesce(k.booked_streak, 0)) FROM counter k JOIN counter_service cs ON cs.counter_id = k.id
          WHERE cs.service_id = v.id AND k.active), 0) AS "bookedStreak"
      FROM service v JOIN site s ON s.id = v.site_id WHERE v.id = ${ticket.serviceId}`.execute(db),
  ]);
  if (!state[0]) return 0;
  const self: Waiting = { id: ticket.id, priorityRank: ticket.priorityRank, bookingKind: ticket.bookingKind ?? null, queuedAt: new Date(ticket.queuedAt), issuedAt: new Date(ticket.issuedAt), number: ticket.number };
  return aheadInOrder([...waiting.map((w) => ({ ...w, queuedAt: new Date(w.queuedAt), issuedAt: new Date(w.issuedAt) })), self], ticket.id, state[0]);
}

/** People who will be called before a waiting ticket in its service (priority first, then arrival; booked tickets by their place). */
export async function positionOf(db: Q, ticket: Queued): Promise<number> {
  const { rows } = await sql<{ ahead: number; booked: boolean }>`SELECT (${aheadOf(ticket)}) AS ahead, (${bookedWaiting(ticket)}) AS booked`.execute(db);
  if (rows[0]?.booked) return replayedAhead(db, ticket);
  return rows[0]?.ahead ?? 0;
}

export interface ServiceLoad {
  serviceId: string;
  waiting: number;
  oldestQueuedAt: Date | null;
  /** counters open for it now, open or paused (an official is at the desk), and all counters configured for it */
  openCounters: number;
  servingCounters: number;
  counters: number;
  /** mean seconds from call to finish over its recent served tickets; null without history */
  recentServiceSeconds: number | null;
  targetWaitSeconds: number;
}

/** The loads of a site's services (or some of them): qms_service_load (db/src/functions/qms_issue.ts) for each. */
function loadsQuery(siteId: string, now: Date, serviceIds?: string[]) {
  const only = serviceIds?.length ? sql`AND s.id = ANY(${serviceIds}::uuid[])` : sql``;
  return sql<ServiceLoad>`
    SELECT s.id AS "serviceId", s.target_wait_seconds AS "targetWaitSeconds", l.waiting, l.oldest_queued_at AS "oldestQueuedAt",
      l.open_counters AS "openCounters", l.serving_counters AS "servingCounters", l.counters, l.recent_service_seconds AS "recentServiceSeconds"
    FROM service s CROSS JOIN LATERAL qms_service_load(s.id, ${now}::timestamptz) l
    WHERE s.site_id = ${siteId} AND s.active ${only}
    ORDER BY s.position, s.code`;
}

export async function serviceLoads(db: Q, siteId: string, now: Date, serviceIds?: string[]): Promise<ServiceLoad[]> {
  const { rows } = await loadsQuery(siteId, now, serviceIds).execute(db);
  return rows;
}

/**
 * For a ticket about to be issued (its number taken, not inserted yet): the people ahead of it
 * and its service's load, in one round trip. `waiting` and `oldestQueuedAt` do not count it.
 */
export async function aheadAndLoad(db: Q, ticket: Queued, siteId: string, now: Date): Promise<{ ahead: number; load: ServiceLoad } | undefined> {
  const { rows } = await sql<ServiceLoad & { ahead: number; booked: boolean }>`
    SELECT (${aheadOf(ticket)}) AS ahead, (${bookedWaiting(ticket)}) AS booked, l.* FROM (${loadsQuery(siteId, now, [ticket.serviceId])}) l`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { ahead, booked, ...load } = row;
  return { ahead: booked ? await replayedAhead(db, ticket) : ahead, load };
}

/** The days of the sites (all, or one) that still have live tickets: few rows (ticket_live_code_idx, which carries the day). */
export async function liveDays(db: Q, siteId?: string): Promise<{ siteId: string; localDate: string; timezone: string }[]> {
  const { rows } = await sql<{ siteId: string; localDate: string; timezone: string }>`
    SELECT d.site_id AS "siteId", d.local_date AS "localDate", s.timezone
    FROM (SELECT DISTINCT site_id, local_date FROM ticket
          WHERE status IN ('waiting', 'called', 'serving') ${siteId ? sql`AND site_id = ${siteId}` : sql``}) d
    JOIN site s ON s.id = d.site_id`.execute(db);
  return rows;
}

/** The calendars of these sites (timezones given), in two queries. */
export async function calendars(db: Q, timezones: Map<string, string>): Promise<Map<string, Calendar>> {
  const siteIds = [...timezones.keys()];
  const result = new Map<string, Calendar>(siteIds.map((id) => [id, { timezone: timezones.get(id)!, hours: [], holidays: [] }]));
  if (!siteIds.length) return result;
  const [hours, days] = await Promise.all([
    db.selectFrom('openingHours').select(['siteId', 'weekday', 'opens', 'closes']).where('siteId', 'in', siteIds).execute(),
    db.selectFrom('holiday').select(['siteId', 'date']).where('siteId', 'in', siteIds).execute(),
  ]);
  for (const { siteId, ...session } of hours) result.get(siteId)!.hours.push(session);
  for (const { siteId, date } of days) result.get(siteId)!.holidays.push(date);
  return result;
}

/**
 * Ends every live ticket of a site's local day (status `expired`, finishedAt `at`) and records
 * an `expired` event for each, actor the system, in one statement. Rows are locked and their
 * status checked again, so a ticket called or finished meanwhile is ended once or not at all.
 * The statuses are RULES.expire.from (ticket.lifecycle.ts), written out so that the partial
 * index ticket_live_code_idx (the site's live codes, with their day), whose predicate they are, is used.
 */
export async function expireDay(db: Q, siteId: string, localDate: string, at: Date): Promise<(TicketRow & { fromStatus: TicketStatus })[]> {
  const { rows } = await sql<TicketRow & { fromStatus: TicketStatus }>`
    WITH live AS (
      SELECT id, status FROM ticket
      WHERE site_id = ${siteId} AND local_date = ${localDate} AND status IN ('waiting', 'called', 'serving')
      FOR UPDATE
    ), ended AS (
      UPDATE ticket t SET status = 'expired', finished_at = ${at} FROM live
      WHERE t.id = live.id AND live.status IN ('waiting', 'called', 'serving')
      RETURNING t.*, live.status AS from_status
    ), recorded AS (
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, at, data)
      SELECT id, site_id, 'expired', from_status, 'expired', service_id, counter_id, ${at}, '{"reason":"day_end"}'::jsonb FROM ended
    )
    SELECT * FROM ended ORDER BY service_id, number`.execute(db);
  return rows;
}

export interface IssueTicket {
  id: string;
  publicId: string;
  siteId: string;
  serviceId: string;
  localDate: string;
  prefix: string;
  codeDigits: number;
  priority: string;
  priorityRank: number | null;
  lang: string;
  channel: string;
  deviceId: string | null;
  staffId: string | null;
  issueKey: string | null;
  /** the engine's clock, read before the call */
  at: Date;
  /** the end of the session: a later estimate is refused (SERVICE_CLOSING) */
  closesAt: Date | null;
  procedure: { code: string; name: { vi: string; en: string }; source: 'kiosk' | 'counter' } | null;
}

export type IssueOutcome =
  | { ticket: TicketRow; servingCounters: number }
  | { refused: 'SERVICE_CLOSING'; estimatedWaitSeconds: number }
  /** a booked ticket waits in the service: count the people ahead by replaying call-next's order */
  | { refused: 'REPLAY_AHEAD' };

/**
 * A walk-in issue in ONE round trip, run in autocommit (never inside a transaction of the
 * caller): the database function qms_issue (db/src/functions/qms_issue.ts) takes the number,
 * counts the people ahead and the load, estimates the wait with DEFAULT_SERVICE_SECONDS for a
 * service without history, checks the closing time and inserts the ticket, its event and its
 * procedure. Its refusals roll it all back, the number too.
 */
export async function issueTicket(db: Q, i: IssueTicket): Promise<IssueOutcome> {
  try {
    const { rows } = await sql<TicketRow & { servingCounters: number }>`
      SELECT (f.issued).*, f.serving_counters AS "servingCounters" FROM qms_issue(${i.id}::uuid, ${i.publicId}, ${i.siteId}::uuid, ${i.serviceId}::uuid,
        ${i.localDate}::date, ${i.prefix}, ${i.codeDigits}::int, ${i.priority}, ${i.priorityRank}::int, ${i.lang}, ${i.channel},
        ${i.deviceId}::uuid, ${i.staffId}::uuid, ${i.issueKey}, ${i.at}::timestamptz, ${i.closesAt}::timestamptz, ${DEFAULT_SERVICE_SECONDS}::float8,
        ${i.procedure?.code ?? null}, ${i.procedure ? JSON.stringify(i.procedure.name) : null}::jsonb, ${i.procedure?.source ?? null}) f`.execute(db);
    const { servingCounters, ...ticket } = rows[0]!;
    return { ticket: ticket as TicketRow, servingCounters };
  } catch (error) {
    const e = error as { code?: string; message?: string; detail?: string };
    if (e.code !== 'QMS01') throw error;
    if (e.message === 'REPLAY_AHEAD') return { refused: 'REPLAY_AHEAD' };
    if (e.message === 'SERVICE_CLOSING') return { refused: 'SERVICE_CLOSING', ...JSON.parse(e.detail!) as { estimatedWaitSeconds: number } };
    throw error;
  }
}

/** Inserts a ticket and its first history event, in one round trip (the event's insert runs in a CTE). */
export async function insertTicketRecorded(trx: Trx, ticket: NewTicket, event: NewTicketEvent): Promise<TicketRow> {
  return trx.with('recorded', (db) => db.insertInto('ticketEvent').values(event).returning('id'))
    .insertInto('ticket').values(ticket).returningAll().executeTakeFirstOrThrow();
}

/** The ticket an issuer's key made at the site, if any (one index lookup: ticket_issue_key_idx). */
export async function ticketOfIssueKey(db: Kysely<Database>, siteId: string, issuerId: string | null, key: string): Promise<TicketRow | undefined> {
  if (!issuerId) return undefined;
  return db.selectFrom('ticket').selectAll()
    .where('siteId', '=', siteId)
    .where(sql<string>`COALESCE(device_id, staff_id)`, '=', issuerId)
    .where('issueKey', '=', key)
    .executeTakeFirst();
}
