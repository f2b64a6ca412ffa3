import type { Alert, CounterRef, SiteConfig, Ticket } from '@qms/protocol';
import type { QmsClient } from '@qms/protocol/client';
import { LiveQueue } from '@qms/ui-shared/live-queue';
import type { SiteSummary } from '../session.svelte.ts';

// The live monitor: one socket per site the manager watches (client.connect({siteId})), each
// kept by a LiveQueue (snapshot on every reconnect, events in between), plus what the monitor
// adds: the latest tickets issued and called, the site's configuration (names and targets,
// fetched again on `site:updated` and on reconnect) and the alerts of every site in one stream.

export interface Activity {
  key: string;
  kind: 'issued' | 'called';
  ticket: Ticket;
  counter?: CounterRef;
  /** Date.now() when it arrived */
  at: number;
}

const ACTIVITY_LIMIT = 12;

export class SiteWatch {
  readonly live: LiveQueue;
  config = $state<SiteConfig | null>(null);
  activity = $state<Activity[]>([]);
  /** serviceId → Date.now() of its latest figures, so the longest wait can keep counting */
  figuresAt = $state<Record<string, number>>({});

  constructor(readonly site: SiteSummary, private readonly client: QmsClient, monitor: Monitor) {
    const socket = client.connect({ siteId: site.id });
    this.live = new LiveQueue(socket, 8);
    const stamp = (ids: string[]) => {
      const now = Date.now();
      const next = { ...this.figuresAt };
      for (const id of ids) next[id] = now;
      this.figuresAt = next;
    };
    socket.on('connect', () => void this.loadConfig());
    // the server closes a socket whose session ended; its retry is then refused
    socket.on('connect_error', (error) => {
      if (error.message === 'UNAUTHENTICATED') monitor.sessionEnded();
    });
    socket.on('queue:snapshot', (s) => {
      stamp(s.services.map((x) => x.serviceId));
      // a fresh screen starts with the latest calls of the day
      if (!this.activity.length) {
        this.activity = s.recentCalls.slice(0, ACTIVITY_LIMIT).map((c) => ({
          key: `c${c.ticket.id}${c.at}`, kind: 'called' as const, ticket: c.ticket, counter: c.counter, at: Date.parse(c.at),
        }));
      }
    });
    socket.on('queue:stats', ({ services }) => stamp(services.map((x) => x.serviceId)));
    socket.on('ticket:issued', ({ ticket }) => this.push({ key: `i${ticket.id}`, kind: 'issued', ticket, at: Date.now() }));
    socket.on('ticket:called', ({ ticket, counter, recall }) => {
      if (!recall) this.push({ key: `c${ticket.id}${ticket.calledAt ?? ''}`, kind: 'called', ticket, counter, at: Date.now() });
    });
    socket.on('alert:raised', ({ alert }) => monitor.upsert(alert));
    socket.on('alert:acknowledged', ({ alert }) => monitor.upsert(alert));
    socket.on('site:updated', () => {
      void this.loadConfig();
      void this.reloadQueue();
    });
  }

  get connection() {
    return this.live.connection;
  }

  serviceName(serviceId: string, lang: 'vi' | 'en'): string {
    const s = this.config?.services.find((x) => x.id === serviceId);
    return s ? (lang === 'vi' ? s.name.vi : s.name.en || s.name.vi) : '…';
  }

  /** Longest wait now: the server's figure plus the time since it came (while anyone waits). */
  longestWait(serviceId: string, now: number): number {
    const s = this.live.service(serviceId);
    if (!s || s.waiting === 0) return 0;
    const since = this.figuresAt[serviceId];
    return s.longestWaitSeconds + (since ? Math.max(0, now - since) / 1000 : 0);
  }

  private configLoading: Promise<void> | null = null;
  private configStale = false;

  /**
   * Reads the site's configuration, one read at a time: asked again during a read, it reads once
   * more after it (that read may predate the change). A failed read is tried again by the next
   * event or reconnect.
   */
  loadConfig(): Promise<void> {
    if (this.configLoading) {
      this.configStale = true;
      return this.configLoading;
    }
    this.configLoading = this.client.site(this.site.id)
      .then((config) => { this.config = config; }, () => {})
      .finally(() => {
        this.configLoading = null;
        if (this.configStale) {
          this.configStale = false;
          void this.loadConfig();
        }
      });
    return this.configLoading;
  }

  private async reloadQueue(): Promise<void> {
    try {
      const snapshot = await this.client.queue(this.site.id);
      this.live.snapshot = snapshot;
      const now = Date.now();
      this.figuresAt = Object.fromEntries(snapshot.services.map((s) => [s.serviceId, now]));
    } catch {
      // stays as it was; the next event or reconnect corrects it
    }
  }

  private push(item: Activity) {
    // a service the console does not know yet (config still loading, failed, or just added): read it again
    if (!this.config?.services.some((x) => x.id === item.ticket.serviceId)) void this.loadConfig();
    this.activity = [item, ...this.activity.filter((a) => a.key !== item.key)].slice(0, ACTIVITY_LIMIT);
  }

  close(): void {
    this.live.close();
  }
}

export type WaitLevel = 'ok' | 'near' | 'over';

/** Past the target is red (an alert is raised then); from three quarters of it, amber. */
export function waitLevel(seconds: number, target: number): WaitLevel {
  if (target <= 0 || seconds <= 0) return 'ok';
  if (seconds > target) return 'over';
  return seconds >= target * 0.75 ? 'near' : 'ok';
}

export class Monitor {
  watches = $state<SiteWatch[]>([]);
  /** every site's alerts, newest first */
  alerts = $state<Alert[]>([]);
  /** ticks every second: elapsed times on screen count by themselves */
  now = $state(Date.now());
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly client: QmsClient, readonly sessionEnded: () => void = () => {}) {}

  start(sites: SiteSummary[]): void {
    this.watches = sites.map((site) => new SiteWatch(site, this.client, this));
    this.timer = setInterval(() => (this.now = Date.now()), 1000);
    void this.loadAlerts();
  }

  async loadAlerts(): Promise<void> {
    const lists = await Promise.all(this.watches.map((w) => this.client.alerts(w.site.id, { limit: 50 }).catch(() => [] as Alert[])));
    for (const alert of lists.flat()) this.upsert(alert);
  }

  upsert(alert: Alert): void {
    const rest = this.alerts.filter((a) => a.id !== alert.id);
    this.alerts = [alert, ...rest].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  }

  get openAlerts(): Alert[] {
    return this.alerts.filter((a) => !a.acknowledgedAt);
  }

  async acknowledge(alert: Alert): Promise<void> {
    this.upsert(await this.client.acknowledgeAlert(alert.id));
  }

  /** A complaint's case: owner, status, note (kept in its history by the server). */
  async updateCase(alert: Alert, change: { status?: 'new' | 'investigating' | 'resolved'; ownerId?: string | null; note?: string }): Promise<void> {
    this.upsert(await this.client.updateCase(alert.id, change));
  }

  siteName(siteId: string): string {
    return this.watches.find((w) => w.site.id === siteId)?.site.name ?? '';
  }

  destroy(): void {
    clearInterval(this.timer);
    for (const w of this.watches) w.close();
    this.watches = [];
  }
}
