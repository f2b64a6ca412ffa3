import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Alert, CaseEvent, CaseUpdate, SiteParams } from '@qms/protocol';
import { managerOfSite } from '../auth/principal.ts';
import { allow, bearer, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';

// Alerts that must reach a manager at once (a citizen's criticism, the lowest rating). Managers
// (and admins) watching the site see them live: the realtime subscriber sends alert events to
// rooms.managers(siteId), which kiosks, displays and officials never join.

/** Socket payloads of this feature (declared in protocol/src/events.ts). */
export type { AlertAcknowledged, AlertRaised } from '@qms/protocol';
export { Alert };

const strict = { additionalProperties: false } as const;
const AlertReply = Type.Object({ alert: Alert });
const CriticismBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 500 })) }, strict);
const AlertParams = Type.Object({ alertId: Type.String({ format: 'uuid' }) }, strict);
const AlertListQuery = Type.Object({
  open: Type.Optional(Type.Enum(['0', '1', 'true', 'false'], { description: 'open only: not acknowledged' })),
  unresolved: Type.Optional(Type.Enum(['0', '1', 'true', 'false'], { description: 'complaints whose case is not resolved (acknowledged or not)' })),
  group: Type.Optional(Type.Enum(['complaints', 'devices', 'waits'], { description: 'complaints (criticism, low_rating) apart from devices (printers, displays, channels) and waits' })),
  kind: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}(,[a-z_]{1,40}){0,9}$', description: 'kinds, comma-separated' })),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1..999, default 100' })),
}, strict);

export const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { alerts } = app.services;

  app.post('/alerts/criticism', {
    schema: { tags: ['alerts'], body: CriticismBody, response: { 201: AlertReply, ...errors } },
    config: {
      // a citizen tapping the button again and again still raises a handful of alerts, not hundreds
      rateLimit: app.config.rateLimits
        ? { max: 6, timeWindow: 60_000, keyGenerator: (r) => bearer(r.headers.authorization) ?? r.cookies?.qms_session ?? r.ip }
        : false,
    },
  }, async (request, reply) => {
    const p = who(request);
    if (p.kind === 'device') allow(p.device.kind === 'rating' || p.device.kind === 'kiosk', 'Only a rating tablet, a kiosk or staff send criticism');
    const source = p.kind === 'device'
      ? { kind: 'device' as const, deviceId: p.device.id, siteId: p.device.siteId, counterId: p.device.counterId }
      : { kind: 'staff' as const, staffId: p.user.id, siteIds: p.siteIds };
    return reply.code(201).send({ alert: (await alerts.raiseCriticism(source, request.body.comment)).value });
  });

  app.get('/sites/:siteId/alerts', {
    schema: { tags: ['alerts'], params: SiteParams, querystring: AlertListQuery, response: { 200: Type.Object({ alerts: Type.Array(Alert) }), ...errors } },
  }, async (request) => {
    const { siteId } = request.params;
    const query = request.query;
    allow(managerOfSite(who(request), siteId), 'Only managers of this site see its alerts');
    const openOnly = query.open === '1' || query.open === 'true';
    return {
      alerts: await alerts.list(siteId, {
        openOnly, limit: Math.min(Number(query.limit ?? 100), 500),
        ...(query.group ? { group: query.group } : {}), ...(query.kind ? { kinds: query.kind.split(',') } : {}),
        unresolved: query.unresolved === '1' || query.unresolved === 'true',
      }),
    };
  });

  app.post('/alerts/:alertId/acknowledge', {
    schema: { tags: ['alerts'], params: AlertParams, response: { 200: AlertReply, ...errors } },
  }, async (request) => {
    const { alertId } = request.params;
    const p = who(request);
    allow(managerOfSite(p, await alerts.siteOf(alertId)), 'Only managers of this site acknowledge its alerts');
    return { alert: (await alerts.acknowledge(alertId, p.user.id)).value };
  });

  app.patch('/alerts/:alertId/case', {
    schema: {
      tags: ['alerts'], description: "A complaint's case: owner, status (new → investigating → resolved; resolving takes a note). Kept in its history.",
      params: AlertParams, body: CaseUpdate, response: { 200: AlertReply, ...errors },
    },
  }, async (request) => {
    const { alertId } = request.params;
    const p = who(request);
    allow(managerOfSite(p, await alerts.siteOf(alertId)), 'Only managers of this site handle its complaints');
    return { alert: (await alerts.updateCase(alertId, request.body, p.user.id)).value };
  });

  app.get('/alerts/:alertId/case-history', {
    schema: { tags: ['alerts'], params: AlertParams, response: { 200: Type.Object({ history: Type.Array(CaseEvent) }), ...errors } },
  }, async (request) => {
    const { alertId } = request.params;
    allow(managerOfSite(who(request), await alerts.siteOf(alertId)), 'Only managers of this site see its complaints');
    return { history: await alerts.caseHistory(alertId) };
  });
};
