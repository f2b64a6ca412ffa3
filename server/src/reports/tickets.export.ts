import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '@qms/db';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import { isoInZone } from '../queue/time.ts';
import { csvLine, type CsvValue } from './csv.ts';
import { callStaffId, secondsBetween } from './report.sql.ts';

// Every ticket issued in a range, one CSV record each, read in batches by keyset pagination on
// (issued_at, id) per site: the pool has no pg-cursor (Kysely's .stream() needs it), and a
// keyset walk holds no connection or transaction between batches, so a slow download never
// pins a connection. Memory stays at one batch whatever the range.
// Consequence: a ticket changing while the file is written shows its state at the moment its
// batch was read (its place in the order, by issue time, never changes).

export interface TicketsExportQuery {
  /** null: every site (admins), one after the other, by site code */
  siteId: string | null;
  /** with siteId null: only these sites (a manager's) */
  siteIds?: string[];
  from: Date;
  to: Date;
}

export interface TicketsExportOptions {
  /** tickets per query; default 1000 */
  batchSize?: number;
}

export const TICKETS_CSV_COLUMNS = [
  'site_code',
  'code',
  'service_code',
  'service_name',
  'priority',
  'status',
  'issued_at',
  'first_called_at',
  'called_at',
  'started_at',
  'finished_at',
  'counter_number',
  'staff_name',
  'transfers',
  'wait_seconds',
  'service_seconds',
  'estimated_wait_seconds',
  'rating',
  // added with issue 15: where the ticket's first stint was, and every stint (README.md)
  'first_service_code',
  'first_counter_number',
  'first_staff_name',
  'stints',
  'channel',
] as const;

interface ExportRow {
  id: string;
  issuedAt: Date;
  code: string;
  serviceCode: string;
  serviceName: string | null;
  priority: string;
  status: string;
  firstCalledAt: Date | null;
  calledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  counterNumber: number | null;
  staffName: string | null;
  transfers: number;
  waitSeconds: number | null;
  serviceSeconds: number | null;
  estimatedWaitSeconds: number | null;
  rating: number | null;
  firstStaffName: string | null;
  /** per stint of a transferred ticket, in order: the service it waited in, the counter of its
   * call, its wait; null for a ticket never transferred (its one stint is the row's) */
  stintServiceIds: string[] | null;
  stintCounterIds: (string | null)[] | null;
  stintWaits: (number | null)[] | null;
  channel: string;
}

/** The site's service codes and counter numbers, by id: the stints name them. */
interface SiteNames {
  serviceCode: Map<string, string>;
  counterNumber: Map<string, number>;
}

/**
 * CSV records (CRLF-terminated strings, header first, UTF-8 text; the caller adds a BOM for
 * Excel) of every ticket issued in [from, to). Column meanings:
 * - service_*: the ticket's final service; counter_number, staff_name: where its final call happened
 * - first_called_at: first call ever (ends the first stint); called_at: the final call
 * - wait_seconds: the first stint (first_called_at − issued_at); service_seconds: finished_at −
 *   called_at for done tickets; timestamps ISO-8601 with the site's offset and milliseconds.
 * - first_service_code, first_counter_number, first_staff_name: the first stint (where the
 *   ticket was issued, who called it first); stints: every stint in order as
 *   `service_code:counter_number:wait_seconds`, joined by `;` (counter and wait empty when the
 *   stint was never called), e.g. `HT:1:300;CT:3:240`.
 * - channel (where it was issued: kiosk, staff); status, priority and channel are codes, never labels.
 * One record per ticket, transferred or not: the records are the tickets issued.
 * Validation errors (bad range, unknown site) are thrown by the first `next()`, before any record.
 */
export async function* streamTicketsCsv(
  db: Kysely<Database>, q: TicketsExportQuery, options: TicketsExportOptions = {},
): AsyncGenerator<string, void, undefined> {
  const records = ticketRecords(db, q, options);
  // validation errors surface before the header
  const first = await records.next();
  yield csvLine(TICKETS_CSV_COLUMNS);
  if (first.done) return;
  yield csvLine(first.value);
  for await (const r of records) yield csvLine(r);
}

/** Records an export formats between two turns of the event loop (a few milliseconds' work). */
const TURN = 100;

/**
 * The records of the CSV export as values, one per ticket, in the order of
 * TICKETS_CSV_COLUMNS (no header): what the XLSX export writes too. Timestamps are ISO strings
 * with the site's offset, seconds are decimal strings, counts and ratings are numbers.
 */
