import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ArrivalsHeatmap, BookingReport, ErrorBody, DossierReport, REPORT_GROUPS, REPORT_PERIODS, SATISFACTION_GROUPS, SatisfactionReport, SiteParams, SummaryReport } from '@qms/protocol';
import { isAdmin, managerOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors as commonErrors } from '../http/replies.ts';
import { reportRefusal } from '../http/report-refusal.ts';
import { attachment } from '../reports/report.exports.ts';
import type { ReportFile, ReportScope } from '../reports/reports.ts';

// The manager's reports (API.md "Reports"; reports/reports.ts): the summary as JSON, CSV or
// XLSX, every ticket with its timestamps as CSV or XLSX, and the audit log (docs/audit.md) as
// CSV or XLSX, for one site or for every site the caller manages. Exports stream: a year of a
// busy centre goes out page by page, never held in memory. `X-Total-Rows` tells a client how many records to expect, for its progress bar.

const strict = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, e.g. 2026-11-24T00:00:00+07:00' });
const Range = { from: Instant, to: Instant };
const Lang = Type.Optional(Type.Enum(['vi', 'en'], { description: 'language of XLSX headers (default vi)' }));
const SummaryQuery = Type.Object({
  ...Range,
  groupBy: Type.Optional(Type.Enum([...REPORT_GROUPS], { description: 'default service' })),
  lang: Lang,
}, strict);
const ExportQuery = Type.Object({ ...Range, lang: Lang }, strict);
const ArrivalsQuery = Type.Object(Range, strict);
const SatisfactionGroup = Type.Optional(Type.Enum([...SATISFACTION_GROUPS], { description: 'default staff' }));
const SatisfactionQuery = Type.Object({ ...Range, groupBy: SatisfactionGroup }, strict);
const DossierQuery = Type.Object(Range, strict);
const Within = Type.Optional(Type.String({ pattern: '^([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|240)$', description: 'punctuality: on time when called by slot + this many minutes, 0..240 (default 10)' }));
const BookingQuery = Type.Object({ ...Range, within: Within, lang: Lang }, strict);
const PeriodQuery = Type.Object({
  period: Type.Enum([...REPORT_PERIODS], { description: "a local month or quarter of the site's timezone" }),
  year: Type.String({ pattern: '^[0-9]{4}$', description: 'e.g. 2026' }),
  month: Type.Optional(Type.String({ pattern: '^(0?[1-9]|1[0-2])$', description: '1..12, with period=month' })),
  quarter: Type.Optional(Type.String({ pattern: '^[1-4]$', description: '1..4, with period=quarter' })),
  groupBy: Type.Optional(Type.Enum([...SATISFACTION_GROUPS], { description: 'CSV only: the table (default staff); the XLSX has every grouping' })),
  lang: Lang,
}, strict);
const FORMATS = ['csv', 'xlsx'] as const;
// every report may answer 503: REPORT_TIMED_OUT, REPORTS_BUSY (with Retry-After), UNAVAILABLE
const errors = { ...commonErrors, 503: ErrorBody };
const fileReply = { 200: Type.Unknown({ description: 'the file, streamed' }), ...errors };

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { reports } = app.services;
  // Reports run on their own small pool with a statement timeout (app.ts createReportDb): one
  // past its time, or finding every report connection taken, is a 503 the console explains,
  // never a 500. Thrown on, so the app's handler (http/errors.ts) writes the body.
  app.setErrorHandler((error: Error, request, reply) => {
    throw reportRefusal(error, reply, request.log);
  });
  // At the peak a report works a share of the time (reports/pace.ts) and may answer minutes
  // later, silent meanwhile: its connection is not dropped for silence (QMS_IDLE_TIMEOUT_MS) while
  // the request is in hand, and keeps that timeout as before once it is answered.
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    const idleMs = socket.timeout;
    if (!idleMs) return;
    socket.setTimeout(0);
    // (unless Node has set it since: a keep-alive socket's own, shorter timeout)
    reply.raw.once('close', () => {
      if (!socket.destroyed && !socket.timeout) socket.setTimeout(idleMs);
    });
  });

  /** One site: its managers and admins. */
  const siteScope = async (request: FastifyRequest, siteId: string) => {
    allow(managerOfSite(who(request), siteId), 'Only managers of this site see its reports');
    return reports.siteScope(siteId);
  };

  /** Every site: an admin's are all of them, a manager's those they belong to. */
  const allScope = (request: FastifyRequest): ReportScope => {
    const p = who(request);
    if (isAdmin(p)) return { siteId: null, siteIds: null };
    allow(p.kind === 'staff' && p.user.role === 'manager', 'Only managers and administrators see reports');
    return { siteId: null, siteIds: p.siteIds };
  };

  // a download that stops half-way must not look complete: the error ends the connection
  const send = async (reply: FastifyReply, file: Promise<ReportFile>) => {
    const { fileName, totalRows, contentType, body } = await file;
    reply.header('content-disposition', attachment(fileName)).header('x-total-rows', String(totalRows));
    return reply.type(contentType).send(Readable.from(body));
  };

  const summaryDoc = { tags: ['reports'], querystring: SummaryQuery, response: { 200: SummaryReport, ...errors } };

  app.get('/sites/:siteId/reports/summary', {
    schema: { ...summaryDoc, params: SiteParams, description: 'API.md "Reports". Extension fields: see server/src/reports/README.md; service and counter rows carry siteId.' },
  }, async (request) => (await reports.summary(await siteScope(request, request.params.siteId), request.query)).report);

  app.get('/reports/summary', {
    schema: { ...summaryDoc, description: 'The summary over every site the caller manages (admins: every site).' },
  }, async (request) => (await reports.summary(allScope(request), request.query)).report);

  app.get('/sites/:siteId/reports/arrivals', {
    schema: { tags: ['reports'], params: SiteParams, querystring: ArrivalsQuery, response: { 200: ArrivalsHeatmap, ...errors }, description: 'Tickets issued per local day and hour (heat map)' },
  }, async (request) => reports.arrivals(await siteScope(request, request.params.siteId), request.query));
  app.get('/reports/arrivals', {
    schema: { tags: ['reports'], querystring: ArrivalsQuery, response: { 200: ArrivalsHeatmap, ...errors }, description: 'Tickets issued per local day and hour over every site the caller manages' },
  }, async (request) => reports.arrivals(allScope(request), request.query));

  app.get('/sites/:siteId/reports/satisfaction', {
    schema: {
      tags: ['reports'], params: SiteParams, querystring: SatisfactionQuery, response: { 200: SatisfactionReport, ...errors },
      description: 'Ratings (tickets issued in [from, to)) and criticisms (raised in [from, to)) per official, counter, field, procedure or the site: server/src/reports/README.md',
    },
  }, async (request) => {
    await siteScope(request, request.params.siteId);
    return reports.satisfaction(request.params.siteId, request.query);
  });

  app.get('/sites/:siteId/reports/dossiers', {
    schema: {
      tags: ['reports'], params: SiteParams, querystring: DossierQuery, response: { 200: DossierReport, ...errors },
      description: 'Visits per dossier: dossiers whose first visit (a ticket carrying the code) is in [from, to), in all and per procedure',
    },
  }, async (request) => {
    await siteScope(request, request.params.siteId);
    return reports.dossiers(request.params.siteId, request.query);
  });

  app.get('/sites/:siteId/reports/bookings', {
    schema: {
      tags: ['reports', 'bookings'], params: SiteParams, querystring: BookingQuery, response: { 200: BookingReport, ...errors },
      description: 'Appointments and remote tickets: tickets by kind, no-shows, remote tickets, punctuality, slot use per field and hour (server/src/reports/README.md)',
    },
  }, async (request) => {
    await siteScope(request, request.params.siteId);
    return reports.bookings(request.params.siteId, request.query);
  });
  for (const format of FORMATS) {
    app.get(`/sites/:siteId/reports/bookings.${format}`, {
      schema: { tags: ['reports', 'bookings'], params: SiteParams, querystring: BookingQuery, response: fileReply, description: `The bookings report as ${format.toUpperCase()}` },
    }, async (request, reply) => {
      await siteScope(request, request.params.siteId);
      return send(reply, reports.bookingsFile(request.params.siteId, request.query, format));
    });
  }

  for (const format of FORMATS) {
    app.get(`/sites/:siteId/reports/satisfaction.${format}`, {
      schema: {
        tags: ['reports'], params: SiteParams, querystring: PeriodQuery, response: fileReply,
        description: format === 'xlsx'
          ? "The month's or quarter's satisfaction indicators (Decision 766): indicators, per official, counter, field, procedure, visits per dossier, definitions"
          : "The month's or quarter's satisfaction table of one grouping (groupBy, default staff)",
      },
    }, async (request, reply) => {
      await siteScope(request, request.params.siteId);
      return send(reply, reports.satisfactionFile(request.params.siteId, request.query, format));
    });
  }

  for (const format of FORMATS) {
    app.get(`/sites/:siteId/reports/summary.${format}`, {
      schema: { tags: ['reports'], params: SiteParams, querystring: SummaryQuery, response: fileReply, description: `The summary as ${format.toUpperCase()}` },
    }, async (request, reply) => send(reply, reports.summaryFile(await siteScope(request, request.params.siteId), request.query, format)));
    app.get(`/reports/summary.${format}`, {
      schema: { tags: ['reports'], querystring: SummaryQuery, response: fileReply, description: `The summary over every site the caller manages, as ${format.toUpperCase()}` },
    }, async (request, reply) => send(reply, reports.summaryFile(allScope(request), request.query, format)));
    app.get(`/sites/:siteId/reports/tickets.${format}`, {
      schema: {
        tags: ['reports'], params: SiteParams, querystring: ExportQuery, response: fileReply,
        description: `Every ticket issued in [from, to) with its timestamps, streamed (${format === 'csv' ? 'UTF-8 with BOM, CRLF' : 'XLSX'}); X-Total-Rows: the number of tickets`,
      },
    }, async (request, reply) => send(reply, reports.ticketsFile(await siteScope(request, request.params.siteId), request.query, format)));
    app.get(`/reports/tickets.${format}`, {
      schema: { tags: ['reports'], querystring: ExportQuery, response: fileReply, description: 'Every ticket of every site the caller manages, streamed' },
    }, async (request, reply) => send(reply, reports.ticketsFile(allScope(request), request.query, format)));
    app.get(`/sites/:siteId/reports/audit.${format}`, {
      schema: {
        tags: ['reports', 'audit'], params: SiteParams, querystring: ExportQuery, response: fileReply,
        description: `The site's audit log of [from, to), oldest first, as ${format.toUpperCase()} (docs/audit.md): no passwords, secrets, tokens or addresses; X-Total-Rows: the number of entries`,
      },
    }, async (request, reply) => send(reply, reports.auditFile(await siteScope(request, request.params.siteId), request.query, format)));
    app.get(`/reports/audit.${format}`, {
      schema: { tags: ['reports', 'audit'], querystring: ExportQuery, response: fileReply, description: 'The audit log of every site the caller manages (administrators: also the entries of no site)' },
    }, async (request, reply) => send(reply, reports.auditFile(allScope(request), request.query, format)));
  }
};
