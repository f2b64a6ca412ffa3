import type { ArrivalsHeatmap, DossierReport, ReportGroupBy, SatisfactionGroupBy, SatisfactionReport, SiteConfig, SummaryReport } from '@qms/protocol';
import type { PeriodQuery, QmsClient, ReportFile, SatisfactionFile } from '@qms/protocol/client';
import { addDays, localDay, rangeOfDays } from '../lib/dates.ts';
import { readDownload, saveFile, type Progress } from '../lib/download.ts';
import type { ManagerSession } from '../session.svelte.ts';

// The report screen's state: the chosen site (or every site), local days and grouping; the
// summary grouped as asked, the same range by hour (for the chart) and the arrivals heat map;
// downloads with their progress.

export type Preset = 'today' | 'yesterday' | 'week' | 'month' | 'lastMonth';

export interface DownloadState {
  file: ReportFile | SatisfactionFile;
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
  /** one site only: ratings and criticisms grouped as chosen, visits per dossier */
  satisfaction = $state<SatisfactionReport | null>(null);
  satisfactionGroupBy = $state<SatisfactionGroupBy>('staff');
  satisfactionLoading = $state(false);
  dossiers = $state<DossierReport | null>(null);
  /** the periodic export: a local month or quarter (last month by default) */
  periodKind = $state<'month' | 'quarter'>('month');
  periodYear = $state(2026);
  periodMonth = $state(1);
  periodQuarter = $state(1);
  /** what the shown figures are for (the inputs may have changed since) */
  shown = $state<{ siteId: string | null; first: string; last: string; groupBy: ReportGroupBy } | null>(null);

  /** requests made by load(), so that only the latest one's answer is shown */
  private loads = 0;

  /** language of the XLSX headers: the screen's */
  lang: 'vi' | 'en' = 'vi';

  constructor(private readonly session: ManagerSession) {
    this.siteId = session.sites.length === 1 ? session.sites[0]!.id : session.sites[0]?.id ?? null;
    this.preset('today');
    const lastMonth = addDays(`${localDay(new Date(), this.timezone).slice(0, 8)}01`, -1);
    this.periodYear = Number(lastMonth.slice(0, 4));
    this.periodMonth = Number(lastMonth.slice(5, 7));
    this.periodQuarter = Math.ceil(this.periodMonth / 3);
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
      const [report, byHour, arrivals, config, satisfaction, dossiers] = await Promise.all([
        this.client.summary(asked.siteId, { ...range, groupBy: asked.groupBy }),
        asked.groupBy === 'hour' ? null : this.client.summary(asked.siteId, { ...range, groupBy: 'hour' }),
        this.client.arrivals(asked.siteId, range),
        this.client.site(asked.siteId ?? this.session.sites[0]!.id).catch(() => null),
        // satisfaction and dossiers are one site's figures
        asked.siteId ? this.client.satisfaction(asked.siteId, { ...range, groupBy: this.satisfactionGroupBy }) : null,
        asked.siteId ? this.client.dossiers(asked.siteId, range) : null,
      ]);
      if (seq !== this.loads) return;
      this.satisfaction = satisfaction;
      this.dossiers = dossiers;
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

  /** The satisfaction table again, grouped another way (same site and days as shown). */
  async regroupSatisfaction(groupBy: SatisfactionGroupBy): Promise<void> {
    this.satisfactionGroupBy = groupBy;
    const shown = this.shown;
    if (!shown?.siteId) return;
    const seq = this.loads;
    this.satisfactionLoading = true;
    try {
      const report = await this.client.satisfaction(shown.siteId, { ...rangeOfDays(shown.first, shown.last, this.timezone), groupBy });
      if (seq === this.loads && this.satisfactionGroupBy === groupBy) this.satisfaction = report;
    } catch (error) {
      if (seq === this.loads) this.error = error;
    } finally {
      this.satisfactionLoading = false;
    }
  }

  /** The period chosen for the periodic export. */
  period(): PeriodQuery {
    return this.periodKind === 'month'
      ? { period: 'month', year: this.periodYear, month: this.periodMonth }
      : { period: 'quarter', year: this.periodYear, quarter: this.periodQuarter };
  }

  /** Streams a file from the server, counting rows as they come, then saves it. */
  async download(file: ReportFile | SatisfactionFile): Promise<DownloadState> {
    const abort = new AbortController();
    const state = $state<DownloadState>({ file, status: 'running', progress: { bytes: 0, rows: 0, totalRows: null }, abort });
    this.downloads = [state, ...this.downloads.filter((d) => d.file !== file)];
    try {
      // the summary files follow the grouping on screen; the tickets files have none; the
      // satisfaction files are the chosen month or quarter of the chosen site
      const url = file === 'satisfaction.xlsx' || file === 'satisfaction.csv'
        ? this.client.satisfactionUrl(this.siteId!, file, this.period(), { lang: this.lang, ...(file === 'satisfaction.csv' ? { groupBy: this.satisfactionGroupBy } : {}) })
        : this.client.reportUrl(this.siteId, file, { ...this.range(), ...(file.startsWith('summary') ? { groupBy: this.groupBy } : {}), lang: this.lang });
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
