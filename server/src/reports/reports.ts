import { poolUse, type Db } from '@qms/db';
import type { AuditService } from '../audit/audit.service.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { isoInZone } from '../queue/time.ts';
import { localDate, zonedInstant } from '@qms/protocol/calendar';
import { arrivalsByDayHour } from './arrivals.ts';
import { bookingReport } from './bookings.ts';
import { bookingCsv, bookingCsvRecords, bookingXlsx } from './bookings.export.ts';
import {
  auditCsv, auditXlsx, exportFileName, summaryCsv, summaryXlsx, ticketsCount, ticketsCsv, ticketsXlsx, type Lang, type SummaryExportContext,
} from './report.exports.ts';
import { summaryReport, type ReportGroupBy, type SummaryQuery } from './report.service.ts';
import { dossierReport } from './dossiers.ts';
import { SATISFACTION_GROUPS, satisfactionReport, type SatisfactionGroupBy, type SatisfactionReport, type ScaleLevel } from './satisfaction.ts';
import { satisfactionCsv, satisfactionXlsx, type PeriodLabel } from './satisfaction.export.ts';
import { XLSX_CONTENT_TYPE } from './xlsx.ts';
import type { ReportPace } from './pace.ts';

// The manager's reports (API.md "Reports") behind the routes of routes/report.routes.ts: the
// summary as JSON, CSV or XLSX, every ticket with its timestamps as CSV or XLSX, and arrivals
// per day and hour, for one site or for every site the caller manages.

export interface ReportPoolUse {
  total: number;
  idle: number;
  waiting: number;
  /** the rests the reports took while the queue was busy (pace.ts), since the pool opened */
  restedSeconds: number;
}

/** Scope of a report: one site, or every site the caller manages (null: every site, admins). */
export interface ReportScope {
  siteId: string | null;
  siteIds: string[] | null;
}

export interface RangeInput {
  from: string;
  to: string;
  groupBy?: ReportGroupBy;
  lang?: Lang;
}

export type ReportFormat = 'csv' | 'xlsx';

export interface SatisfactionInput {
  from: string;
  to: string;
  groupBy?: SatisfactionGroupBy;
}

/** A local month or quarter of the site, as the query gives it (strings: no coercion of queries). */
export interface PeriodInput {
  period: 'month' | 'quarter';
  year: string;
  month?: string;
  quarter?: string;
  groupBy?: SatisfactionGroupBy;
  lang?: Lang;
}

/** The local month or quarter as instants: [first day 00:00, next period's first day 00:00) in the zone. */
export function periodRange(p: PeriodInput, zone: string): { from: Date; to: Date; label: PeriodLabel; slug: string } {
  const year = Number(p.year);
  const month = p.month === undefined ? undefined : Number(p.month);
  const quarter = p.quarter === undefined ? undefined : Number(p.quarter);
  if (!Number.isInteger(year) || year < 2000 || year > 2998) throw new QueueError('INVALID_PERIOD', 'year must be 2000 to 2998', 400);
  let first: number;
  let months: number;
  let text: { vi: string; en: string };
  let slug: string;
  if (p.period === 'month') {
    if (month === undefined || quarter !== undefined || !Number.isInteger(month) || month < 1 || month > 12) {
      throw new QueueError('INVALID_PERIOD', 'period=month takes month (1..12) and no quarter', 400);
    }
    [first, months] = [month, 1];
    text = { vi: `Tháng ${month}/${year}`, en: `${new Date(Date.UTC(year, month - 1, 1)).toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' })} ${year}` };
    slug = `${year}-${String(month).padStart(2, '0')}`;
  } else if (p.period === 'quarter') {
    if (quarter === undefined || month !== undefined || !Number.isInteger(quarter) || quarter < 1 || quarter > 4) {
      throw new QueueError('INVALID_PERIOD', 'period=quarter takes quarter (1..4) and no month', 400);
    }
    [first, months] = [3 * quarter - 2, 3];
    text = { vi: `Quý ${quarter}/${year}`, en: `Q${quarter} ${year}` };
    slug = `${year}-Q${quarter}`;
  } else {
    throw new QueueError('INVALID_PERIOD', 'period is month or quarter', 400);
  }
  const day = (y: number, m: number) => `${y + Math.floor((m - 1) / 12)}-${String(((m - 1) % 12) + 1).padStart(2, '0')}-01`;
  const from = zonedInstant(day(year, first), '00:00', zone);
  const to = zonedInstant(day(year, first + months), '00:00', zone);
  const dmy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
  return { from, to, label: { text, first: dmy(day(year, first)), last: dmy(localDate(new Date(to.getTime() - 1), zone)) }, slug };
}

/** A file to stream back: its name, how many records it holds (X-Total-Rows), and its body. */
export interface ReportFile {
  fileName: string;
  totalRows: number;
  contentType: string;
  body: AsyncIterable<string | Buffer> | Iterable<string>;
}

