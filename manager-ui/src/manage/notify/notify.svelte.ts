import type { ManagerSession } from '../session.svelte.ts';

// The notifications page's state: one site at a time, which tab, and the outcome of the latest
// action of each section (saved, sent, refused). Each tab loads its own data.

export type NotifyTab = 'channels' | 'templates' | 'leaders' | 'webhooks' | 'log' | 'settings';

export class NotifyState {
  siteId = $state('');
  tab = $state<NotifyTab>('channels');
  /** the latest action: which section, and how it went */
  outcome = $state<{ section: string; ok: boolean; error?: unknown; text?: string } | null>(null);

  constructor(readonly session: ManagerSession) {
    this.siteId = session.sites[0]?.id ?? '';
  }

  /** Another tab: what the last one said is no longer news. */
  show(tab: NotifyTab): void {
    this.tab = tab;
    this.outcome = null;
  }

  get client() {
    return this.session.client;
  }

  get timeZone(): string {
    return this.session.site(this.siteId)?.timezone ?? 'Asia/Ho_Chi_Minh';
  }

  /** Runs an action of a section and records how it went; returns its result, or undefined when refused. */
  async run<T>(section: string, action: () => Promise<T>, text?: string): Promise<T | undefined> {
    try {
      const result = await action();
      this.outcome = { section, ok: true, ...(text ? { text } : {}) };
      return result;
    } catch (error) {
      this.outcome = { section, ok: false, error };
      return undefined;
    }
  }
}
