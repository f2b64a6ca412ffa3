import type { ServerEventName, ServerEventPayload, SiteUpdated } from '@qms/protocol';

/**
 * A fact the domain produced, to publish after its transaction commits. `counterId` narrows
 * the audience (rating:requested and rating:created go to that counter's devices only).
 */
export type PublishedEvent = {
  [E in ServerEventName]: { name: E; siteId: string; counterId?: string; payload: ServerEventPayload<E> };
}[ServerEventName];

/**
 * The waiting figures of these services changed. Not sent as such: the publisher computes
 * `queue:stats` after the commit, once per site for every change of the last few milliseconds
 * (see stats.publisher.ts), so that no transaction holds its locks while it counts queues and
 * no `ticket:called` waits for the counting.
 */
export interface StatsDue {
  name: 'queue:stats-due';
  siteId: string;
  serviceIds: string[];
  /** the engine's time of the change: the figures are counted as of then (waits run from it) */
  at: Date;
}

/**
 * Alerts a command raised (a low rating, a printer failing). Not sent as such: the alerts
 * subscriber describes them after the commit and sends `alert:raised` to the site's managers,
 * once, whichever of it and the site monitor's sweep gets to them first.
 */
export interface AlertsDue {
  name: 'alert:due';
  siteId: string;
  alertIds: string[];
}

export type DomainEvent = PublishedEvent | StatsDue | AlertsDue;

/** Whether an event goes out to sockets as it is (the others are for subscribers only). */
export const isPublished = (e: DomainEvent): e is PublishedEvent => e.name !== 'queue:stats-due' && e.name !== 'alert:due';

export function event<E extends ServerEventName>(
  name: E, siteId: string, payload: ServerEventPayload<E>, counterId?: string,
): PublishedEvent {
  return { name, siteId, payload, ...(counterId ? { counterId } : {}) } as PublishedEvent;
}

/** The site's screens fetch its configuration again (GET /sites/:siteId). */
export function siteUpdated(siteId: string, parts: SiteUpdated['parts']): PublishedEvent {
  return event('site:updated', siteId, { siteId, parts });
}

export function statsDue(siteId: string, serviceIds: string[], at: Date): StatsDue {
  return { name: 'queue:stats-due', siteId, serviceIds: [...new Set(serviceIds)], at };
}

export function alertsDue(siteId: string, alertIds: string[]): AlertsDue {
  return { name: 'alert:due', siteId, alertIds };
}
