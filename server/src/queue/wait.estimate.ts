import type { ServiceLoad } from './queue.repository.ts';

/** Used until a service has served someone in the last two weeks. */
export const DEFAULT_SERVICE_SECONDS = 300;

/**
 * Seconds until a ticket with `peopleAhead` before it is called: the people ahead share the
 * counters open for the service, each taking the service's recent mean service time. Before
 * any counter opens we assume the configured ones will. The estimate is stored on each ticket
 * so reports can measure its error against the real wait.
 */
export function estimateWait(load: Pick<ServiceLoad, 'openCounters' | 'counters' | 'recentServiceSeconds'>, peopleAhead: number): number {
  const perTicket = load.recentServiceSeconds ?? DEFAULT_SERVICE_SECONDS;
  const counters = Math.max(1, load.openCounters || load.counters);
  return Math.round((peopleAhead * perTicket) / counters);
}
