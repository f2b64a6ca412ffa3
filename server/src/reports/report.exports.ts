import type { Kysely } from 'kysely';
import type { Database } from '@qms/db';
import type { AuditEntry } from '@qms/protocol';
import { localDate } from '@qms/protocol/calendar';
import { csvLine, type CsvValue } from './csv.ts';
import type { ReportGroupBy, ReportRow, ReportTotals, SummaryReport } from './report.service.ts';
import { countTickets, streamTicketsCsv, ticketRecords, TICKETS_CSV_COLUMNS, type TicketsExportQuery } from './tickets.export.ts';
import { writeXlsx, type XlsxColumn, type XlsxValue } from './xlsx.ts';

// The files behind the report screen's download buttons: the summary (as shown on screen) and
// the raw tickets, each as CSV or XLSX. Tickets stream page by page (tickets.export.ts); the
// summary is one statement's rows, small whatever the range.

export type Lang = 'vi' | 'en';
type Text = { vi: string; en: string };

// ---- tickets -------------------------------------------------------------------------------

/** Headers of the tickets XLSX, for people; the CSV keeps the machine names of TICKETS_CSV_COLUMNS. */
const TICKET_COLUMNS: Record<(typeof TICKETS_CSV_COLUMNS)[number], XlsxColumn & { text: Text }> = {
  site_code: { header: '', text: { vi: 'Trung tâm', en: 'Site' }, width: 18 },
  code: { header: '', text: { vi: 'Số phiếu', en: 'Ticket' }, width: 9 },
  service_code: { header: '', text: { vi: 'Mã lĩnh vực', en: 'Service code' }, width: 11 },
  service_name: { header: '', text: { vi: 'Lĩnh vực', en: 'Service' }, width: 28 },
  priority: { header: '', text: { vi: 'Ưu tiên', en: 'Priority' }, width: 12 },
  status: { header: '', text: { vi: 'Trạng thái', en: 'Status' }, width: 11 },
  issued_at: { header: '', text: { vi: 'Lấy số lúc', en: 'Issued at' }, type: 'datetime', width: 20 },
  first_called_at: { header: '', text: { vi: 'Gọi lần đầu lúc', en: 'First called at' }, type: 'datetime', width: 20 },
  called_at: { header: '', text: { vi: 'Gọi lần cuối lúc', en: 'Called at' }, type: 'datetime', width: 20 },
  started_at: { header: '', text: { vi: 'Bắt đầu lúc', en: 'Started at' }, type: 'datetime', width: 20 },
  finished_at: { header: '', text: { vi: 'Kết thúc lúc', en: 'Finished at' }, type: 'datetime', width: 20 },
  counter_number: { header: '', text: { vi: 'Quầy', en: 'Counter' }, type: 'integer', width: 7 },
  staff_name: { header: '', text: { vi: 'Cán bộ', en: 'Official' }, width: 24 },
  transfers: { header: '', text: { vi: 'Số lần chuyển', en: 'Transfers' }, type: 'integer', width: 8 },
  wait_seconds: { header: '', text: { vi: 'Chờ (giây)', en: 'Wait (s)' }, type: 'seconds', width: 10 },
  service_seconds: { header: '', text: { vi: 'Phục vụ (giây)', en: 'Service (s)' }, type: 'seconds', width: 10 },
  estimated_wait_seconds: { header: '', text: { vi: 'Dự kiến chờ (giây)', en: 'Estimated wait (s)' }, type: 'seconds', width: 12 },
  rating: { header: '', text: { vi: 'Đánh giá', en: 'Rating' }, type: 'integer', width: 8 },
  first_service_code: { header: '', text: { vi: 'Lĩnh vực lấy số', en: 'Issued for' }, width: 11 },
  first_counter_number: { header: '', text: { vi: 'Quầy gọi đầu tiên', en: 'First counter' }, type: 'integer', width: 9 },
  first_staff_name: { header: '', text: { vi: 'Cán bộ gọi đầu tiên', en: 'First official' }, width: 24 },
  stints: { header: '', text: { vi: 'Các lượt chờ (lĩnh vực:quầy:giây)', en: 'Stints (service:counter:seconds)' }, width: 30 },
  channel: { header: '', text: { vi: 'Lấy số tại', en: 'Issued via' }, width: 12 },
};

