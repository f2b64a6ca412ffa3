import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '@qms/db';
import { ArrivalsHeatmap, REPORT_GROUPS, SummaryReport } from '@qms/protocol';
import { isAdmin, managerOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors, SiteParams } from '../http/schemas.ts';
import { SiteMonitor, startMonitor } from '../monitor/site-monitor.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { QueueService } from '../queue/queue.service.ts';
import { isoInZone } from '../queue/time.ts';
import {
  attachment, exportFileName, summaryCsv, summaryXlsx, ticketsCount, ticketsCsv, ticketsXlsx, type Lang, type SummaryExportContext,
} from '../reports/report.exports.ts';
import { arrivalsByDayHour } from '../reports/arrivals.ts';
import { summaryReport, type ReportGroupBy, type SummaryQuery } from '../reports/report.service.ts';
import { XLSX_CONTENT_TYPE } from '../reports/xlsx.ts';

// The manager's reports (API.md "Reports"): the summary as JSON, CSV or XLSX, and every ticket
// with its timestamps as CSV or XLSX, for one site or for every site the caller manages. Exports
// stream: a year of a busy centre goes out page by page, never held in memory. `X-Total-Rows`
// tells a client how many records to expect, for its progress bar.
//
// This plugin also runs the site monitor (monitor/site-monitor.ts): waits past target and
// devices gone offline become alerts.

const strict = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, e.g. 2026-11-24T00:00:00+07:00' });
const Range = { from: Instant, to: Instant };
const FIRST_DAY = new Date('2000-01-01T00:00:00Z');
const LAST_DAY = new Date('2999-12-31T00:00:00Z');
const Lang = Type.Optional(Type.Enum(['vi', 'en'], { description: 'language of XLSX headers (default vi)' }));
const SummaryQuerySchema = Type.Object({
  ...Range,
  groupBy: Type.Optional(Type.Enum([...REPORT_GROUPS], { description: 'default service' })),
  lang: Lang,
}, strict);
const ExportQuery = Type.Object({ ...Range, lang: Lang }, strict);
const SITE_FORMATS = ['csv', 'xlsx'] as const;

type Format = (typeof SITE_FORMATS)[number];
interface RangeInput { from: string; to: string; groupBy?: ReportGroupBy; lang?: Lang }

/** Scope of a report: one site, or every site the caller manages (null: every site, admins). */
interface Scope {
  siteId: string | null;
  siteIds: string[] | null;
}

