import type { DomainEvent } from '../queue/queue.events.ts';

/** What a command returns: its result, and the facts to dispatch once it has committed. */
export interface Committed<V> {
  value: V;
  events: DomainEvent[];
}

type Dispatch = (events: readonly DomainEvent[]) => void;

/**
 * A service as routes and use cases see it: every command (a method resolving to something with
 * `events`) has its events dispatched when it resolves, that is after its transaction
 * committed, and resolves to the rest of its result. Reads pass through unchanged. So a route
 * makes its one call and replies; it never publishes.
 */
export type AfterCommit<S> = {
  [K in keyof S]: S[K] extends (...args: infer A) => Promise<infer R>
    ? R extends { value: unknown; events: readonly DomainEvent[] } ? (...args: A) => Promise<Omit<R, 'events'>> : S[K]
    : S[K];
};

/** `{ value, events }`: both keys, so a plain result that happens to have `events` (a webhook's) passes through */
const isCommitted = (result: unknown): result is { events: DomainEvent[] } =>
  typeof result === 'object' && result !== null && 'value' in result && Array.isArray((result as { events?: unknown }).events);

export function afterCommit<S extends object>(service: S, dispatch: Dispatch): AfterCommit<S> {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(service, {
    get(target, key) {
      const member: unknown = Reflect.get(target, key, target);
      if (typeof member !== 'function') return member;
      if (!wrapped.has(key)) {
        wrapped.set(key, (...args: unknown[]) => {
          const result: unknown = member.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then((resolved: unknown) => {
            if (!isCommitted(resolved)) return resolved;
            const { events, ...rest } = resolved;
            dispatch(events);
            return rest;
          });
        });
      }
      return wrapped.get(key);
    },
  }) as unknown as AfterCommit<S>;
}