// The XLSX is read by people: codes become words. The CSV keeps the codes (a machine contract:
// integrations compare them), and adds no label columns: a reader of the CSV who wants words
// has the site's configuration, and a column between codes would shift positional readers.
const STATUS_LABELS: Record<string, Text> = {
  waiting: { vi: 'Đang chờ', en: 'Waiting' },
  called: { vi: 'Đã gọi', en: 'Called' },
  serving: { vi: 'Đang phục vụ', en: 'Serving' },
  done: { vi: 'Đã phục vụ', en: 'Served' },
  no_show: { vi: 'Vắng mặt', en: 'No-show' },
  transferred: { vi: 'Đã chuyển', en: 'Transferred' },
  cancelled: { vi: 'Đã huỷ', en: 'Cancelled' },
  expired: { vi: 'Hết hạn', en: 'Expired' },
};
const CHANNEL_LABELS: Record<string, Text> = {
  kiosk: { vi: 'Máy lấy số', en: 'Kiosk' },
  staff: { vi: 'Cán bộ cấp', en: 'Staff' },
  phone: { vi: 'Điện thoại', en: 'Phone' },
};
const NO_PRIORITY: Text = { vi: 'Không', en: 'None' };
const column = (name: (typeof TICKETS_CSV_COLUMNS)[number]) => TICKETS_CSV_COLUMNS.indexOf(name);

/**
 * The words of a tickets record's codes: status and channel from the lists above, priority from
 * the site's priority groups (also groups since switched off: old tickets keep their code). A
 * code without a label stays as it is.
 */
async function ticketLabeller(db: Kysely<Database>, q: TicketsExportQuery, lang: Lang): Promise<(record: XlsxValue[]) => XlsxValue[]> {
  let query = db.selectFrom('priorityGroup').innerJoin('site', 'site.id', 'priorityGroup.siteId')
    .select(['site.code as siteCode', 'priorityGroup.code', 'priorityGroup.name']);
  if (q.siteId !== null) query = query.where('priorityGroup.siteId', '=', q.siteId);
  else if (q.siteIds) query = query.where('priorityGroup.siteId', 'in', q.siteIds.length ? q.siteIds : ['00000000-0000-0000-0000-000000000000']);
  const priorities = new Map<string, string>();
  for (const g of await query.execute()) priorities.set(`${g.siteCode}\u0000${g.code}`, (lang === 'en' && g.name.en) || g.name.vi);
  const [site, status, priority, channel] = [column('site_code'), column('status'), column('priority'), column('channel')];
  const word = (labels: Record<string, Text>, code: XlsxValue) => (typeof code === 'string' && labels[code]?.[lang]) || code;
  return (record) => {
    const out = [...record];
    out[status] = word(STATUS_LABELS, record[status]!);
    out[channel] = word(CHANNEL_LABELS, record[channel]!);
    const p = record[priority];
    out[priority] = p === 'none' ? NO_PRIORITY[lang] : priorities.get(`${record[site]}\u0000${p}`) ?? p ?? null;
    return out;
  };
}

export function ticketsCount(db: Kysely<Database>, q: TicketsExportQuery): Promise<number> {
  return countTickets(db, q);
}

/**
 * CSV of every ticket as the download sends it: streamTicketsCsv's lines (validated before the
 * first byte) behind a BOM, so Excel reads UTF-8, a few hundred records a chunk, for fewer,
 * larger writes to the socket.
 */
