import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';

/** Tickets, ratings and alerts write the outbox in their own transaction; once committed, the worker is woken to relay and deliver them without waiting for its poll. */
const WAKE_AFTER_MS = 100;

export function notificationsSubscriber(app: FastifyInstance): Subscriber {
  const worker = app.services.notificationWorker;
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'notifications',
    handle() {
      // a tenth of a second later, once for a burst: the call's own reply and socket events go first,
      // and the relay takes the burst's facts in one transaction
      timer ??= setTimeout(() => {
        timer = undefined;
        worker.wake();
      }, WAKE_AFTER_MS);
    },
    async close() {
      clearTimeout(timer);
    },
  };
}