export async function* ticketRecords(
  db: Kysely<Database>, q: TicketsExportQuery, options: TicketsExportOptions = {},
): AsyncGenerator<CsvValue[], void, undefined> {
  if (!(q.from.getTime() < q.to.getTime())) {
    throw new QueueError('INVALID_RANGE', 'The export range must end after it starts', 400);
  }
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
  let sites = db.selectFrom('site').select(['id', 'code', 'timezone']).orderBy('code');
  if (q.siteId !== null) sites = sites.where('id', '=', q.siteId);
  else if (q.siteIds) sites = sites.where('id', 'in', q.siteIds.length ? q.siteIds : ['00000000-0000-0000-0000-000000000000']);
  const siteRows = await sites.execute();
  if (q.siteId !== null && siteRows.length === 0) throw notFound('site', q.siteId);

  for (const site of siteRows) {
    const time = zonedIso(site.timezone);
    const names = await siteNames(db, site.id);
    let after: { issuedAt: Date; id: string } | null = null;
    for (;;) {
      const rows: ExportRow[] = await batch(db, site.id, q, after, batchSize);
      for (let i = 0; i < rows.length; i++) {
        // a turn of the event loop every TURN records: a page's records and their formatting
        // (CSV, XLSX) otherwise run as one chain of promises, and calls wait behind it
        if (i > 0 && i % TURN === 0) await new Promise((resolve) => setImmediate(resolve));
        yield record(rows[i]!, site.code, time, names);
      }
      if (rows.length < batchSize) break;
      const last = rows[rows.length - 1]!;
      after = { issuedAt: last.issuedAt, id: last.id };
    }
  }
}

