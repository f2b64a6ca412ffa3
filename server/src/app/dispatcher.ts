import type { FastifyBaseLogger } from 'fastify';
import type { DomainEvent } from '../queue/queue.events.ts';

/**
 * A reaction to committed events: sockets of the rooms, queue statistics, alerts, metrics, and
 * later notifications and webhooks. One file in subscribers/ and one line in subscribers/index.ts.
 */
export interface Subscriber {
  readonly name: string;
  /**
   * Called once per commit, in commit order, synchronously: the realtime subscriber relies on
   * it to send a site's events in the order they happened. Work that takes longer (a query, a
   * request to another system) is started here and is the subscriber's own to finish or log.
   */
  handle(events: readonly DomainEvent[]): void;
  /** on shutdown: finish or drop what is under way */
  close?(): Promise<void>;
}

/**
 * Hands the events of every committed command to every subscriber. Commands never publish
 * themselves: they return `{ value, events }`, and the application layer (app/after-commit.ts)
 * dispatches the events once the transaction has committed. A subscriber that throws is
 * logged and the others still run: the change is committed whatever a reaction does.
 */
export class EventDispatcher {
  private readonly subscribers: Subscriber[] = [];

  constructor(private readonly log: FastifyBaseLogger) {}

  subscribe(subscriber: Subscriber): void {
    this.subscribers.push(subscriber);
  }

  dispatch(events: readonly DomainEvent[]): void {
    if (!events.length) return;
    for (const subscriber of this.subscribers) {
      try {
        subscriber.handle(events);
      } catch (error) {
        this.log.warn({ err: error, subscriber: subscriber.name }, 'a subscriber failed on committed events');
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.close?.()));
  }
}
