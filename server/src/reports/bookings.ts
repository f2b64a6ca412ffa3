import { sql, type Kysely } from 'kysely';
import type { Database } from '@qms/db';
import type { BookingKindFigures, BookingReport } from '@qms/protocol';
import { localDate, localParts, zonedInstant } from '@qms/protocol/calendar';
import { notFound, QueueError } from '../queue/queue.errors.ts';

// Appointments and remote tickets in the reports, for one site and a range [from, to).
// README.md in this folder has the definitions; in short:
// - tickets by kind (walk-in: booking_kind NULL, booked: 'slot', remote) by issued_at, their
//   wait = first call − issue;
// - slot bookings by slot_at, once confirmed (unconfirmed never count): checked in on time or
//   late, missed, cancelled; no-show rate = missed / (checked in + missed);
// - remote tickets by slot_at (when taken), apart: checked in, lapsed;
// - punctuality of booked tickets by slot_at: late = max(0, first call − slot), on time when
//   late ≤ X minutes (a ticket called before its slot is on time, late 0);
// - slot use per field and local hour: bookings holding a place against the current capacities
//   of the blocks falling in the range, holidays excluded.

export interface BookingReportQuery {
  siteId: string;
  from: Date;
  to: Date;
  /** X of the punctuality, minutes (default 10) */
  withinMinutes: number;
}

export type BookingReportFigures = Omit<BookingReport, 'from' | 'to'>;

const KIND_OF = { walk_in: sql`t.booking_kind IS NULL`, booked: sql`t.booking_kind = 'slot'`, remote: sql`t.booking_kind = 'remote'` } as const;
/** A booking counts once it was confirmed: an unconfirmed one, or one cancelled before confirmation, never does. */
const CONFIRMED = sql`(b.status IN ('confirmed', 'checked_in', 'missed', 'lapsed') OR (b.status = 'cancelled' AND b.confirmed_at IS NOT NULL))`;
/** The first call of ticket `t` (a transfer's later calls are not its wait). */
const FIRST_CALL = sql`(SELECT min(e.at) FROM ticket_event e WHERE e.ticket_id = t.id AND e.type = 'called')`;
// Waits and delays are numeric seconds (extract's), so their averages are exact and the same
// whatever order the rows are read in (a float8 sum's last digits follow the order).

const num = (v: unknown) => Number(v ?? 0);
const nullable = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const ratio = (a: number, b: number) => (b ? a / b : null);

