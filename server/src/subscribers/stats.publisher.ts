import type { ServiceQueue } from '@qms/protocol';

export interface StatsPublisherOptions {
  /** counts the waiting figures of these services of the site as of `at` (after the commits that changed them) */
  compute: (siteId: string, serviceIds: string[], at: Date) => Promise<ServiceQueue[]>;
  /** sends `queue:stats` to the site */
  emit: (siteId: string, services: ServiceQueue[]) => void;
  /** how long changes of one site are gathered before they are counted */
  delayMs?: number;
  /** a site's counts start at least this far apart (ms): a busy site is counted about ten times a second, not once per change */
  minIntervalMs?: number;
  onError?: (error: unknown, siteId: string) => void;
}

/**
 * `queue:stats` after the commit, coalesced per site. Every ticket move marks its services;
 * a few milliseconds later (or as soon as the site's previous count is done) the marked
 * services of the site are counted in one query and sent in one event. At most one count per
 * site runs at a time, and a site's counts start at least minIntervalMs apart, so a burst of
 * calls costs one or two counts rather than one each, a site busy all morning about ten a
 * second, and no transaction waits for them. A change after a quiet spell is counted after
 * delayMs.
 */
export class StatsPublisher {
  private readonly pending = new Map<string, { serviceIds: Set<string>; at: Date }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly lastStart = new Map<string, number>();
  private readonly delayMs: number;
  private readonly minIntervalMs: number;
  private closed = false;

  constructor(private readonly options: StatsPublisherOptions) {
    this.delayMs = options.delayMs ?? 10;
    this.minIntervalMs = options.minIntervalMs ?? 100;
  }

  /** These services of the site changed at `at` (the engine's time of the change). */
  mark(siteId: string, serviceIds: string[], at: Date): void {
    if (this.closed || !serviceIds.length) return;
    let wanted = this.pending.get(siteId);
    if (!wanted) this.pending.set(siteId, (wanted = { serviceIds: new Set(), at }));
    for (const id of serviceIds) wanted.serviceIds.add(id);
    if (at > wanted.at) wanted.at = at;
    if (!this.timers.has(siteId) && !this.running.has(siteId)) this.schedule(siteId);
  }

  /** Counts still pending are dropped; a count under way is waited for. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
    this.lastStart.clear();
    await Promise.all(this.running.values());
  }

  private schedule(siteId: string): void {
    const since = Date.now() - (this.lastStart.get(siteId) ?? -Infinity);
    this.timers.set(siteId, setTimeout(() => {
      this.timers.delete(siteId);
      this.lastStart.set(siteId, Date.now());
      const run = this.flush(siteId);
      this.running.set(siteId, run);
      void run.finally(() => {
        this.running.delete(siteId);
        if (this.pending.has(siteId) && !this.closed) this.schedule(siteId);
      });
    }, Math.max(this.delayMs, this.minIntervalMs - since)));
  }

  private async flush(siteId: string): Promise<void> {
    const wanted = this.pending.get(siteId);
    this.pending.delete(siteId);
    if (!wanted?.serviceIds.size) return;
    try {
      const services = await this.options.compute(siteId, [...wanted.serviceIds], wanted.at);
      if (!this.closed && services.length) this.options.emit(siteId, services);
    } catch (error) {
      this.options.onError?.(error, siteId);
    }
  }
}
