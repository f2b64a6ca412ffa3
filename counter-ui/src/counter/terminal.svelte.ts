import type { Counter, CounterQueue, ServiceConfig, ServiceQueue, SiteConfig, Ticket, TodayFigures, WaitingTicket } from '@qms/protocol';
import { allows, isAtCounter } from '@qms/protocol/lifecycle';
import { LiveQueue } from '@qms/ui-shared/live-queue';
import { explainText, type ErrorContext } from '../lib/errors.ts';
import { safeGet, safeSet } from '@qms/ui-shared/lang';
import type { StaffSession } from './session.svelte.ts';
import type { Action } from './shortcuts.ts';
import { TicketVisit } from './visit.svelte.ts';
import { WalkIn } from './walk-in.svelte.ts';

// The counter terminal's state: the site, the counter this browser works, its current ticket,
// the waiting figures and list, and today's own figures. HTTP commands change the server; the
// socket brings every change back (to this browser and to any other one on the same counter),
// and each reconnect starts from a fresh snapshot.

const COUNTER_KEY = 'qms.counter.counterId';
const NOTICE_MS = 9000;

export type Text = { vi: string; en: string };
export interface Notice {
  kind: 'error' | 'info' | 'ok';
  text: Text;
  id: number;
}
export type Dialog = 'pause' | 'transfer' | 'pick' | 'procedures' | 'walkIn' | null;

export const PAUSE_REASONS: Text[] = [
  { vi: 'Nghỉ giải lao', en: 'Break' },
  { vi: 'Họp', en: 'Meeting' },
  { vi: 'Hỗ trợ công dân ngoài quầy', en: 'Helping a citizen away from the desk' },
  { vi: 'Xử lý hồ sơ', en: 'Processing files' },
  { vi: 'Sự cố kỹ thuật', en: 'Technical problem' },
];

export class CounterTerminal {
  site = $state<SiteConfig | null>(null);
  counterId = $state<string | null>(null);
  counter = $state<Counter | null>(null);
  #ticket = $state<Ticket | null>(null);
  /**
   * The ticket this counter finished last, while nobody else is at the desk: its dossier codes
   * and procedures may still be recorded (a receipt scanned just after F4), until the next call.
   */
  justDone = $state<Ticket | null>(null);
  waiting = $state<WaitingTicket[]>([]);
  waitingTotal = $state(0);
  today = $state<TodayFigures | null>(null);
  busy = $state<Action | 'open' | 'close' | 'load' | null>(null);
  /** a key pressed while `busy`, done once the running command succeeded */
  private typedAhead: Action | null = null;
  notice = $state<Notice | null>(null);
  dialog = $state<Dialog>(null);
  /** the procedure picker: replacing this procedure (its code), or adding one (null) */
  replacing = $state<string | null>(null);
  /** the walk-in number being issued (dialog 'walkIn') */
  walkIn = $state<WalkIn | null>(null);
  /** the procedures and dossier codes of the ticket at the counter */
  readonly visit: TicketVisit;
  /** ticks every second, for elapsed and waiting times */
  now = $state(Date.now());
  readonly live: LiveQueue;

  /** server clock minus this browser's, from the last snapshot */
  private skewMs = 0;
  private waitingFetchedAt = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private pending = new Map<string, ReturnType<typeof setTimeout>>();
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeSeq = 0;