/** How many records the export of `q` will have (tickets issued in the range), for progress bars. */
export async function countTickets(db: Kysely<Database>, q: TicketsExportQuery): Promise<number> {
  let query = db.selectFrom('ticket').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('issuedAt', '>=', q.from).where('issuedAt', '<', q.to);
  if (q.siteId !== null) query = query.where('siteId', '=', q.siteId);
  else if (q.siteIds) query = query.where('siteId', 'in', q.siteIds.length ? q.siteIds : ['00000000-0000-0000-0000-000000000000']);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

async function siteNames(db: Kysely<Database>, siteId: string): Promise<SiteNames> {
  const services = await db.selectFrom('service').select(['id', 'code']).where('siteId', '=', siteId).execute();
  const counters = await db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', siteId).execute();
  return {
    serviceCode: new Map(services.map((s) => [s.id, s.code])),
    counterNumber: new Map(counters.map((c) => [c.id, c.number])),
  };
}

async function batch(
  db: Kysely<Database>, siteId: string, q: TicketsExportQuery, after: { issuedAt: Date; id: string } | null, limit: number,
): Promise<ExportRow[]> {
  const { rows } = await batchStatement(siteId, q, after, limit).execute(db);
  return rows;
}

/** One page of the export (exported to EXPLAIN it). The page is chosen first, on the
 * (site_id, issued_at) index, so the per-ticket lookups run for its rows only. */
export function batchStatement(
  siteId: string, q: TicketsExportQuery, after: { issuedAt: Date; id: string } | null, limit: number,
): RawBuilder<ExportRow> {
  return sql<ExportRow>`
    WITH page AS (
      SELECT t.id, t.issued_at, t.code, t.service_id, t.priority, t.status, t.started_at, t.finished_at,
        t.transfer_count, t.estimated_wait_seconds, t.channel
      FROM ticket t
      WHERE t.site_id = ${siteId}
        AND t.issued_at >= ${after ? after.issuedAt : q.from} AND t.issued_at < ${q.to}
        ${after ? sql`AND (t.issued_at, t.id) > (${after.issuedAt}, ${after.id}::uuid)` : sql``}
      ORDER BY t.issued_at, t.id
      LIMIT ${limit}
    )
    SELECT t.id AS "id", t.issued_at AS "issuedAt", t.code AS "code",
      sv.code AS "serviceCode", sv.name->>'vi' AS "serviceName", t.priority AS "priority", t.status AS "status",
      calls.first_at AS "firstCalledAt", lc.at AS "calledAt", t.started_at AS "startedAt", t.finished_at AS "finishedAt",
      c.number AS "counterNumber", u.display_name AS "staffName", t.transfer_count AS "transfers",
      ${secondsBetween(sql`t.issued_at`, sql`calls.first_at`)} AS "waitSeconds",
      CASE WHEN t.status = 'done' THEN ${secondsBetween(sql`lc.at`, sql`t.finished_at`)} END AS "serviceSeconds",
      t.estimated_wait_seconds AS "estimatedWaitSeconds", r.score AS "rating",
      CASE WHEN calls.first_id = calls.last_id THEN u.display_name ELSE fu.display_name END AS "firstStaffName",
      st.services AS "stintServiceIds", st.counters AS "stintCounterIds", st.waits AS "stintWaits",
      t.channel AS "channel"
    FROM page t
    JOIN service sv ON sv.id = t.service_id
    -- the first call (end of the first stint) and the final one, in one pass over the ticket's calls
    LEFT JOIN LATERAL (
      SELECT (array_agg(e.at ORDER BY e.id))[1] AS first_at, min(e.id) AS first_id, max(e.id) AS last_id
      FROM ticket_event e WHERE e.ticket_id = t.id AND e.type = 'called'
    ) calls ON true
    LEFT JOIN LATERAL (
      SELECT e.at, e.counter_id, ${callStaffId('e')} AS staff_id FROM ticket_event e WHERE e.id = calls.last_id
    ) lc ON true
    LEFT JOIN counter c ON c.id = lc.counter_id
    LEFT JOIN app_user u ON u.id = lc.staff_id
    LEFT JOIN rating r ON r.ticket_id = t.id
    -- What only a transfer needs comes last: with more than join_collapse_limit (8) joins the
    -- planner keeps their written order, and the joins above keep the plan they had alone.
    -- The stints of a transferred ticket (an 'issued' or 'transferred' event, then the 'called'
    -- one that ends it): its service, counter and wait each. The others (19 in 20) have one
    -- stint, known from the row: the condition on transfer_count skips the walk for them.
    LEFT JOIN LATERAL (
      SELECT array_agg(s.service_id ORDER BY s.id) AS services,
        array_agg(s.call_counter_id ORDER BY s.id) AS counters,
        array_agg(${secondsBetween(sql`s.at`, sql`s.call_at`)} ORDER BY s.id) AS waits
      FROM (
        SELECT e.id, e.type, e.service_id, e.at,
          CASE WHEN lead(e.type) OVER w = 'called' THEN lead(e.at) OVER w END AS call_at,
          CASE WHEN lead(e.type) OVER w = 'called' THEN lead(e.counter_id) OVER w END AS call_counter_id
        FROM ticket_event e
        WHERE e.ticket_id = t.id AND e.type IN ('issued', 'transferred', 'called')
        WINDOW w AS (ORDER BY e.id)
      ) s
      WHERE s.type IN ('issued', 'transferred') AND t.transfer_count > 0
    ) st ON true
    -- the official of the first call when it is not the final one (a transfer); a NULL key, for
    -- every other ticket, ends the index scan before it starts
    LEFT JOIN LATERAL (
      SELECT ${callStaffId('e')} AS staff_id FROM ticket_event e
      WHERE e.id = CASE WHEN calls.first_id <> calls.last_id THEN calls.first_id END
    ) fc ON true
    LEFT JOIN app_user fu ON fu.id = fc.staff_id
    ORDER BY t.issued_at, t.id`;
}

function record(r: ExportRow, siteCode: string, time: (d: Date | null) => string | null, names: SiteNames): CsvValue[] {
  const counterNumber = (id: string | null) => (id === null ? null : names.counterNumber.get(id) ?? null);
  const stint = (service: string | null, counter: number | null, wait: number | null) =>
    `${service ?? ''}:${counter ?? ''}:${secondsText(wait) ?? ''}`;
  const first = r.stintServiceIds?.length
    ? { service: names.serviceCode.get(r.stintServiceIds[0]!) ?? null, counter: counterNumber(r.stintCounterIds![0] ?? null) }
    : { service: r.serviceCode, counter: r.counterNumber };
  const stints = r.stintServiceIds?.length
    ? r.stintServiceIds.map((id, i) => stint(names.serviceCode.get(id) ?? null, counterNumber(r.stintCounterIds![i] ?? null), r.stintWaits![i] ?? null)).join(';')
    : stint(r.serviceCode, r.counterNumber, r.waitSeconds);
  return [
    siteCode,
    r.code,
    r.serviceCode,
    r.serviceName,
    r.priority,
    r.status,
    time(r.issuedAt),
    time(r.firstCalledAt),
    time(r.calledAt),
    time(r.startedAt),
    time(r.finishedAt),
    r.counterNumber,
    r.staffName,
    r.transfers,
    secondsText(r.waitSeconds),
    secondsText(r.serviceSeconds),
    secondsText(r.estimatedWaitSeconds),
    r.rating,
    first.service,
    first.counter,
    r.firstStaffName,
    stints,
    r.channel,
  ];
}

const BUCKET_MS = 15 * 60_000;

/**
 * isoInZone for many instants of one zone: Intl formatting costs microseconds, five times per
 * ticket, so the zone's offset is worked out once per quarter hour and reused. A quarter hour
 * whose two ends disagree holds a change of offset: its instants are formatted one by one.
 */
export function zonedIso(timezone: string): (instant: Date | null) => string | null {
  const offsets = new Map<number, string | null>();
  const offsetOf = (ms: number) => isoInZone(new Date(ms), timezone).slice(23);
  return (instant) => {
    if (!instant) return null;
    const ms = new Date(instant).getTime();
    const bucket = Math.floor(ms / BUCKET_MS);
    let offset = offsets.get(bucket);
    if (offset === undefined) {
      const start = offsetOf(bucket * BUCKET_MS);
      offset = start === offsetOf((bucket + 1) * BUCKET_MS - 1) ? start : null;
      offsets.set(bucket, offset);
    }
    if (offset === null) return isoInZone(new Date(ms), timezone);
    const sign = offset[0] === '-' ? -1 : 1;
    const minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
    return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 23)}${offset}`;
  };
}

/** Seconds with at most millisecond decimals, '.' as the decimal mark. */
function secondsText(value: number | null): string | null {
  if (value === null || value === undefined) return null;
  return String(Math.round(Number(value) * 1000) / 1000);
}
