import type { AuditEntry, AuditFilter } from '@qms/protocol';
import type { QmsClient } from '@qms/protocol/client';
import { addDays, localDay, rangeOfDays } from '../lib/dates.ts';
import { readDownload, saveFile } from '../lib/download.ts';
import type { ManagerSession } from '../session.svelte.ts';

// The audit page's state: the site (or, for administrators, the whole log), local days, who,
// which actions, free text; the entries shown, most recent first, a page at a time.

const PAGE = 50;
/** "every site and the entries of none": administrators only (GET /audit) */
export const ALL = '';

export class AuditView {
  siteId = $state('');
  first = $state('');
  last = $state('');
  actor = $state('');
  action = $state('');
  q = $state('');
  entries = $state<AuditEntry[]>([]);
  next = $state<string | undefined>(undefined);
  loading = $state(false);
  error = $state<unknown>(null);
  exporting = $state(false);
  /** the filter the entries shown were read with ("load more" goes on with it) */
  private shown: { siteId: string; filter: AuditFilter } | null = null;
  private loads = 0;

  constructor(private readonly session: ManagerSession) {
    this.siteId = session.sites[0]?.id ?? ALL;
    const today = localDay(new Date(), this.timeZone);
    this.first = addDays(today, -29);
    this.last = today;
  }

  private get client(): QmsClient {
    return this.session.client;
  }

  /** The zone of the days and times shown: the site's (the first site's for the whole log). */
  get timeZone(): string {
    return (this.session.site(this.siteId) ?? this.session.sites[0])?.timezone ?? 'Asia/Ho_Chi_Minh';
  }

  private range(): { from?: string; to?: string } {
    if (!this.first || !this.last) return {};
    return rangeOfDays(this.first, this.last, this.timeZone);
  }

  private filter(): AuditFilter {
    return {
      ...this.range(),
      ...(this.actor.trim() ? { actor: this.actor.trim() } : {}),
      ...(this.action ? { action: this.action } : {}),
      ...(this.q.trim() ? { q: this.q.trim() } : {}),
      limit: PAGE,
    };
  }

  /** The first page for the filter as it is now. */
  async load(): Promise<void> {
    const seq = ++this.loads;
    const asked = { siteId: this.siteId, filter: this.filter() };
    this.loading = true;
    this.error = null;
    try {
      const page = await this.client.audit(asked.siteId || null, asked.filter);
      if (seq !== this.loads) return;
      this.entries = page.entries;
      this.next = page.next;
      this.shown = asked;
    } catch (error) {
      if (seq === this.loads) this.error = error;
    } finally {
      if (seq === this.loads) this.loading = false;
    }
  }

  /** The page after the last entry shown, with the filter they were read with. */
  async more(): Promise<void> {
    if (!this.next || !this.shown) return;
    const seq = ++this.loads;
    const { siteId, filter } = this.shown;
    this.loading = true;
    this.error = null;
    try {
      const page = await this.client.audit(siteId || null, { ...filter, before: this.next });
      if (seq !== this.loads) return;
      this.entries = [...this.entries, ...page.entries];
      this.next = page.next;
    } catch (error) {
      if (seq === this.loads) this.error = error;
    } finally {
      if (seq === this.loads) this.loading = false;
    }
  }

  /** The days shown as a CSV file, as the reports export it (every entry of the range, oldest first). */
  async exportCsv(): Promise<void> {
    this.exporting = true;
    this.error = null;
    try {
      const range = this.range();
      if (!range.from || !range.to) return;
      const res = await this.client.download(this.client.reportUrl(this.siteId || null, 'audit.csv', { from: range.from, to: range.to }));
      const done = await readDownload(res, 'csv', () => {}, 'audit.csv');
      saveFile(done.blob, done.fileName);
    } catch (error) {
      this.error = error;
    } finally {
      this.exporting = false;
    }
  }

  siteName(siteId: string | undefined): string {
    return this.session.site(siteId)?.name ?? '';
  }
}
