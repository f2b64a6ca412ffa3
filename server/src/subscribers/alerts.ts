import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';
import { event } from '../queue/queue.events.ts';

/**
 * Alerts a command raised reach the site's managers at once: described after the commit and
 * sent as `alert:raised`. Each is claimed first (marked published in the same statement), so
 * the site monitor's sweep, which publishes what nothing else did, never sends it twice.
 */
export function alertsSubscriber(app: FastifyInstance): Subscriber {
  const { alerts } = app.services;
  return {
    name: 'alerts',
    handle(events) {
      const ids = events.flatMap((e) => (e.name === 'alert:due' ? e.alertIds : []));
      if (!ids.length) return;
      void alerts.claimForPublishing(ids).then(
        (claimed) => app.events.dispatch(claimed.map((alert) => event('alert:raised', alert.siteId, { alert }))),
        (error: unknown) => app.log.warn({ err: error }, 'alerts not published now; the site monitor sends them'),
      );
    },
  };
}
