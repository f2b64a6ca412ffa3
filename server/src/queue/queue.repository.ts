import { sql, type Kysely, type Transaction } from 'kysely';
import type { CounterRow, Database, NewTicketEvent, SiteRow, TicketRow, TicketUpdate } from '@qms/db';
import type { Calendar } from './site.calendar.ts';

// Every query of the queue engine. Queries that lock rows take a Transaction, so the
// compiler refuses to run them outside one.

type Q = Kysely<Database>;
type Trx = Transaction<Database>;

export async function findSite(db: Q, siteId: string): Promise<SiteRow | undefined> {
  return db.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
}

export async function loadCalendar(db: Q, site: SiteRow): Promise<Calendar> {
  const [hours, holidays] = await Promise.all([
    db.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', site.id).execute(),
    db.selectFrom('holiday').select('date').where('siteId', '=', site.id).execute(),
  ]);
  return { timezone: site.timezone, hours, holidays: holidays.map((h) => h.date) };
}

export async function findService(db: Q, serviceId: string) {
  return db.selectFrom('service').selectAll().where('id', '=', serviceId).executeTakeFirst();
}

export async function findPriorityGroup(db: Q, siteId: string, code: string) {
  return db.selectFrom('priorityGroup').selectAll()
    .where('siteId', '=', siteId).where('code', '=', code).where('active', '=', true)
    .executeTakeFirst();
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

export async function updateTicket(trx: Trx, ticketId: string, changes: TicketUpdate): Promise<TicketRow> {
  return trx.updateTable('ticket').set(changes).where('id', '=', ticketId).returningAll().executeTakeFirstOrThrow();
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

/** Updates a locked ticket and appends its history event in one round trip. */
export async function updateTicketRecorded(trx: Trx, ticketId: string, changes: TicketUpdate, event: NewTicketEvent): Promise<TicketRow> {
  return trx.with('recorded', (db) => db.insertInto('ticketEvent').values(event).returning('id'))
    .updateTable('ticket').set(changes).where('id', '=', ticketId).returningAll().executeTakeFirstOrThrow();
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

export type PriorityPreference = 'priority_first' | 'normal_first';

const pickOrder = (strict: boolean, prefer: PriorityPreference) => sql`${strict ? sql`cs.position,` : sql``} ${prefer === 'priority_first'
  ? sql`t.priority_rank IS NULL, t.priority_rank`
  : sql`t.priority_rank IS NOT NULL, t.priority_rank`}, t.queued_at, t.issued_at, t.number, t.id`;

export interface CallNextAt {
  counterId: string;
  strict: boolean;
  prefer: PriorityPreference;
  /** the official the ticket goes to (the actor, or whoever works the counter) */
  staffId: string | null;
  /** who pressed the button, for the history */
  by: { staffId: string | null; deviceId: string | null };
  at: Date;
}

/**
 * call-next in one statement, to be run with the counter locked (lockCounterAtSite) so that
 * its snapshot is taken after the lock: the ticket still at the counter, if any (then nothing
 * changes); else the next eligible waiting ticket, picked with SKIP LOCKED (two counters never
 * get the same one and neither waits), marked called, its `called` event appended and the
 * counter's streak of normal tickets counted.
 */
export async function callNextAt(trx: Trx, c: CallNextAt): Promise<{ busy?: { id: string; code: string }; called?: TicketRow }> {
  const { rows } = await sql<TicketRow & { busyId: string | null; busyCode: string | null }>`
    WITH busy AS (
      SELECT a.id, a.code FROM ticket a
      WHERE a.counter_id = ${c.counterId} AND a.status IN ('called', 'serving')
      ORDER BY a.called_at DESC LIMIT 1
    ), picked AS (
      SELECT t.id FROM ticket t
      JOIN counter_service cs ON cs.service_id = t.service_id AND cs.counter_id = ${c.counterId}
      WHERE t.status = 'waiting' AND NOT EXISTS (SELECT 1 FROM busy)
      ORDER BY ${pickOrder(c.strict, c.prefer)}
      LIMIT 1
      FOR UPDATE OF t SKIP LOCKED
    ), called AS (
      UPDATE ticket SET status = 'called', counter_id = ${c.counterId}, staff_id = ${c.staffId}::uuid, called_at = ${c.at}
      FROM picked WHERE ticket.id = picked.id
      RETURNING ticket.*
    ), recorded AS (
      INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, staff_id, device_id, at)
      SELECT called.id, called.site_id, 'called', 'waiting', 'called', called.service_id, ${c.counterId}::uuid,
        ${c.by.staffId}::uuid, ${c.by.deviceId}::uuid, ${c.at}::timestamptz
      FROM called
      RETURNING id
    ), streak AS (
      UPDATE counter SET normal_streak = CASE WHEN called.priority_rank IS NULL THEN coalesce(counter.normal_streak, 0) + 1 ELSE 0 END
      FROM called WHERE counter.id = ${c.counterId}
      RETURNING counter.id
    )
    SELECT called.*, busy.id AS busy_id, busy.code AS busy_code
    FROM (SELECT 1) AS one LEFT JOIN called ON true LEFT JOIN busy ON true`.execute(trx);
  const { busyId, busyCode, ...ticket } = rows[0]!;
  if (busyId) return { busy: { id: busyId, code: busyCode! } };
  return ticket.id ? { called: ticket as TicketRow } : {};
}

/** People who will be called before a waiting ticket in its service (priority first, then arrival). */
export async function positionOf(db: Q, ticket: Pick<TicketRow, 'id' | 'serviceId' | 'priorityRank' | 'queuedAt' | 'issuedAt' | 'number'>): Promise<number> {
  const rank = ticket.priorityRank;
  const { rows } = await sql<{ ahead: number }>`
    SELECT count(*)::int AS ahead FROM ticket t
    WHERE t.service_id = ${ticket.serviceId} AND t.status = 'waiting' AND t.id <> ${ticket.id}
      AND (
        ${rank === null
          ? sql`t.priority_rank IS NOT NULL OR (t.queued_at, t.issued_at, t.number) < (${ticket.queuedAt}, ${ticket.issuedAt}, ${ticket.number})`
          : sql`t.priority_rank < ${rank} OR (t.priority_rank = ${rank} AND (t.queued_at, t.issued_at, t.number) < (${ticket.queuedAt}, ${ticket.issuedAt}, ${ticket.number}))`}
      )`.execute(db);
  return rows[0]?.ahead ?? 0;
}

export interface ServiceLoad {
  serviceId: string;
  waiting: number;
  oldestQueuedAt: Date | null;
  /** counters open for it now, and all counters configured for it */
  openCounters: number;
  counters: number;
  /** mean seconds from call to finish over its recent served tickets; null without history */
  recentServiceSeconds: number | null;
  targetWaitSeconds: number;
}

const RECENT_SERVED = 20;

export async function serviceLoads(db: Q, siteId: string, now: Date, serviceIds?: string[]): Promise<ServiceLoad[]> {
  const only = serviceIds?.length ? sql`AND s.id = ANY(${serviceIds}::uuid[])` : sql``;
  const { rows } = await sql<ServiceLoad>`
    SELECT s.id AS "serviceId", s.target_wait_seconds AS "targetWaitSeconds",
      (SELECT count(*)::int FROM ticket t WHERE t.service_id = s.id AND t.status = 'waiting') AS waiting,
      (SELECT min(t.queued_at) FROM ticket t WHERE t.service_id = s.id AND t.status = 'waiting') AS "oldestQueuedAt",
      (SELECT count(*)::int FROM counter_service cs JOIN counter c ON c.id = cs.counter_id
        WHERE cs.service_id = s.id AND c.active AND c.status = 'open') AS "openCounters",
      (SELECT count(*)::int FROM counter_service cs JOIN counter c ON c.id = cs.counter_id
        WHERE cs.service_id = s.id AND c.active) AS counters,
      (SELECT avg(extract(epoch FROM r.finished_at - r.called_at))::float8 FROM (
        SELECT t.finished_at, t.called_at FROM ticket t
        WHERE t.service_id = s.id AND t.status = 'done' AND t.finished_at > ${now}::timestamptz - interval '14 days' AND t.finished_at <= ${now}
        ORDER BY t.finished_at DESC LIMIT ${RECENT_SERVED}) r) AS "recentServiceSeconds"
    FROM service s
    WHERE s.site_id = ${siteId} AND s.active ${only}
    ORDER BY s.position, s.code`.execute(db);
  return rows;
}
