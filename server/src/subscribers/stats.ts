import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';
import { event } from '../queue/queue.events.ts';
import { StatsPublisher } from './stats.publisher.ts';

/**
 * `queue:stats` for the services a commit changed: counted after the commit, coalesced per
 * site (stats.publisher.ts), then dispatched like any other event.
 */
export function statsSubscriber(app: FastifyInstance): Subscriber {
  const { queue } = app.services;
  const stats = new StatsPublisher({
    compute: (siteId, serviceIds, at) => queue.serviceStats(siteId, serviceIds, at),
    emit: (siteId, services) => app.events.dispatch([event('queue:stats', siteId, { siteId, services })]),
    onError: (error, siteId) => app.log.warn({ err: error, siteId }, 'queue:stats not sent'),
  });
  return {
    name: 'stats',
    handle(events) {
      for (const e of events) if (e.name === 'queue:stats-due') stats.mark(e.siteId, e.serviceIds, e.at);
    },
    close: () => stats.close(),
  };
}
