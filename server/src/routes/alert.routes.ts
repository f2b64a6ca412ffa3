import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '@qms/db';
import { Alert } from '@qms/protocol';
import { AlertService, type AlertDto } from '../alerts/alert.service.ts';
import { managerOfSite } from '../auth/principal.ts';
import { allow, bearer, who } from '../http/auth.plugin.ts';
import { errors, SiteParams } from '../http/schemas.ts';
import { event } from '../queue/queue.events.ts';
import type { QueueService } from '../queue/queue.service.ts';
import { counterDeskRoutes, engineClock } from './counter-desk.routes.ts';

// Alerts that must reach a manager at once (a citizen's criticism, the lowest rating), and the
// extra reads of the counter terminal and rating tablet (counter-desk.routes.ts).

/** Socket payloads of this feature (declared in protocol/src/events.ts). */
export type { AlertAcknowledged, AlertRaised } from '@qms/protocol';
export { Alert };

const strict = { additionalProperties: false } as const;
const AlertReply = Type.Object({ alert: Alert });
const CriticismBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 500 })) }, strict);
const AlertParams = Type.Object({ alertId: Type.String({ format: 'uuid' }) }, strict);
const AlertListQuery = Type.Object({
  open: Type.Optional(Type.Enum(['0', '1', 'true', 'false'])),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1..999, default 100' })),
}, strict);

export async function alertRoutes(app: FastifyInstance, { db, queue }: { db: Db; queue: QueueService }) {
  const alerts = new AlertService(db, engineClock(queue));

  /**
   * Managers (and admins) watching the site see alerts live: realtime routes alert events to
   * rooms.managers(siteId), which kiosks, displays and officials never join.
   */
  const toManagers = (alert: AlertDto, name: 'alert:raised' | 'alert:acknowledged') =>
    app.realtime.publish([event(name, alert.siteId, { alert })]);

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
    const { comment } = request.body as { comment?: string };
    let alert: AlertDto;
    if (p.kind === 'device') {
      allow(p.device.kind === 'rating' || p.device.kind === 'kiosk', 'Only a rating tablet, a kiosk or staff send criticism');
      alert = await alerts.raiseCriticism({ kind: 'device', deviceId: p.device.id, siteId: p.device.siteId, counterId: p.device.counterId }, comment);
    } else {
      alert = await alerts.raiseCriticism({ kind: 'staff', staffId: p.user.id, siteIds: p.siteIds }, comment);
    }
    // stored first, then published (a console that missed the event lists it on its next load)
    toManagers(alert, 'alert:raised');
    return reply.code(201).send({ alert });
  });

  app.get('/sites/:siteId/alerts', {
    schema: { tags: ['alerts'], params: SiteParams, querystring: AlertListQuery, response: { 200: Type.Object({ alerts: Type.Array(Alert) }), ...errors } },
  }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const query = request.query as { open?: string; limit?: string };
    allow(managerOfSite(who(request), siteId), 'Only managers of this site see its alerts');
    const openOnly = query.open === '1' || query.open === 'true';
    return { alerts: await alerts.list(siteId, { openOnly, limit: Math.min(Number(query.limit ?? 100), 500) }) };
  });

  app.post('/alerts/:alertId/acknowledge', {
    schema: { tags: ['alerts'], params: AlertParams, response: { 200: AlertReply, ...errors } },
  }, async (request) => {
    const { alertId } = request.params as { alertId: string };
    const p = who(request);
    const siteId = await alerts.siteOf(alertId);
    allow(managerOfSite(p, siteId), 'Only managers of this site acknowledge its alerts');
    const { alert, changed } = await alerts.acknowledge(alertId, p.user.id);
    if (changed) toManagers(alert, 'alert:acknowledged');
    return { alert };
  });

  await app.register(counterDeskRoutes, { db, queue });
}
