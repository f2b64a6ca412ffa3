import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';
import { isPublished } from '../queue/queue.events.ts';

/** Events to the sockets of their rooms (realtime/realtime.plugin.ts knows the rooms). */
export function realtimeSubscriber(app: FastifyInstance): Subscriber {
  return {
    name: 'realtime',
    handle(events) {
      for (const e of events) {
        if (isPublished(e)) app.realtime.send(e);
        // the figures are sent later (subscribers/stats.ts), but the site's snapshot is stale now
        else if (e.name === 'queue:stats-due') app.realtime.siteChanged(e.siteId);
      }
    },
  };
}
