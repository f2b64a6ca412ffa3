import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody, PublicCentre } from '@qms/protocol';
import { localParts } from '@qms/protocol/calendar';
import { publicBaseUrl } from '../printing/phone-url.ts';
import { openDays } from '../public/centre.service.ts';
import type { Lang } from '../public/client/public-text.ts';
import { bookingPage, centrePage, flowPage, notFoundPage, procedurePage, qrSheetPage } from '../public/public-pages.ts';
import { publicScript } from '../public/public-script.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { privatePageHeaders } from '../http/page-headers.ts';

// The centre's public page (docs/public-page.md): what a centre offers, its live queue, its
// procedures and their QR codes, booking a time and taking a number from away, and a booking's
// page. No sign-in; one read model (public/centre.service.ts); pages rendered like the phone
// page (routes/phone.routes.ts), with its headers. The booking operations themselves are the
// booking routes'; these pages call them from their script.

const SITE_CODE = /^[A-Za-z0-9_.-]{1,40}$/;
const PROCEDURE_CODE = /^[0-9A-Za-z.]{1,40}$/;
const PUBLIC_ID = /^[A-Za-z0-9_-]{8,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SiteCodeParams = Type.Object({ siteCode: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' }) }, { additionalProperties: false });
/** The pages answer their own 404 page for any address (never the API's JSON), so they check their parameters themselves. */
const PageParams = Type.Object({ siteCode: Type.String() });
const ProcedurePageParams = Type.Object({ siteCode: Type.String(), procedureCode: Type.String() });
const BookingPageParams = Type.Object({ publicId: Type.String() });
const PageQuery = Type.Object({
  lang: Type.Optional(Type.Unknown({ description: 'vi or en; else the last one chosen (a cookie), else Vietnamese' })),
  service: Type.Optional(Type.Unknown({ description: 'booking: the field chosen beforehand' })),
  procedure: Type.Optional(Type.Unknown({ description: 'booking: the procedure chosen beforehand' })),
});
type Query = { lang?: unknown; service?: unknown; procedure?: unknown };

const LANG_COOKIE = 'qms_lang';

export const publicCentreRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicCentres } = app.services;
  // phones behind one centre's Wi-Fi share an address and poll every 20 s: generous, yet a ceiling
  const rateLimit = app.config.rateLimits ? { max: 120, timeWindow: 60_000 } : false;

  /** A centre as its public page shows it: fields with their procedures and live queue, hours, holidays, what can be booked. */
  app.get('/api/v1/public/sites/:siteCode', {
    schema: { tags: ['public'], params: SiteCodeParams, response: { 200: PublicCentre, 400: ErrorBody, 404: ErrorBody, 429: ErrorBody } },
    config: { rateLimit },
  }, async (request, reply) => {
    const centre = await publicCentres.centre(request.params.siteCode);
    if (!centre) throw new QueueError('SITE_NOT_FOUND', `No centre has the code ${request.params.siteCode}`, 404);
    reply.header('cache-control', 'no-store');
    return centre;
  });

  /** The language of a page: ?lang=, else the one chosen last (kept in a cookie by ?lang=), else Vietnamese. */
  const langOf = (request: FastifyRequest, reply: FastifyReply, fallback: Lang = 'vi'): Lang => {
    const asked = (request.query as Query).lang;
    if (asked === 'vi' || asked === 'en') {
      reply.header('set-cookie', `${LANG_COOKIE}=${asked}; Path=/; Max-Age=31536000; SameSite=Lax`);
      return asked;
    }
    const kept = /(?:^|;\s*)qms_lang=(vi|en)(?:;|$)/.exec(request.headers.cookie ?? '')?.[1];
    return kept === 'vi' || kept === 'en' ? kept : fallback;
  };
  // a booking's address is its key: never handed to another site (the national portal's links included)
  const pageHeaders = privatePageHeaders;
  const page = { schema: { hide: true, params: PageParams, querystring: PageQuery }, config: { rateLimit } };
  const centreOf = async (siteCode: string) => (SITE_CODE.test(siteCode) ? publicCentres.centre(siteCode) : null);
  const todayWeekday = (timezone: string) => localParts(publicCentres.now(), timezone).weekday;

  app.get('/c/:siteCode', page, async (request, reply) => reply.redirect(`/c/${encodeURIComponent(request.params.siteCode)}/`, 301));

  app.get('/c/:siteCode/', page, async (request, reply) => {
    const nonce = pageHeaders(reply);
    const centre = await centreOf(request.params.siteCode);
    if (!centre) return reply.code(404).send(notFoundPage(nonce, 'centre'));
    const lang = langOf(request, reply);
    return reply.send(centrePage({
      centre, lang, nonce, now: publicCentres.now(), todayWeekday: todayWeekday(centre.timezone), path: request.url.split('?')[0]!,
      query: request.query, script: publicScript(),
    }));
  });

  app.get('/c/:siteCode/p/:procedureCode', { ...page, schema: { ...page.schema, params: ProcedurePageParams } }, async (request, reply) => {
    const nonce = pageHeaders(reply);
    const { siteCode, procedureCode } = request.params;
    const centre = await centreOf(siteCode);
    if (!centre) return reply.code(404).send(notFoundPage(nonce, 'centre'));
    const service = PROCEDURE_CODE.test(procedureCode) ? centre.services.find((s) => s.procedures.some((p) => p.code === procedureCode)) : undefined;
    const procedure = service?.procedures.find((p) => p.code === procedureCode);
    if (!service || !procedure) return reply.code(404).send(notFoundPage(nonce, 'procedure', `/c/${encodeURIComponent(centre.code)}/`));
    const path = `/c/${encodeURIComponent(centre.code)}/p/${encodeURIComponent(procedure.code)}`;
    return reply.send(procedurePage({
      centre, service, procedure, lang: langOf(request, reply), nonce, url: `${publicBaseUrl(app.config, request)}${path}`, path, query: request.query,
    }));
  });

  app.get('/c/:siteCode/qr', page, async (request, reply) => {
    const nonce = pageHeaders(reply);
    const centre = await centreOf(request.params.siteCode);
    if (!centre) return reply.code(404).send(notFoundPage(nonce, 'centre'));
    return reply.send(qrSheetPage({
      centre, lang: langOf(request, reply), nonce, baseUrl: publicBaseUrl(app.config, request), path: request.url.split('?')[0]!,
      query: request.query, script: publicScript(),
    }));
  });

  for (const mode of ['book', 'now'] as const) {
    app.get(`/c/:siteCode/${mode}`, page, async (request, reply) => {
      const nonce = pageHeaders(reply);
      const centre = await centreOf(request.params.siteCode);
      if (!centre) return reply.code(404).send(notFoundPage(nonce, 'centre'));
      const { service, procedure } = request.query as Query;
      return reply.send(flowPage({
        centre, mode, lang: langOf(request, reply), nonce, days: openDays(centre, publicCentres.now(), centre.bookings.daysAhead),
        ...(typeof service === 'string' && UUID.test(service) ? { service } : {}),
        ...(typeof procedure === 'string' && PROCEDURE_CODE.test(procedure) ? { procedure } : {}),
        path: request.url.split('?')[0]!, query: request.query, script: publicScript(),
      }));
    });
  }

  app.get('/b/:publicId', { schema: { hide: true, params: BookingPageParams, querystring: PageQuery }, config: { rateLimit } }, async (request, reply) => {
    const nonce = pageHeaders(reply);
    const { publicId } = request.params;
    const site = PUBLIC_ID.test(publicId) ? await publicCentres.bookingSite(publicId) : null;
    const centre = site ? await publicCentres.centre(site.siteCode) : null;
    if (!site || !centre) return reply.code(404).send(notFoundPage(nonce, 'booking'));
    const path = `/b/${encodeURIComponent(publicId)}`;
    return reply.send(bookingPage({
      publicId, siteName: site.siteName, siteCode: site.siteCode, timezone: site.timezone, lang: langOf(request, reply, site.lang), nonce,
      url: `${publicBaseUrl(app.config, request)}${path}`, days: openDays(centre, publicCentres.now(), centre.bookings.daysAhead),
      procedures: Object.fromEntries(centre.services.flatMap((s) => s.procedures.map((p) => [p.code, p.name]))),
      path, query: request.query, script: publicScript(),
    }));
  });
};
