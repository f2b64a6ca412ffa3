import type { ArrivalsHeatmap, ReportGroupBy, SiteConfig, SummaryReport } from '@qms/protocol';
import type { QmsClient, ReportFile } from '@qms/protocol/client';
import { addDays, localDay, rangeOfDays } from '../lib/dates.ts';
import { readDownload, saveFile, type Progress } from '../lib/download.ts';
import type { ManagerSession } from '../session.svelte.ts';

// The report screen's state: the chosen site (or every site), local days and grouping; the
// summary grouped as asked, the same range by hour (for the chart) and the arrivals heat map;
// downloads with their progress.

export type Preset = 'today' | 'yesterday' | 'week' | 'month' | 'lastMonth';

export interface DownloadState {
  file: ReportFile;
  status: 'running' | 'done' | 'failed';
  progress: Progress;
  fileName?: string;
  error?: unknown;
  abort: AbortController;
}

export class ReportView {
  /** null: every site the manager manages */
  siteId = $state<string | null>(null);
  first = $state('');
  last = $state('');
  groupBy = $state<ReportGroupBy>('service');
  report = $state<SummaryReport | null>(null);
  byHour = $state<SummaryReport | null>(null);
  arrivals = $state<ArrivalsHeatmap | null>(null);
  /** rating labels and names of the shown site (the first site's for every site) */
  config = $state<SiteConfig | null>(null);
  loading = $state(false);
  error = $state<unknown>(null);
  downloads = $state<DownloadState[]>([]);
  /** what the shown figures are for (the inputs may have changed since) */
  shown = $state<{ siteId: string | null; first: string; last: string; groupBy: ReportGroupBy } | null>(null);

  /** requests made by load(), so that only the latest one's answer is shown */
  private loads = 0;

  /** language of the XLSX headers: the screen's */
  lang: 'vi' | 'en' = 'vi';

  constructor(private readonly session: ManagerSession) {
    this.siteId = session.sites.length === 1 ? session.sites[0]!.id : session.sites[0]?.id ?? null;
    this.preset('today');
  }

  private get client(): QmsClient {
    return this.session.client;
  }

  get timezone(): string {
    return this.session.site(this.siteId)?.timezone ?? this.session.sites[0]?.timezone ?? 'Asia/Ho_Chi_Minh';
  }

  preset(p: Preset): void {
    const today = localDay(new Date(), this.timezone);
    const monthStart = `${today.slice(0, 8)}01`;
    switch (p) {
      case 'today': this.first = today; this.last = today; break;
      case 'yesterday': this.first = addDays(today, -1); this.last = this.first; break;
      case 'week': this.first = addDays(today, -6); this.last = today; break;
      case 'month': this.first = monthStart; this.last = today; break;
      case 'lastMonth': {
        const end = addDays(monthStart, -1);
        this.first = `${end.slice(0, 8)}01`;
        this.last = end;
        break;
      }
    }
  }

  range() {
    return rangeOfDays(this.first, this.last, this.timezone);
  }

  /**
   * Loads the figures for the inputs as they are now. The inputs may change while the answer
   * is on its way (a manager types a day while the page's first report loads): the figures are
   * labelled with what was asked, and an answer overtaken by a later request is dropped.
   */
  async load(): Promise<void> {
    if (!this.first || !this.last) return;
    const seq = ++this.loads;
    const asked = { siteId: this.siteId, first: this.first, last: this.last, groupBy: this.groupBy };
    this.loading = true;
    this.error = null;
    const range = this.range();
    try {
      const [report, byHour, arrivals, config] = await Promise.all([
        this.client.summary(asked.siteId, { ...range, groupBy: asked.groupBy }),
        asked.groupBy === 'hour' ? null : this.client.summary(asked.siteId, { ...range, groupBy: 'hour' }),
        this.client.arrivals(asked.siteId, range),
        this.client.site(asked.siteId ?? this.session.sites[0]!.id).catch(() => null),
      ]);
      if (seq !== this.loads) return;
      this.report = report;
      this.byHour = byHour ?? report;
      this.arrivals = arrivals;
      this.config = config;
      this.shown = asked;
    } catch (error) {
      if (seq === this.loads) this.error = error;
    } finally {
      if (seq === this.loads) this.loading = false;
    }
  }

  /** Streams a file from the server, counting rows as they come, then saves it. */
  async download(file: ReportFile): Promise<DownloadState> {
    const abort = new AbortController();
    const state = $state<DownloadState>({ file, status: 'running', progress: { bytes: 0, rows: 0, totalRows: null }, abort });
    this.downloads = [state, ...this.downloads.filter((d) => d.file !== file)];
    try {
      // the summary files follow the grouping on screen; the tickets files have none
      const url = this.client.reportUrl(this.siteId, file, { ...this.range(), ...(file.startsWith('summary') ? { groupBy: this.groupBy } : {}), lang: this.lang });
      const res = await this.client.download(url, abort.signal);
      const kind = file.endsWith('.csv') ? 'csv' : 'xlsx';
      const done = await readDownload(res, kind, (p) => (state.progress = p), file);
      state.progress = done.progress;
      state.fileName = done.fileName;
      saveFile(done.blob, done.fileName);
      state.status = 'done';
    } catch (error) {
      state.error = error;
      state.status = 'failed';
    }
    return state;
  }

  siteName(siteId: string | undefined): string {
    return this.session.site(siteId)?.name ?? '';
  }
}
