import type { ServerEventName, ServerEventPayload } from '@qms/protocol';

/**
 * A fact the domain produced, to publish after its transaction commits. `counterId` narrows
 * the audience (rating:requested goes to that counter's devices only).
 */
export type DomainEvent = {
  [E in ServerEventName]: { name: E; siteId: string; counterId?: string; payload: ServerEventPayload<E> };
}[ServerEventName];

export function event<E extends ServerEventName>(
  name: E, siteId: string, payload: ServerEventPayload<E>, counterId?: string,
): DomainEvent {
  return { name, siteId, payload, ...(counterId ? { counterId } : {}) } as DomainEvent;
}