const FIRST_DAY = new Date('2000-01-01T00:00:00Z');
const LAST_DAY = new Date('2999-12-31T00:00:00Z');
const DEFAULT_ZONE = 'Asia/Ho_Chi_Minh';
const DEFAULT_SCALE = [
  { score: 3, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } },
  { score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } },
  { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' } },
];

function range(q: { from: string; to: string }) {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(from.getTime() < to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  // what the local-time formatting and PostgreSQL's dates are sure to handle, in any zone
  if (from < FIRST_DAY || to > LAST_DAY) throw new QueueError('INVALID_RANGE', 'Reports cover the years 2000 to 2999', 400);
  return { from, to };
}

const contentType = (format: ReportFormat) => (format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_CONTENT_TYPE);

export class Reports {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly now: () => Date = () => new Date(),
    /** the pace of `db`'s statements, if it has one: a summary is sliced while it paces (report.service.ts) */
    private readonly pace?: ReportPace,
  ) {}

  /** The reports' pool: connections open, idle among them, queries waiting for one, and the rests its pace took (GET /metrics). */
  async poolUse(): Promise<ReportPoolUse | undefined> {
    const use = poolUse(this.db);
    return use && { ...use, restedSeconds: (this.pace?.restedMs ?? 0) / 1000 };
  }

  /** One site's scope; 404 for a site that does not exist. */
  async siteScope(siteId: string): Promise<ReportScope & { siteId: string }> {
    const site = await this.db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    return { siteId, siteIds: null };
  }

  async summary(scope: ReportScope, q: RangeInput) {
    const { from, to } = range(q);
    const groupBy = q.groupBy ?? 'service';
    const query: SummaryQuery = { siteId: scope.siteId, from, to, groupBy, now: this.now(), ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) };
    const report = await summaryReport(this.db, query, { pace: this.pace });
    const scopeSites = await this.sites(scope);
    const zone = scopeSites[0]?.timezone ?? DEFAULT_ZONE;
    // service and counter rows name their site (reports over several sites list "Quầy 1" of each)
    const keys = report.rows.map((r) => r.key);
    const owners = groupBy === 'service' && keys.length
      ? await this.db.selectFrom('service').select(['id', 'siteId']).where('id', 'in', keys).execute()
      : groupBy === 'counter' && keys.length
        ? await this.db.selectFrom('counter').select(['id', 'siteId']).where('id', 'in', keys).execute()
        : [];
    const owner = new Map(owners.map((o) => [o.id, o.siteId]));
    return {
      report: {
        rows: report.rows.map((r) => (owner.has(r.key) ? { ...r, siteId: owner.get(r.key)! } : r)),
        totals: report.totals,
        from: isoInZone(from, zone), to: isoInZone(to, zone), groupBy,
        siteIds: scopeSites.map((s) => s.id),
      },
      sites: scopeSites,
      from, to, groupBy,
    };
  }

  async summaryFile(scope: ReportScope, q: RangeInput, format: ReportFormat): Promise<ReportFile> {
    const { report, sites, from, to, groupBy } = await this.summary(scope, q);
    const first = sites[0];
    const scale = first?.settings.ratingScale?.length ? first.settings.ratingScale : DEFAULT_SCALE;
    const ctx: SummaryExportContext = {
      groupBy,
      siteNames: new Map(sites.map((s) => [s.id, s.name])),
      ratingLabels: new Map(scale.map((l) => [l.score, l.label])),
    };
    return {
      fileName: exportFileName(`bao-cao-${groupBy}`, scope.siteId && first ? first.code : 'tat-ca', from, to, first?.timezone ?? DEFAULT_ZONE, format),
      totalRows: report.rows.length + 1,
      contentType: contentType(format),
      body: format === 'csv' ? summaryCsv(report, ctx) : summaryXlsx(report, ctx, q.lang ?? 'vi', this.now()),
    };
  }

  async ticketsFile(scope: ReportScope, q: RangeInput, format: ReportFormat): Promise<ReportFile> {
    const { from, to } = range(q);
    const first = (await this.sites(scope))[0];
    const query = { siteId: scope.siteId, from, to, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) };
    return {
      fileName: exportFileName('phieu', scope.siteId && first ? first.code : 'tat-ca', from, to, first?.timezone ?? DEFAULT_ZONE, format),
      totalRows: await ticketsCount(this.db, query),
      contentType: contentType(format),
      body: format === 'csv' ? ticketsCsv(this.db, query) : ticketsXlsx(this.db, query, q.lang ?? 'vi', this.now()),
    };
  }

  /** The audit log of [from, to), oldest first (docs/audit.md): an admin's whole scope also holds the entries of no site. */
  async auditFile(scope: ReportScope, q: RangeInput, format: ReportFormat): Promise<ReportFile> {
    const { from, to } = range(q);
    const first = (await this.sites(scope))[0];
    const siteIds = scope.siteId ? [scope.siteId] : scope.siteIds;
    const entries = this.audit.all(siteIds, from, to);
    return {
      fileName: exportFileName('nhat-ky', scope.siteId && first ? first.code : 'tat-ca', from, to, first?.timezone ?? DEFAULT_ZONE, format),
      totalRows: await this.audit.count(siteIds, from, to),
      contentType: contentType(format),
      body: format === 'csv' ? auditCsv(entries) : auditXlsx(entries, q.lang ?? 'vi', this.now()),
    };
  }

  /** Ratings and criticisms of one site, grouped (default by official). */
  async satisfaction(siteId: string, q: SatisfactionInput) {
    const { from, to } = range(q);
    const groupBy = q.groupBy ?? 'staff';
    const zone = (await this.sites({ siteId, siteIds: null }))[0]?.timezone ?? DEFAULT_ZONE;
    const report = await satisfactionReport(this.db, { siteId, from, to, groupBy });
    return { ...report, from: isoInZone(from, zone), to: isoInZone(to, zone), groupBy };
  }

  /** Visits per dossier of one site: the dossiers whose first visit is in the range. */
  async dossiers(siteId: string, q: { from: string; to: string }) {
    const { from, to } = range(q);
    const zone = (await this.sites({ siteId, siteIds: null }))[0]?.timezone ?? DEFAULT_ZONE;
    return { ...(await dossierReport(this.db, { siteId, from, to })), from: isoInZone(from, zone), to: isoInZone(to, zone) };
  }

  /**
   * The month's or quarter's satisfaction file of one site (the province's indicator reporting):
   * XLSX with every grouping and the definitions, or CSV of one grouping (default by official).
   */
  async satisfactionFile(siteId: string, q: PeriodInput, format: ReportFormat): Promise<ReportFile> {
    const site = (await this.sites({ siteId, siteIds: null }))[0];
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    const { from, to, label, slug } = periodRange(q, site.timezone);
    const name = `hai-long-${site.code.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${slug}.${format}`;
    if (format === 'csv') {
      const groupBy = q.groupBy ?? 'staff';
      const report = await satisfactionReport(this.db, { siteId, from, to, groupBy });
      return { fileName: name, totalRows: report.rows.length + 1, contentType: contentType(format), body: satisfactionCsv(report, groupBy) };
    }
    const by = {} as Record<SatisfactionGroupBy, SatisfactionReport>;
    for (const groupBy of SATISFACTION_GROUPS) by[groupBy] = await satisfactionReport(this.db, { siteId, from, to, groupBy });
    const dossiers = await dossierReport(this.db, { siteId, from, to });
    // the scale's levels, and any other score given (named by its number)
    const scale: ScaleLevel[] = by.site.totals.levels.map((l) => by.site.scale.find((s) => s.score === l.score)
      ?? { score: l.score, label: { vi: String(l.score), en: String(l.score) } });
    const { rows, body } = satisfactionXlsx({ siteName: site.name, period: label, scale, by, dossiers }, q.lang ?? 'vi', this.now());
    return { fileName: name, totalRows: rows, contentType: contentType(format), body };
  }

  /** Appointments and remote tickets of one site (bookings.ts); `within`: the punctuality's minutes (default 10). */
  async bookings(siteId: string, q: { from: string; to: string; within?: string }) {
    const { from, to } = range(q);
    const zone = (await this.sites({ siteId, siteIds: null }))[0]?.timezone ?? DEFAULT_ZONE;
    const report = await bookingReport(this.db, { siteId, from, to, withinMinutes: q.within === undefined ? 10 : Number(q.within) });
    return { ...report, from: isoInZone(from, zone), to: isoInZone(to, zone) };
  }

  async bookingsFile(siteId: string, q: { from: string; to: string; within?: string; lang?: Lang }, format: ReportFormat): Promise<ReportFile> {
    const report = await this.bookings(siteId, q);
    const site = (await this.sites({ siteId, siteIds: null }))[0]!;
    const fileName = exportFileName('lich-hen', site.code, new Date(q.from), new Date(q.to), site.timezone, format);
    if (format === 'csv') return { fileName, totalRows: bookingCsvRecords(report), contentType: contentType(format), body: bookingCsv(report) };
    const { rows, body } = bookingXlsx(report, site.name, q.lang ?? 'vi', this.now());
    return { fileName, totalRows: rows, contentType: contentType(format), body };
  }

  async arrivals(scope: ReportScope, q: RangeInput) {
    const { from, to } = range(q);
    return { cells: await arrivalsByDayHour(this.db, { siteId: scope.siteId, from, to, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) }) };
  }

  private async sites(scope: ReportScope) {
    let query = this.db.selectFrom('site').select(['id', 'code', 'name', 'timezone', 'settings']).orderBy('code');
    if (scope.siteId) query = query.where('id', '=', scope.siteId);
    else if (scope.siteIds) query = query.where('id', 'in', scope.siteIds.length ? scope.siteIds : ['00000000-0000-0000-0000-000000000000']);
    return query.execute();
  }
}
