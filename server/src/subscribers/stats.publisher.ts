import type { ServiceQueue } from '@qms/protocol';

export interface StatsPublisherOptions {
  /** counts the waiting figures of these services of the site as of `at` (after the commits that changed them) */
  compute: (siteId: string, serviceIds: string[], at: Date) => Promise<ServiceQueue[]>;
  /** sends `queue:stats` to the site */
  emit: (siteId: string, services: ServiceQueue[]) => void;
  /** how long changes of one site are gathered before they are counted */
  delayMs?: number;
  onError?: (error: unknown, siteId: string) => void;
}

/**
 * `queue:stats` after the commit, coalesced per site. Every ticket move marks its services;
 * a few milliseconds later (or as soon as the site's previous count is done) the marked
 * services of the site are counted in one query and sent in one event. At most one count per
 * site runs at a time, so a burst of calls costs one or two counts rather than one each, and
 * no transaction waits for them.
 */
export class StatsPublisher {
  private readonly pending = new Map<string, { serviceIds: Set<string>; at: Date }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly delayMs: number;
  private closed = false;

  constructor(private readonly options: StatsPublisherOptions) {
    this.delayMs = options.delayMs ?? 10;
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
    await Promise.all(this.running.values());
  }

  private schedule(siteId: string): void {
    this.timers.set(siteId, setTimeout(() => {
      this.timers.delete(siteId);
      const run = this.flush(siteId);
      this.running.set(siteId, run);
      void run.finally(() => {
        this.running.delete(siteId);
        if (this.pending.has(siteId) && !this.closed) this.schedule(siteId);
      });
    }, this.delayMs));
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
