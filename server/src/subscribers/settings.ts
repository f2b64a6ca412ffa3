import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';

/**
 * A site's configuration changed through the API (`site:updated`): its kiosks' next issue reads
 * the site's settings again (queue/site-settings.cache.ts). First in the list, so nothing a
 * screen does on hearing of the change can meet the settings from before it.
 */
export function settingsSubscriber(app: FastifyInstance): Subscriber {
  const { queue } = app.services;
  return {
    name: 'settings',
    handle(events) {
      for (const e of events) if (e.name === 'site:updated') queue.forgetSettings(e.siteId);
    },
  };
}
