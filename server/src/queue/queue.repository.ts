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

/**
 * The ticket this counter should call, locked; tickets another counter is locking right now
 * are skipped (SKIP LOCKED), so two counters never get the same one and neither waits.
 */
export async function pickNext(
  trx: Trx, counterId: string, options: { strict: boolean; prefer: PriorityPreference },
): Promise<TicketRow | undefined> {
  const priorityOrder = options.prefer === 'priority_first'
    ? sql`t.priority_rank IS NULL, t.priority_rank`
    : sql`t.priority_rank IS NOT NULL, t.priority_rank`;
  const serviceOrder = options.strict ? sql`cs.position,` : sql``;
  const { rows } = await sql<{ id: string }>`
    SELECT t.id FROM ticket t
    JOIN counter_service cs ON cs.service_id = t.service_id AND cs.counter_id = ${counterId}
    WHERE t.status = 'waiting'
    ORDER BY ${serviceOrder} ${priorityOrder}, t.queued_at, t.issued_at, t.number, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED`.execute(trx);
  const id = rows[0]?.id;
  return id ? trx.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
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
}

const RECENT_SERVED = 20;

export async function serviceLoads(db: Q, siteId: string, now: Date, serviceIds?: string[]): Promise<ServiceLoad[]> {
  const only = serviceIds?.length ? sql`AND s.id = ANY(${serviceIds}::uuid[])` : sql``;
  const { rows } = await sql<ServiceLoad>`
    SELECT s.id AS "serviceId",
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