export async function* ticketsCsv(db: Kysely<Database>, q: TicketsExportQuery): AsyncGenerator<string> {
  const lines = streamTicketsCsv(db, q);
  const header = await lines.next();
  if (header.done) return;
  yield `\uFEFF${header.value}`;
  let chunk = '';
  let n = 0;
  for await (const line of lines) {
    chunk += line;
    if (++n % 200 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * XLSX of every ticket: one row per ticket, timestamps as local date-times, seconds as numbers,
 * status, priority and channel in words.
 */
export async function* ticketsXlsx(db: Kysely<Database>, q: TicketsExportQuery, lang: Lang, at: Date): AsyncGenerator<Buffer> {
  const records = ticketRecords(db, q);
  const first = await records.next();
  const label = await ticketLabeller(db, q, lang);
  async function* rows(): AsyncGenerator<XlsxValue[]> {
    if (first.done) return;
    yield label(first.value);
    for await (const r of records) yield label(r);
  }
  const columns = TICKETS_CSV_COLUMNS.map((name) => {
    const c = TICKET_COLUMNS[name];
    return { header: c.text[lang], ...(c.type ? { type: c.type } : {}), ...(c.width ? { width: c.width } : {}) };
  });
  yield* writeXlsx([{ name: lang === 'vi' ? 'Phiếu' : 'Tickets', columns, rows: rows() }], { date: at });
}

// ---- summary -------------------------------------------------------------------------------

export interface SummaryExportContext {
  groupBy: ReportGroupBy;
  /** site names by id (rows of several sites say which) */
  siteNames: Map<string, string>;
  /** the rating scale's labels by score (the first site's, or the default 3-level one) */
  ratingLabels: Map<number, Text>;
}

const GROUP_HEADER: Record<ReportGroupBy, Text> = {
  service: { vi: 'Lĩnh vực', en: 'Service' },
  counter: { vi: 'Quầy', en: 'Counter' },
  staff: { vi: 'Cán bộ', en: 'Official' },
  day: { vi: 'Ngày', en: 'Day' },
  hour: { vi: 'Giờ', en: 'Hour' },
  procedure: { vi: 'Thủ tục', en: 'Procedure' },
};

type Figure = { field: keyof ReportTotals; text: Text; kind: 'count' | 'duration' | 'share' | 'number' };
const FIGURES: Figure[] = [
  { field: 'issued', text: { vi: 'Số phiếu', en: 'Issued' }, kind: 'count' },
  { field: 'served', text: { vi: 'Đã phục vụ', en: 'Served' }, kind: 'count' },
  { field: 'noShow', text: { vi: 'Vắng mặt', en: 'No-shows' }, kind: 'count' },
  { field: 'transferred', text: { vi: 'Chuyển đi', en: 'Transferred out' }, kind: 'count' },
  { field: 'cancelled', text: { vi: 'Huỷ', en: 'Cancelled' }, kind: 'count' },
  { field: 'waits', text: { vi: 'Lượt chờ đã gọi', en: 'Called waits' }, kind: 'count' },
  { field: 'waitAvgSeconds', text: { vi: 'Chờ TB', en: 'Wait avg' }, kind: 'duration' },
  { field: 'waitP50Seconds', text: { vi: 'Chờ trung vị', en: 'Wait median' }, kind: 'duration' },
  { field: 'waitP90Seconds', text: { vi: 'Chờ P90', en: 'Wait p90' }, kind: 'duration' },
  { field: 'withinTargetShare', text: { vi: 'Đúng hạn chờ', en: 'Within target' }, kind: 'share' },
  { field: 'serviceAvgSeconds', text: { vi: 'Phục vụ TB', en: 'Service avg' }, kind: 'duration' },
  { field: 'serviceP90Seconds', text: { vi: 'Phục vụ P90', en: 'Service p90' }, kind: 'duration' },
  { field: 'ratings', text: { vi: 'Lượt đánh giá', en: 'Ratings' }, kind: 'count' },
  { field: 'ratingAvg', text: { vi: 'Điểm TB', en: 'Rating avg' }, kind: 'number' },
  { field: 'notSatisfiedShare', text: { vi: 'Tỷ lệ không hài lòng', en: 'Not satisfied' }, kind: 'share' },
  { field: 'estimateMaeSeconds', text: { vi: 'Sai số dự kiến (trung vị)', en: 'Estimate error (median)' }, kind: 'duration' },
  // last, so the summary CSV's earlier columns keep their places
  { field: 'transfersIn', text: { vi: 'Nhận chuyển đến', en: 'Transferred in' }, kind: 'count' },
  { field: 'expired', text: { vi: 'Hết hạn cuối ngày', en: 'Expired at day end' }, kind: 'count' },
];

const scoresOf = (report: SummaryReport) =>
  [...new Set([report.totals, ...report.rows].flatMap((r) => Object.keys(r.ratingShares).map(Number)))].sort((a, b) => b - a);

/**
 * CSV of the summary: the API's field names as headers, durations in seconds, shares 0..1, a
 * `rating_share_<score>` column per score given, and the totals as the last record (key `total`).
 */
export function* summaryCsv(report: SummaryReport, ctx: SummaryExportContext): Generator<string> {
  const scores = scoresOf(report);
  const multiSite = ctx.siteNames.size > 1;
  yield `\uFEFF${csvLine([
    'group_by', 'key', 'label', ...(multiSite ? ['site'] : []),
    ...FIGURES.map((f) => f.field), ...scores.map((s) => `rating_share_${s}`),
  ])}`;
  const line = (key: string, label: string, site: string, r: ReportTotals) => csvLine([
    ctx.groupBy, key, label, ...(multiSite ? [site] : []),
    ...FIGURES.map((f) => r[f.field] as CsvValue), ...scores.map((s) => r.ratingShares[String(s)] ?? 0),
  ]);
  for (const row of report.rows) yield line(row.key, row.label, siteOf(row, ctx), row);
  yield line('total', '', '', report.totals);
}

const siteOf = (row: ReportRow & { siteId?: string }, ctx: SummaryExportContext) => (row.siteId ? ctx.siteNames.get(row.siteId) ?? '' : '');

/** XLSX of the summary, as people read it: durations in minutes, shares as percentages, a totals row. */
export function summaryXlsx(report: SummaryReport, ctx: SummaryExportContext, lang: Lang, at: Date): AsyncGenerator<Buffer> {
  const scores = scoresOf(report);
  const multiSite = ctx.siteNames.size > 1;
  const minutes = lang === 'vi' ? ' (phút)' : ' (min)';
  const columns: XlsxColumn[] = [
    { header: GROUP_HEADER[ctx.groupBy][lang], width: ctx.groupBy === 'hour' ? 8 : ctx.groupBy === 'day' ? 12 : 32, ...(ctx.groupBy === 'day' ? { type: 'date' as const } : {}) },
    ...(multiSite ? [{ header: lang === 'vi' ? 'Trung tâm' : 'Site', width: 32 }] : []),
    ...FIGURES.map((f): XlsxColumn => ({
      header: f.kind === 'duration' ? `${f.text[lang]}${minutes}` : f.text[lang],
      type: f.kind === 'count' ? 'integer' : f.kind === 'share' ? 'percent' : 'number',
      width: Math.max(10, f.text[lang].length + (f.kind === 'duration' ? 8 : 2)),
    })),
    ...scores.map((s): XlsxColumn => {
      const label = ctx.ratingLabels.get(s)?.[lang] ?? String(s);
      return { header: `${label} (${s})`, type: 'percent', width: Math.max(10, label.length + 5) };
    }),
  ];
  const values = (r: ReportTotals): XlsxValue[] => [
    ...FIGURES.map((f) => {
      const v = r[f.field] as number | null;
      return v === null ? null : f.kind === 'duration' ? v / 60 : v;
    }),
    ...scores.map((s) => r.ratingShares[String(s)] ?? 0),
  ];
  const label = (row: ReportRow) => (ctx.groupBy === 'hour' ? `${row.key.padStart(2, '0')}:00`
    : ctx.groupBy === 'procedure' && row.key ? `${row.key} – ${row.label}` : row.label);
  const rows: XlsxValue[][] = [
    ...report.rows.map((row) => [label(row), ...(multiSite ? [siteOf(row, ctx)] : []), ...values(row)]),
    [lang === 'vi' ? 'Tổng cộng' : 'Total', ...(multiSite ? [''] : []), ...values(report.totals)],
  ];
  return writeXlsx([{ name: lang === 'vi' ? 'Báo cáo' : 'Summary', columns, rows }], { date: at });
}

// ---- audit log -----------------------------------------------------------------------------

/** An entry of the audit log as the export reads it: the API's entry, and its site's code. */
export type AuditExportEntry = AuditEntry & { siteCode: string | null };

/**
 * The audit log's columns: when, where, who, what, on what, and what changed (JSON). No address
 * (ip): these files travel with the reports, often beyond the centre; the console shows it.
 * Passwords, secrets, tokens and leaders' addresses are never in an entry (audit.service.ts).
 */
export const AUDIT_CSV_COLUMNS = ['at', 'site_code', 'actor_kind', 'actor_name', 'action', 'target_type', 'target_id', 'changes'] as const;
const AUDIT_COLUMNS: Record<(typeof AUDIT_CSV_COLUMNS)[number], XlsxColumn & { text: Text }> = {
  at: { header: '', text: { vi: 'Thời điểm', en: 'At' }, type: 'datetime', width: 20 },
  site_code: { header: '', text: { vi: 'Trung tâm', en: 'Site' }, width: 18 },
  actor_kind: { header: '', text: { vi: 'Loại', en: 'Kind' }, width: 10 },
  actor_name: { header: '', text: { vi: 'Người thực hiện', en: 'Who' }, width: 20 },
  action: { header: '', text: { vi: 'Thao tác', en: 'Action' }, width: 24 },
  target_type: { header: '', text: { vi: 'Đối tượng', en: 'Target' }, width: 14 },
  target_id: { header: '', text: { vi: 'Mã đối tượng', en: 'Target id' }, width: 38 },
  changes: { header: '', text: { vi: 'Thay đổi', en: 'Changes' }, width: 80 },
};
const auditRecord = (e: AuditExportEntry) =>
  [e.at, e.siteCode, e.actor.kind, e.actor.name, e.action, e.targetType ?? null, e.targetId ?? null, JSON.stringify(e.changes)];

/** CSV of the audit log, oldest first: UTF-8 with BOM, CRLF, the machine names of AUDIT_CSV_COLUMNS as headers. */
export async function* auditCsv(entries: AsyncIterable<AuditExportEntry>): AsyncGenerator<string> {
  yield `\uFEFF${csvLine(AUDIT_CSV_COLUMNS)}`;
  let chunk = '';
  let n = 0;
  for await (const e of entries) {
    chunk += csvLine(auditRecord(e));
    if (++n % 200 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** XLSX of the audit log: one sheet, "Nhật ký thay đổi" (or "Audit log"), times as local date-times. */
export async function* auditXlsx(entries: AsyncIterable<AuditExportEntry>, lang: Lang, at: Date): AsyncGenerator<Buffer> {
  async function* rows(): AsyncGenerator<XlsxValue[]> {
    for await (const e of entries) yield auditRecord(e);
  }
  const columns = AUDIT_CSV_COLUMNS.map((name) => {
    const c = AUDIT_COLUMNS[name];
    return { header: c.text[lang], ...(c.type ? { type: c.type } : {}), ...(c.width ? { width: c.width } : {}) };
  });
  yield* writeXlsx([{ name: lang === 'vi' ? 'Nhật ký thay đổi' : 'Audit log', columns, rows: rows() }], { date: at });
}

// ---- names ---------------------------------------------------------------------------------

/** 'tickets-PHUONG-DONG-CAM-2026-11-01_2026-11-30.xlsx': the range's local first and last day. */
export function exportFileName(kind: string, scope: string, from: Date, to: Date, timezone: string, ext: string): string {
  const first = localDate(from, timezone);
  const last = localDate(new Date(to.getTime() - 1), timezone);
  const safe = scope.replace(/[^A-Za-z0-9_.-]+/g, '-');
  return `${kind}-${safe}-${first === last ? first : `${first}_${last}`}.${ext}`;
}

export function attachment(fileName: string): string {
  return `attachment; filename="${fileName.replace(/[^\x20-\x7e]|"/g, '_')}"`;
}
