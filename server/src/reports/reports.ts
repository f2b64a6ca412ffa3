import type { Db } from '@qms/db';
import type { AuditService } from '../audit/audit.service.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { isoInZone } from '../queue/time.ts';
import { arrivalsByDayHour } from './arrivals.ts';
import {
  auditCsv, auditXlsx, exportFileName, summaryCsv, summaryXlsx, ticketsCount, ticketsCsv, ticketsXlsx, type Lang, type SummaryExportContext,
} from './report.exports.ts';
import { summaryReport, type ReportGroupBy, type SummaryQuery } from './report.service.ts';
import { XLSX_CONTENT_TYPE } from './xlsx.ts';

// The manager's reports (API.md "Reports") behind the routes of routes/report.routes.ts: the
// summary as JSON, CSV or XLSX, every ticket with its timestamps as CSV or XLSX, and arrivals
// per day and hour, for one site or for every site the caller manages.

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

function range(q: RangeInput) {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(from.getTime() < to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  // what the local-time formatting and PostgreSQL's dates are sure to handle, in any zone
  if (from < FIRST_DAY || to > LAST_DAY) throw new QueueError('INVALID_RANGE', 'Reports cover the years 2000 to 2999', 400);
  return { from, to };
}

const contentType = (format: ReportFormat) => (format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_CONTENT_TYPE);

export class Reports {
  constructor(private readonly db: Db, private readonly audit: AuditService) {}

  /** One site's scope; 404 for a site that does not exist. */
  async siteScope(siteId: string): Promise<ReportScope & { siteId: string }> {
    const site = await this.db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    return { siteId, siteIds: null };
  }

  async summary(scope: ReportScope, q: RangeInput) {
    const { from, to } = range(q);
    const groupBy = q.groupBy ?? 'service';
    const query: SummaryQuery = { siteId: scope.siteId, from, to, groupBy, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) };
    const report = await summaryReport(this.db, query);
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
      body: format === 'csv' ? summaryCsv(report, ctx) : summaryXlsx(report, ctx, q.lang ?? 'vi'),
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
      body: format === 'csv' ? ticketsCsv(this.db, query) : ticketsXlsx(this.db, query, q.lang ?? 'vi'),
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
      body: format === 'csv' ? auditCsv(entries) : auditXlsx(entries, q.lang ?? 'vi'),
    };
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
