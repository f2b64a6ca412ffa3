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

export interface WaitEstimate {
  estimatedWaitSeconds: number;
  /** no counter serving the service is open or paused: nobody is being served yet */
  noCounterOpen: boolean;
}

/**
 * The estimate the screens show. While a counter serving the service is open or paused it is
 * estimateWait's. When none is, nobody is being served and the wait starts when service
 * resumes:
 * - the site is closed now (between two sessions, or before the first): the time until its
 *   next session starts (`opensAt`) comes first, then the queue as estimateWait counts it
 *   with the service's configured counters;
 * - the site is open: when an official will open a counter is unknown, so the estimate is the
 *   queue as if the configured counters opened now (estimateWait, unchanged), a lower bound.
 * Either way `noCounterOpen` says so, and screens write "No counter is serving yet" rather than
 * promise "< 1 min". Tickets are only issued while the site is open, so the estimate stored on
 * a ticket (the one reports measure) is always estimateWait's: this rule never changes it.
 */
export function waitEstimate(
  load: Pick<ServiceLoad, 'openCounters' | 'servingCounters' | 'counters' | 'recentServiceSeconds'>,
  peopleAhead: number, now: Date, opensAt: Date | null,
): WaitEstimate {
  const queue = estimateWait(load, peopleAhead);
  if (load.servingCounters > 0) return { estimatedWaitSeconds: queue, noCounterOpen: false };
  const untilOpening = opensAt && opensAt > now ? Math.round((opensAt.getTime() - now.getTime()) / 1000) : 0;
  return { estimatedWaitSeconds: untilOpening + queue, noCounterOpen: true };
}