export async function bookingReport(db: Kysely<Database>, q: BookingReportQuery): Promise<BookingReportFigures> {
  if (!(q.from.getTime() < q.to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  const site = await db.selectFrom('site').select(['id', 'timezone']).where('id', '=', q.siteId).executeTakeFirst();
  if (!site) throw notFound('site', q.siteId);
  const { from, to, siteId } = q;
  const within = q.withinMinutes * 60;

  const kinds: BookingKindFigures[] = [];
  for (const [kind, where] of Object.entries(KIND_OF) as [BookingKindFigures['kind'], (typeof KIND_OF)[keyof typeof KIND_OF]][]) {
    const { rows: [r] } = await sql<Record<string, unknown>>`
      SELECT count(*) AS issued, count(*) FILTER (WHERE x.status = 'done') AS served, count(x.wait) AS waits,
        avg(x.wait)::float8 AS "waitAvg", percentile_cont(0.9) WITHIN GROUP (ORDER BY x.wait::float8) AS "waitP90"
      FROM (SELECT t.status, extract(epoch FROM (${FIRST_CALL} - t.issued_at)) AS wait
            FROM ticket t WHERE t.site_id = ${siteId} AND t.issued_at >= ${from} AND t.issued_at < ${to} AND ${where}) x`.execute(db);
    kinds.push({
      kind, issued: num(r!.issued), served: num(r!.served), waits: num(r!.waits), waitAvgSeconds: nullable(r!.waitAvg), waitP90Seconds: nullable(r!.waitP90),
    });
  }

  const { rows: [b] } = await sql<Record<string, unknown>>`
    SELECT
      count(*) FILTER (WHERE b.kind = 'slot') AS confirmed,
      count(*) FILTER (WHERE b.kind = 'slot' AND b.status = 'confirmed') AS pending,
      count(*) FILTER (WHERE b.kind = 'slot' AND b.status = 'checked_in') AS "checkedIn",
      count(*) FILTER (WHERE b.kind = 'slot' AND b.status = 'checked_in' AND b.checked_in_late) AS "checkedInLate",
      count(*) FILTER (WHERE b.kind = 'slot' AND b.status = 'missed') AS missed,
      count(*) FILTER (WHERE b.kind = 'slot' AND b.status = 'cancelled') AS cancelled,
      count(*) FILTER (WHERE b.kind = 'remote') AS taken,
      count(*) FILTER (WHERE b.kind = 'remote' AND b.status = 'confirmed') AS "remotePending",
      count(*) FILTER (WHERE b.kind = 'remote' AND b.status = 'checked_in') AS "remoteCheckedIn",
      count(*) FILTER (WHERE b.kind = 'remote' AND b.status = 'lapsed') AS lapsed,
      count(*) FILTER (WHERE b.kind = 'remote' AND b.status = 'cancelled') AS "remoteCancelled"
    FROM booking b
    WHERE b.site_id = ${siteId} AND b.slot_at >= ${from} AND b.slot_at < ${to} AND ${CONFIRMED}`.execute(db);
  const checkedIn = num(b!.checkedIn);
  const missed = num(b!.missed);
  const remoteCheckedIn = num(b!.remoteCheckedIn);
  const lapsed = num(b!.lapsed);

  const { rows: [p] } = await sql<Record<string, unknown>>`
    SELECT count(*) AS booked, count(x.late) AS called,
      count(*) FILTER (WHERE x.late <= ${within}) AS "onTime", count(*) FILTER (WHERE x.delta < 0) AS early,
      avg(x.late)::float8 AS "lateAvg", percentile_cont(0.9) WITHIN GROUP (ORDER BY x.late::float8) AS "lateP90"
    FROM (SELECT d.delta, CASE WHEN d.delta IS NULL THEN NULL ELSE greatest(d.delta, 0) END AS late FROM (
            SELECT extract(epoch FROM (${FIRST_CALL} - t.slot_at)) AS delta
            FROM ticket t WHERE t.site_id = ${siteId} AND t.booking_kind = 'slot' AND t.slot_at >= ${from} AND t.slot_at < ${to}) d) x`.execute(db);
  const called = num(p!.called);

  return {
    kinds,
    slots: {
      confirmed: num(b!.confirmed), pending: num(b!.pending), checkedIn, checkedInOnTime: checkedIn - num(b!.checkedInLate), checkedInLate: num(b!.checkedInLate),
      missed, cancelled: num(b!.cancelled), noShowRate: ratio(missed, checkedIn + missed),
    },
    remote: {
      taken: num(b!.taken), pending: num(b!.remotePending), checkedIn: remoteCheckedIn, lapsed, cancelled: num(b!.remoteCancelled),
      lapseRate: ratio(lapsed, remoteCheckedIn + lapsed),
    },
    punctuality: {
      withinMinutes: q.withinMinutes, booked: num(p!.booked), called, notCalled: num(p!.booked) - called, onTime: num(p!.onTime),
      calledEarly: num(p!.early), onTimeShare: ratio(num(p!.onTime), called), lateAvgSeconds: nullable(p!.lateAvg), lateP90Seconds: nullable(p!.lateP90),
    },
    slotUse: await slotUse(db, q, site.timezone),
  };
}

/** Booked against capacity per field and local hour (see README.md). */
async function slotUse(db: Kysely<Database>, q: BookingReportQuery, zone: string): Promise<BookingReportFigures['slotUse']> {
  const [services, blocks, holidays, booked] = await Promise.all([
    db.selectFrom('service').select(['id', 'name']).where('siteId', '=', q.siteId).orderBy('position').orderBy('code').execute(),
    db.selectFrom('bookingCapacity').select(['serviceId', 'weekday', 'starts', 'capacity']).where('siteId', '=', q.siteId).execute(),
    db.selectFrom('holiday').select('date').where('siteId', '=', q.siteId).execute(),
    sql<{ serviceId: string; hour: number; booked: string }>`
      SELECT b.service_id AS "serviceId", extract(hour FROM b.slot_at AT TIME ZONE ${zone})::int AS hour, count(*) AS booked
      FROM booking b
      WHERE b.site_id = ${q.siteId} AND b.kind = 'slot' AND b.status IN ('confirmed', 'checked_in', 'missed')
        AND b.slot_at >= ${q.from} AND b.slot_at < ${q.to}
      GROUP BY 1, 2`.execute(db),
  ]);
  const closed = new Set(holidays.map((h) => String(h.date).slice(0, 10)));
  const cells = new Map<string, { booked: number; capacity: number }>();
  const cell = (serviceId: string, hour: number) => {
    const key = `${serviceId} ${hour}`;
    if (!cells.has(key)) cells.set(key, { booked: 0, capacity: 0 });
    return cells.get(key)!;
  };
  for (const r of booked.rows) cell(r.serviceId, r.hour).booked += num(r.booked);
  if (blocks.length) {
    // every local day the range touches; a block counts when its start instant is in the range
    const last = localDate(new Date(q.to.getTime() - 1), zone);
    for (let day = localDate(q.from, zone); day <= last; day = nextDay(day)) {
      if (closed.has(day)) continue;
      // ISO weekday, as booking_capacity (7 = Sunday)
      const weekday = new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
      for (const b of blocks) {
        if (b.weekday !== weekday) continue;
        const start = zonedInstant(day, b.starts.slice(0, 5), zone);
        if (start < q.from || start >= q.to) continue;
        cell(b.serviceId, Math.floor(localParts(start, zone).seconds / 3600)).capacity += b.capacity;
      }
    }
  }
  const order = new Map(services.map((s, i) => [s.id, i]));
  return [...cells.entries()]
    .map(([key, c]) => {
      const [serviceId, hour] = key.split(' ') as [string, string];
      const service = services.find((s) => s.id === serviceId);
      return { serviceId, label: service?.name.vi ?? serviceId, hour: Number(hour), booked: c.booked, capacity: c.capacity, useShare: ratio(c.booked, c.capacity) };
    })
    .sort((a, b) => (order.get(a.serviceId) ?? 1e9) - (order.get(b.serviceId) ?? 1e9) || a.hour - b.hour);
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