  constructor(private readonly session: StaffSession, readonly siteId: string) {
    const socket = session.client.connect({ siteId });
    this.live = new LiveQueue(socket);
    this.visit = new TicketVisit(session.client, (error) => this.fail(error, { ticketCode: this.visitTicket?.code, counterNumber: this.counter?.number }));
    // the client's socket retries server-side closes and refused handshakes itself
    socket.on('connect_error', (error) => {
      // the session ended, or the official no longer belongs to this centre: sign in again
      if (error.message === 'UNAUTHENTICATED' || error.message === 'SITE_REQUIRED') return session.forget();
    });
    socket.on('queue:snapshot', (snapshot) => {
      this.skewMs = Date.parse(snapshot.at) - Date.now();
      const mine = snapshot.counters.find((c) => c.counterId === this.counterId);
      if (mine) this.#ticket = mine.ticket ?? null;
      // procedures and dossiers recorded while offline (or from the official's other browser)
      if (this.#ticket) this.justDone = null;
      this.visit.follow(this.visitTicket, true);
      // whatever happened while offline: read it all again
      if (this.counterId) void this.refreshCounter();
      this.later('waiting', () => this.refreshWaiting(), 50);
      this.later('today', () => this.refreshToday(), 50);
    });
    socket.on('ticket:called', ({ ticket, counter }) => {
      if (counter.id === this.counterId) this.ticket = ticket;
      this.dropWaiting(ticket.id);
      this.waitingChanged(ticket.serviceId);
    });
    socket.on('ticket:updated', ({ ticket }) => {
      if (this.ticket?.id === ticket.id) {
        const here = isAtCounter(ticket.status) && ticket.counterId === this.counterId;
        if (!here) this.finished(ticket);
        this.ticket = here ? ticket : null;
      }
      if (ticket.counterId === this.counterId && (ticket.status === 'done' || ticket.status === 'no_show')) {
        this.later('today', () => this.refreshToday(), 300);
      }
      this.waitingChanged(ticket.serviceId, true);
    });
    socket.on('ticket:issued', ({ ticket }) => this.waitingChanged(ticket.serviceId));
    // a manager renamed or closed a service or counter, or changed what a counter serves
    socket.on('site:updated', ({ parts }) => {
      if (parts.some((p) => p === 'site' || p === 'services' || p === 'counters' || p === 'priority' || p === 'hours')) {
        this.later('site', () => this.reloadSite(), 50);
      }
      // a manager changed an official's name or photo
      if (parts.includes('staff') && this.counterId) {
        this.later('staff', async () => void (await Promise.all([this.refreshCounter(), this.refreshToday()])), 50);
      }
    });
    socket.on('counter:updated', ({ counter }) => {
      if (counter.id === this.counterId) this.counter = counter;
    });

    this.timers.push(setInterval(() => (this.now = Date.now()), 1000));
    // safety nets: ratings raise no event, and a missed event must not leave a list stale
    this.timers.push(setInterval(() => void this.refreshToday(), 60_000));
    this.timers.push(setInterval(() => void this.refreshWaiting(), 30_000));

    const remembered = safeGet(COUNTER_KEY);
    if (remembered) this.counterId = remembered;
  }

  async start(): Promise<void> {
    this.busy = 'load';
    try {
      this.site = await this.session.client.site(this.siteId);
      if (this.counterId && !this.site.counters.some((c) => c.id === this.counterId)) this.counterId = null;
      // an official already working a counter of this site goes straight back to it
      const working = (await this.session.client.queue(this.siteId)).counters
        .find((c) => c.staff?.id === this.session.user?.id && c.status !== 'closed');
      if (working) this.choose(working.counterId);
      else if (this.counterId) this.choose(this.counterId);
    } catch (error) {
      this.typedAhead = null;
      this.fail(error);
    } finally {
      this.busy = null;
      this.performPending();
    }
  }

  /** The site's configuration again, in place: the ticket at the counter and the lists stay. */
  private async reloadSite(): Promise<void> {
    try {
      const site = await this.session.client.site(this.siteId);
      this.site = site;
      // the counter this browser works was closed by a manager: back to choosing one
      if (this.counterId && !site.counters.some((c) => c.id === this.counterId) && !this.ticket) this.counterId = null;
      this.later('waiting', () => this.refreshWaiting(), 50);
    } catch {
      // the next change or reconnect reads it again
    }
  }

  destroy(): void {
    for (const t of this.timers) clearInterval(t);
    for (const t of this.pending.values()) clearTimeout(t);
    clearTimeout(this.noticeTimer);
    this.live.close();
  }

  // ---- reading -----------------------------------------------------------------------------

  /** the ticket called to or served at this counter; its visit (procedures, dossiers) follows it */
  get ticket(): Ticket | null {
    return this.#ticket;
  }

  set ticket(ticket: Ticket | null) {
    this.#ticket = ticket;
    if (ticket) this.justDone = null;
    this.visit.follow(this.visitTicket);
    // a dialog about the ticket that left (another browser finished it) has nothing to change
    if (!this.visitTicket && this.dialog === 'procedures') this.dialog = null;
    if (!ticket && this.dialog === 'transfer') this.dialog = null;
  }

  /** the ticket whose visit the terminal shows: the one at the desk, or the one just finished */
  get visitTicket(): Ticket | null {
    return this.#ticket ?? this.justDone;
  }

  get serverNow(): number {
    return this.now + this.skewMs;
  }

  get counters(): CounterQueue[] {
    return this.live.counters;
  }

  get myEntry(): CounterQueue | undefined {
    return this.live.counters.find((c) => c.counterId === this.counterId);
  }

  get status(): Counter['status'] {
    return this.counter?.status ?? this.myEntry?.status ?? 'closed';
  }

  /** the counter is open or paused by this official (not by a colleague) */
  get mine(): boolean {
    return this.status !== 'closed' && this.counter?.staff?.id === this.session.user?.id;
  }

  /** the signed-in official's photo: named by the counter they work, or by their figures of today */
  get ownPhotoUrl(): string | undefined {
    const me = this.session.user?.id;
    if (this.counter?.staff?.id === me) return this.counter?.staff?.photoUrl;
    return this.today?.staff?.id === me ? this.today?.staff?.photoUrl : undefined;
  }

  /** a colleague works this counter */
  get takenBy(): string | null {
    return this.status !== 'closed' && this.counter?.staff && this.counter.staff.id !== this.session.user?.id
      ? this.counter.staff.displayName : null;
  }

  get serviceIds(): string[] {
    return this.counter?.serviceIds ?? this.myEntry?.serviceIds ?? [];
  }

  service(serviceId: string | undefined): ServiceConfig | undefined {
    return this.site?.services.find((s) => s.id === serviceId);
  }

  /** waiting figures of the services this counter serves, in its order */
  get queues(): (ServiceQueue & { service: ServiceConfig | undefined; longestSeconds: number })[] {
    return this.serviceIds.map((id) => {
      const stats = this.live.service(id) ?? { serviceId: id, waiting: 0, longestWaitSeconds: 0, estimatedWaitSeconds: 0, targetWaitSeconds: 0 };
      const oldest = this.waiting.filter((t) => t.serviceId === id).reduce((max, t) => Math.max(max, this.waitedSeconds(t)), 0);
      return { ...stats, service: this.service(id), longestSeconds: stats.waiting ? Math.max(oldest, stats.longestWaitSeconds) : 0 };
    });
  }

  get totalWaiting(): number {
    return this.queues.reduce((sum, q) => sum + q.waiting, 0);
  }

  get longestSeconds(): number {
    return this.queues.reduce((max, q) => Math.max(max, q.longestSeconds), 0);
  }

  waitedSeconds(t: WaitingTicket): number {
    return t.waitedSeconds + Math.max(0, this.now - this.waitingFetchedAt) / 1000;
  }

  /** seconds since the current ticket was called, or started being served */
  get elapsedSeconds(): number {
    const since = this.ticket?.startedAt ?? this.ticket?.calledAt;
    return since ? Math.max(0, (this.serverNow - Date.parse(since)) / 1000) : 0;
  }

  /** whether an action's button works right now */
  can(action: Action): boolean {
    if (this.busy) return false;
    const t = this.ticket;
    switch (action) {
      case 'openClose': return this.status === 'closed' ? !this.takenBy : this.mine && !t;
      case 'pauseResume': return this.mine && (this.status === 'paused' || !t);
      case 'callNext':
      case 'pick': return this.mine && this.status === 'open' && !t;
      // the ticket's moves: what the lifecycle allows from its status (protocol's table)
      case 'recall': return this.mine && allows('recall', t?.status);
      case 'noShow': return this.mine && allows('no_show', t?.status);
      case 'start': return this.mine && allows('start', t?.status);
      case 'finish': return this.mine && allows('finish', t?.status);
      case 'transfer': return this.mine && allows('transfer', t?.status);
      // a number for a citizen at the desk, whether or not another one is being served
      case 'walkIn': return this.mine;
    }
  }

  // ---- commands ------------------------------------------------------------------------------

  choose(counterId: string): void {
    if (this.counterId !== counterId) {
      this.counter = null;
      this.today = null;
      this.waiting = [];
    }
    this.counterId = counterId;
    safeSet(COUNTER_KEY, counterId);
    this.justDone = null;
    this.ticket = this.myEntry?.ticket ?? null;
    void this.refreshCounter().then(() => Promise.all([this.refreshWaiting(), this.refreshToday()]));
  }

  leave(): void {
    this.counterId = null;
    this.counter = null;
    this.justDone = null;
    this.ticket = null;
    this.dialog = null;
    safeSet(COUNTER_KEY, null);
  }

  /** Signing out at the end of a shift closes the counter, so nobody waits for a desk nobody works. */
  async signOut(): Promise<void> {
    if (this.mine && !this.ticket) {
      try {
        await this.session.client.closeCounter(this.counterId!);
      } catch {
        // signed out all the same; a manager sees the counter still open
      }
    }
    await this.session.logout();
  }

  /** A key or button press. */
  async perform(action: Action): Promise<void> {
    if (!this.counterId) return;
    if (this.busy) {
      // Typed ahead (F5 right after choosing a ticket, before its reply came back): done as soon
      // as the running command succeeded. The same key again is a double press and is dropped.
      if (action !== this.busy) this.typedAhead = action;
      return;
    }
    if (this.dialog) return; // a dialog has the keyboard
    if (!this.can(action)) return this.explainDisabled(action);
    switch (action) {
      case 'callNext': return this.callNext();
      case 'recall': return this.onTicket('recall', (id) => this.session.client.recall(id), { vi: 'Đã gọi lại', en: 'Called again' });
      case 'start': return this.onTicket('start', (id) => this.session.client.start(id));
      case 'finish': return this.onTicket('finish', (id) => this.session.client.finish(id), { vi: 'Đã hoàn thành', en: 'Finished' });
      case 'noShow': return this.onTicket('noShow', (id) => this.session.client.noShow(id), { vi: 'Đã đánh dấu vắng mặt', en: 'Marked as no-show' });
      case 'transfer':
        this.dialog = 'transfer';
        return;
      case 'pick':
        this.dialog = 'pick';
        void this.refreshWaiting();
        return;
      case 'walkIn':
        this.openWalkIn();
        return;
      case 'pauseResume':
        if (this.status === 'paused') return this.counterCommand('pauseResume', () => this.session.client.resumeCounter(this.counterId!));
        this.dialog = 'pause';
        return;
      case 'openClose':
        return this.status === 'closed'
          ? this.counterCommand('openClose', () => this.session.client.openCounter(this.counterId!))
          : this.counterCommand('openClose', () => this.session.client.closeCounter(this.counterId!));
    }
  }

  async pause(reason: string): Promise<void> {
    this.dialog = null;
    await this.counterCommand('pauseResume', () => this.session.client.pauseCounter(this.counterId!, reason.trim().slice(0, 200) || undefined));
  }

  async transfer(serviceId: string): Promise<void> {
    this.dialog = null;
    const name = this.service(serviceId)?.name;
    await this.onTicket('transfer', (id) => this.session.client.transfer(id, serviceId),
      name ? { vi: `Đã chuyển sang ${name.vi}`, en: `Transferred to ${name.en}` } : undefined);
  }

  async callTicket(ticket: Pick<Ticket, 'id' | 'code'>): Promise<void> {
    this.dialog = null;
    await this.run('pick', async () => {
      this.ticket = await this.session.client.callTicket(ticket.id);
      this.dropWaiting(ticket.id);
    }, { ticketCode: ticket.code });
    void this.refreshWaiting();
  }

  closeDialog(): void {
    this.dialog = null;
    this.replacing = null;
    this.walkIn = null;
  }

  /** The procedure picker, to add one or to put another in place of `replacing`. */
  pickProcedure(replacing: string | null = null): void {
    if (!this.visitTicket || this.dialog) return;
    this.replacing = replacing;
    this.dialog = 'procedures';
  }

  async chooseProcedure(code: string): Promise<void> {
    const replacing = this.replacing;
    this.closeDialog();
    const name = this.procedureName(code);
    const ok = replacing ? await this.visit.replaceProcedure(replacing, code) : await this.visit.addProcedure(code);
    if (ok && name) this.say('ok', { vi: `Đã ghi thủ tục: ${name.vi}`, en: `Procedure recorded: ${name.en}` });
  }

  /** a procedure's name from the site's list */
  procedureName(code: string): Text | undefined {
    for (const s of this.site?.services ?? []) {
      const p = s.procedures.find((x) => x.code === code);
      if (p) return p.name;
    }
    return undefined;
  }

  private openWalkIn(): void {
    // the counter's first service, or the one of the citizen at the desk
    const serviceId = this.serviceIds[0] ?? this.site?.services[0]?.id ?? '';
    this.walkIn = new WalkIn(this.session.client, this.siteId,
      (error) => {
        if ((error as { code?: string }).code === 'UNAUTHENTICATED') this.session.forget();
        return explainText(error, { counterNumber: this.counter?.number, timezone: this.site?.timezone });
      }, serviceId, (code) => this.procedureName(code) ?? { vi: '', en: '' });
    this.dialog = 'walkIn';
  }

  dismissNotice(): void {
    this.notice = null;
  }

  // ---- internals -----------------------------------------------------------------------------

  private async callNext(): Promise<void> {
    await this.run('callNext', async () => {
      const ticket = await this.session.client.callNext(this.counterId!);
      if (ticket) {
        this.ticket = ticket;
        this.dropWaiting(ticket.id);
      } else this.say('info', { vi: 'Không còn công dân nào đang chờ.', en: 'Nobody is waiting.' });
    });
  }

  private async onTicket(action: Action, command: (ticketId: string) => Promise<Ticket>, done?: Text): Promise<void> {
    const current = this.ticket;
    if (!current) return;
    await this.run(action, async () => {
      const ticket = await command(current.id);
      const here = isAtCounter(ticket.status) && ticket.counterId === this.counterId;
      if (!here) this.finished(ticket);
      this.ticket = here ? ticket : null;
      if (done) this.say('ok', { vi: `${done.vi}: ${current.code}`, en: `${done.en}: ${current.code}` });
      if (!here) void this.refreshToday();
    }, { ticketCode: current.code });
  }

  private async counterCommand(action: Action, command: () => Promise<Counter>): Promise<void> {
    await this.run(action, async () => {
      this.counter = await command();
    });
    void this.refreshToday();
  }

  private async run(action: Action, work: () => Promise<void>, ctx: ErrorContext = {}): Promise<void> {
    this.busy = action;
    try {
      await work();
      if (this.notice?.kind === 'error') this.notice = null;
    } catch (error) {
      // a key typed ahead was meant for after a success: the official reads the refusal first
      this.typedAhead = null;
      this.fail(error, { counterNumber: this.counter?.number, ...ctx });
      // the refusal often means this screen was behind: read the truth again
      void this.refreshCounter();
    } finally {
      this.busy = null;
      this.performPending();
    }
  }

  /** a ticket left the desk: finished here, it stays open for a late receipt scan */
  private finished(ticket: Ticket): void {
    this.justDone = ticket.status === 'done' && ticket.counterId === this.counterId ? ticket : null;
  }

  private performPending(): void {
    const next = this.typedAhead;
    this.typedAhead = null;
    if (next) void this.perform(next);
  }

  private explainDisabled(action: Action): void {
    if (this.takenBy) return this.say('error', { vi: `Quầy đang do cán bộ ${this.takenBy} phụ trách.`, en: `${this.takenBy} is working this counter.` });
    if (this.status === 'closed' && action !== 'openClose') return this.say('error', { vi: 'Quầy chưa mở. Nhấn F9 để mở quầy.', en: 'The counter is not open. Press F9 to open it.' });
    if (this.status === 'paused' && action !== 'pauseResume') return this.say('error', { vi: 'Quầy đang tạm dừng. Nhấn F8 để tiếp tục.', en: 'The counter is paused. Press F8 to resume.' });
    const code = this.ticket?.code;
    if (this.ticket && (action === 'callNext' || action === 'pick' || action === 'pauseResume' || action === 'openClose')) {
      return this.say('error', { vi: `Đang phục vụ số ${code}: hãy hoàn thành (F4) hoặc đánh dấu vắng mặt (F5) trước.`, en: `Still with ${code}: finish it (F4) or mark it no-show (F5) first.` });
    }
    if (!this.ticket) return this.say('error', { vi: 'Chưa có số nào tại quầy. Nhấn F1 để gọi số tiếp theo.', en: 'No ticket at the counter. Press F1 to call the next one.' });
    if (this.ticket.status === 'serving' && (action === 'recall' || action === 'noShow' || action === 'start')) {
      return this.say('error', { vi: `Số ${code} đang được phục vụ: chỉ có thể hoàn thành (F4) hoặc chuyển (F6).`, en: `${code} is being served: you can only finish (F4) or transfer (F6) it.` });
    }
  }

  fail(error: unknown, ctx: ErrorContext = {}): void {
    const text = explainText(error, ctx);
    if ((error as { code?: string }).code === 'UNAUTHENTICATED') this.session.forget();
    this.say('error', text);
  }

  private say(kind: Notice['kind'], text: Text): void {
    this.notice = { kind, text, id: ++this.noticeSeq };
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), kind === 'error' ? NOTICE_MS * 1.5 : NOTICE_MS);
  }

  /** a called ticket leaves the list at once; the next read confirms it */
  private dropWaiting(ticketId: string): void {
    if (this.waiting.some((t) => t.id === ticketId)) this.waiting = this.waiting.filter((t) => t.id !== ticketId);
  }

  private waitingChanged(serviceId: string, always = false): void {
    if (always || this.serviceIds.includes(serviceId)) this.later('waiting', () => this.refreshWaiting(), 250);
  }

  /** runs `work` once after `ms`, however many times it is asked for meanwhile */
  private later(key: string, work: () => Promise<void>, ms: number): void {
    if (this.pending.has(key)) return;
    this.pending.set(key, setTimeout(() => {
      this.pending.delete(key);
      void work();
    }, ms));
  }

  private async refreshCounter(): Promise<void> {
    const id = this.counterId;
    if (!id) return;
    try {
      const counter = await this.session.client.counter(id);
      if (id === this.counterId) this.counter = counter;
    } catch (error) {
      if ((error as { code?: string }).code === 'COUNTER_NOT_FOUND') this.leave();
    }
  }

  private async refreshWaiting(): Promise<void> {
    const ids = this.serviceIds;
    if (!this.counterId || !ids.length) {
      this.waiting = [];
      this.waitingTotal = 0;
      return;
    }
    try {
      const { total, tickets } = await this.session.client.waiting(this.siteId, ids);
      this.waiting = tickets;
      this.waitingTotal = total;
      this.waitingFetchedAt = Date.now();
    } catch {
      // the socket's figures still show; the list catches up on the next change
    }
  }

  private async refreshToday(): Promise<void> {
    const id = this.counterId;
    if (!id) return;
    try {
      const today = await this.session.client.counterToday(id);
      if (id === this.counterId) this.today = today;
    } catch {
      // figures are a comfort, not a duty: keep the last ones
    }
  }
}