export async function reportRoutes(app: FastifyInstance, { db, queue }: { db: Db; queue: QueueService }) {
  const monitor = new SiteMonitor({
    db, now: () => queue.now(), publish: (events) => app.realtime.publish(events),
    connectedDeviceIds: () => app.realtime.connectedDeviceIds(),
    offlineAfterMs: Number(process.env.QMS_DEVICE_OFFLINE_SECONDS ?? 120) * 1000,
    log: app.log,
  });
  const intervalMs = Number(process.env.QMS_MONITOR_INTERVAL_MS ?? 15_000);
  if (intervalMs > 0) {
    const running = startMonitor(monitor, intervalMs, app.log);
    app.addHook('onClose', async () => running.stop());
  }

  /** One site: its managers and admins. */
  const siteScope = async (request: FastifyRequest): Promise<Scope & { siteId: string }> => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId), 'Only managers of this site see its reports');
    const site = await db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    return { siteId, siteIds: null };
  };

  /** Every site: an admin's are all of them, a manager's those they belong to. */
  const allScope = (request: FastifyRequest): Scope => {
    const p = who(request);
    if (isAdmin(p)) return { siteId: null, siteIds: null };
    allow(p.kind === 'staff' && p.user.role === 'manager', 'Only managers and administrators see reports');
    return { siteId: null, siteIds: p.siteIds };
  };

  const range = (q: RangeInput) => {
    const from = new Date(q.from);
    const to = new Date(q.to);
    if (!(from.getTime() < to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
    // what the local-time formatting and PostgreSQL's dates are sure to handle, in any zone
    if (from < FIRST_DAY || to > LAST_DAY) throw new QueueError('INVALID_RANGE', 'Reports cover the years 2000 to 2999', 400);
    return { from, to };
  };

  const sites = async (scope: Scope) => {
    let query = db.selectFrom('site').select(['id', 'code', 'name', 'timezone', 'settings']).orderBy('code');
    if (scope.siteId) query = query.where('id', '=', scope.siteId);
    else if (scope.siteIds) query = query.where('id', 'in', scope.siteIds.length ? scope.siteIds : ['00000000-0000-0000-0000-000000000000']);
    return query.execute();
  };

  const summary = async (scope: Scope, q: RangeInput) => {
    const { from, to } = range(q);
    const groupBy = q.groupBy ?? 'service';
    const query: SummaryQuery = { siteId: scope.siteId, from, to, groupBy, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) };
    const report = await summaryReport(db, query);
    const scopeSites = await sites(scope);
    const zone = scopeSites[0]?.timezone ?? 'Asia/Ho_Chi_Minh';
    // service and counter rows name their site (reports over several sites list "Quầy 1" of each)
    const keys = report.rows.map((r) => r.key);
    const owners = groupBy === 'service' && keys.length
      ? await db.selectFrom('service').select(['id', 'siteId']).where('id', 'in', keys).execute()
      : groupBy === 'counter' && keys.length
        ? await db.selectFrom('counter').select(['id', 'siteId']).where('id', 'in', keys).execute()
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
  };

  const sendSummary = async (reply: FastifyReply, scope: Scope, q: RangeInput, format: Format) => {
    const { report, sites: scopeSites, from, to, groupBy } = await summary(scope, q);
    const first = scopeSites[0];
    const scale = first?.settings.ratingScale?.length ? first.settings.ratingScale
      : [{ score: 3, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } }, { score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } }, { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' } }];
    const ctx: SummaryExportContext = {
      groupBy,
      siteNames: new Map(scopeSites.map((s) => [s.id, s.name])),
      ratingLabels: new Map(scale.map((l) => [l.score, l.label])),
    };
    const name = exportFileName(`bao-cao-${groupBy}`, scope.siteId && first ? first.code : 'tat-ca', from, to, first?.timezone ?? 'Asia/Ho_Chi_Minh', format);
    reply.header('content-disposition', attachment(name)).header('x-total-rows', String(report.rows.length + 1));
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(Readable.from(summaryCsv(report, ctx)));
    return reply.type(XLSX_CONTENT_TYPE).send(Readable.from(summaryXlsx(report, ctx, q.lang ?? 'vi')));
  };

  const sendTickets = async (reply: FastifyReply, scope: Scope, q: RangeInput, format: Format) => {
    const { from, to } = range(q);
    const scopeSites = await sites(scope);
    const first = scopeSites[0];
    const query = { siteId: scope.siteId, from, to, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) };
    const total = await ticketsCount(db, query);
    const name = exportFileName('phieu', scope.siteId && first ? first.code : 'tat-ca', from, to, first?.timezone ?? 'Asia/Ho_Chi_Minh', format);
    reply.header('content-disposition', attachment(name)).header('x-total-rows', String(total));
    // a download that stops half-way must not look complete: the error ends the connection
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(Readable.from(ticketsCsv(db, query)));
    return reply.type(XLSX_CONTENT_TYPE).send(Readable.from(ticketsXlsx(db, query, q.lang ?? 'vi')));
  };

  const summaryDoc = {
    tags: ['reports'],
    querystring: SummaryQuerySchema,
    response: { 200: SummaryReport, ...errors },
  };

  app.get('/sites/:siteId/reports/summary', {
    schema: { ...summaryDoc, params: SiteParams, description: 'API.md "Reports". Extension fields: see server/src/reports/README.md; service and counter rows carry siteId.' },
  }, async (request) => (await summary(await siteScope(request), request.query as RangeInput)).report);

  app.get('/reports/summary', {
    schema: { ...summaryDoc, description: 'The summary over every site the caller manages (admins: every site).' },
  }, async (request) => (await summary(allScope(request), request.query as RangeInput)).report);

  const arrivals = async (scope: Scope, q: RangeInput) => {
    const { from, to } = range(q);
    return { cells: await arrivalsByDayHour(db, { siteId: scope.siteId, from, to, ...(scope.siteIds ? { siteIds: scope.siteIds } : {}) }) };
  };
  const ArrivalsQuery = Type.Object(Range, strict);
  app.get('/sites/:siteId/reports/arrivals', {
    schema: { tags: ['reports'], params: SiteParams, querystring: ArrivalsQuery, response: { 200: ArrivalsHeatmap, ...errors }, description: 'Tickets issued per local day and hour (heat map)' },
  }, async (request) => arrivals(await siteScope(request), request.query as RangeInput));
  app.get('/reports/arrivals', {
    schema: { tags: ['reports'], querystring: ArrivalsQuery, response: { 200: ArrivalsHeatmap, ...errors }, description: 'Tickets issued per local day and hour over every site the caller manages' },
  }, async (request) => arrivals(allScope(request), request.query as RangeInput));

  const fileReply = { 200: Type.Unknown({ description: 'the file, streamed' }), ...errors };
  for (const format of SITE_FORMATS) {
    app.get(`/sites/:siteId/reports/summary.${format}`, {
      schema: { tags: ['reports'], params: SiteParams, querystring: SummaryQuerySchema, response: fileReply, description: `The summary as ${format.toUpperCase()}` },
    }, async (request, reply) => sendSummary(reply, await siteScope(request), request.query as RangeInput, format));
    app.get(`/reports/summary.${format}`, {
      schema: { tags: ['reports'], querystring: SummaryQuerySchema, response: fileReply, description: `The summary over every site the caller manages, as ${format.toUpperCase()}` },
    }, async (request, reply) => sendSummary(reply, allScope(request), request.query as RangeInput, format));
    app.get(`/sites/:siteId/reports/tickets.${format}`, {
      schema: {
        tags: ['reports'], params: SiteParams, querystring: ExportQuery, response: fileReply,
        description: `Every ticket issued in [from, to) with its timestamps, streamed (${format === 'csv' ? 'UTF-8 with BOM, CRLF' : 'XLSX'}); X-Total-Rows: the number of tickets`,
      },
    }, async (request, reply) => sendTickets(reply, await siteScope(request), request.query as RangeInput, format));
    app.get(`/reports/tickets.${format}`, {
      schema: { tags: ['reports'], querystring: ExportQuery, response: fileReply, description: 'Every ticket of every site the caller manages, streamed' },
    }, async (request, reply) => sendTickets(reply, allScope(request), request.query as RangeInput, format));
  }
}
