import type { ServerEventName, ServerEventPayload } from '@qms/protocol';

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

export type DomainEvent = PublishedEvent | StatsDue;

export function event<E extends ServerEventName>(
  name: E, siteId: string, payload: ServerEventPayload<E>, counterId?: string,
): PublishedEvent {
  return { name, siteId, payload, ...(counterId ? { counterId } : {}) } as PublishedEvent;
}

export function statsDue(siteId: string, serviceIds: string[], at: Date): StatsDue {
  return { name: 'queue:stats-due', siteId, serviceIds: [...new Set(serviceIds)], at };
}
