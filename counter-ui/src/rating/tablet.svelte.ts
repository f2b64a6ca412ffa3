import { ApiError, createClient, type QmsClient, type QmsSocket } from '@qms/protocol/client';
import type { Counter, RatingLevel, SiteConfig } from '@qms/protocol';
import { DevicePairing, followDeviceSocket, type StoredDevice } from '@qms/ui-shared/device';
import type { ConnectionState } from '@qms/ui-shared/live-queue';
import { explainText } from '../lib/errors.ts';
import { LangState, safeGet, safeSet } from '@qms/ui-shared/lang';

// The rating tablet at one counter: idle, it shows who serves there; when that counter finishes
// a ticket it asks the citizen once, with the site's scale and reasons, thanks them and goes
// back to idle. A criticism can be sent at any moment and reaches the managers at once.

export type Phase = 'starting' | 'pairing' | 'idle' | 'ask' | 'reason' | 'thanks' | 'criticism' | 'criticism-sent';
type Text = { vi: string; en: string };

export interface RatingAsk {
  ticketId: string;
  code?: string;
  staffName: string;
  /** the official's photo (StaffRef.photoUrl), when there is one */
  staffPhotoUrl?: string | undefined;
}

const SCREEN = 'rating';
const HANDLED_KEY = 'qms.rating.handled';

export const DEFAULT_SCALE: RatingLevel[] = [
  { score: 3, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } },
  { score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } },
  { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' }, asksReason: true },
];

/** the citizen rated on the phone page first (rating:created, or ALREADY_RATED from the phone) */
const RATED_ON_PHONE: Text = {
  vi: 'Bạn đã đánh giá lượt phục vụ này trên điện thoại. Xin cảm ơn!',
  en: 'You have already rated this visit on your phone. Thank you!',
};

/** How long each screen waits for a tap before going back to idle. */
export const TIMEOUTS = { ask: 30_000, thanks: 5_000, criticism: 90_000, sent: 6_000 };

export class RatingTablet {
  phase = $state<Phase>('starting');
  device = $state<StoredDevice | null>(null);
  site = $state<SiteConfig | null>(null);
  counter = $state<Counter | null>(null);
  request = $state<RatingAsk | null>(null);
  level = $state<RatingLevel | null>(null);
  sending = $state(false);
  error = $state<Text | null>(null);
  /** what the thanks screen says instead of the usual thanks (rated on the phone, too late) */
  notice = $state<Text | null>(null);
  connection = $state<ConnectionState>('connecting');
  /** when the current screen gives up and returns to idle (ms since epoch), for the countdown bar */
  deadline = $state<number | null>(null);
  now = $state(Date.now());
  readonly lang = new LangState();
  /** the pad shows while this says 'pairing'; only a rating device of a counter is accepted */
  readonly pairing = new DevicePairing(SCREEN, {
    onPaired: (device) => void this.connect(device),
    accepts: (device) => device.kind === 'rating' && !!device.counterId,
    retryMs: null,
  });

  private client: QmsClient | null = null;
  private socket: QmsSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** a rating asked for while the citizen was writing a criticism */
  private queued: RatingAsk | null = null;
  private configSeq = 0;

  async start(): Promise<void> {
    this.ticker = setInterval(() => (this.now = Date.now()), 250);
    await this.pairing.start();
    if (this.pairing.phase === 'pairing') this.showPairing();
  }

  destroy(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.pairing.stop();
    this.socket?.close();
  }

  /** The on-screen pad: exchanges the six digits for this tablet's token. */
  async pair(code: string): Promise<void> {
    this.error = null;
    this.sending = true;
    try {
      await this.pairing.submit(code);
    } finally {
      this.sending = false;
    }
    if (this.pairing.phase === 'pairing') this.showPairing();
  }

  private showPairing(): void {
    this.phase = 'pairing';
    const { message, error } = this.pairing;
    this.error = message === 'wrong-kind'
      ? { vi: 'Mã này dành cho loại thiết bị khác, không phải máy đánh giá tại quầy.', en: 'This code is for another kind of device, not a counter rating tablet.' }
      : message === 'again'
        ? { vi: 'Thiết bị đã bị thu hồi hoặc chưa được ghép nối. Nhập mã ghép nối mới.', en: 'This device was revoked or is not paired. Enter a new pairing code.' }
        : message ? explainText(error) : null;
  }

  // ---- what the screens read ------------------------------------------------------------------

  get scale(): RatingLevel[] {
    const levels = this.site?.ratingScale.length ? this.site.ratingScale : DEFAULT_SCALE;
    return [...levels].sort((a, b) => b.score - a.score);
  }

  get reasons() {
    return this.site?.ratingReasons ?? [];
  }

  /** 'great' | 'ok' | 'bad' face of a level, from its place on the scale */
  mood(level: RatingLevel): 'great' | 'ok' | 'bad' {
    const scores = this.scale.map((l) => l.score);
    const max = Math.max(...scores);
    const min = Math.min(...scores);
    if (max === min) return 'great';
    const x = (level.score - min) / (max - min);
    return x > 0.66 ? 'great' : x > 0.33 ? 'ok' : 'bad';
  }

  /** the official at the counter now (idle screen) */
  get staffName(): string | null {
    return this.counter && this.counter.status !== 'closed' ? this.counter.staff?.displayName ?? null : null;
  }

  get staffPhotoUrl(): string | undefined {
    return this.staffName ? this.counter?.staff?.photoUrl : undefined;
  }

  /** the official the citizen is asked about */
  get askedName(): string {
    return this.request?.staffName || this.staffName || '';
  }

  get askedPhotoUrl(): string | undefined {
    return this.request?.staffName ? this.request.staffPhotoUrl : this.staffPhotoUrl;
  }

  /** for reading photos: the tablet's token (a device has no session cookie) */
  get token(): string | undefined {
    return this.device?.token;
  }

  get secondsLeft(): number {
    return this.deadline ? Math.max(0, Math.ceil((this.deadline - this.now) / 1000)) : 0;
  }

  // ---- taps -----------------------------------------------------------------------------------

  async choose(level: RatingLevel): Promise<void> {
    if (!this.request || this.sending) return;
    this.level = level;
    if (level.asksReason && this.reasons.length) {
      this.phase = 'reason';
      this.after(TIMEOUTS.ask, () => this.submit(level.score));
      return;
    }
    await this.submit(level.score);
  }

  async chooseReason(reason: string | undefined): Promise<void> {
    if (!this.level) return;
    await this.submit(this.level.score, reason);
  }

  openCriticism(): void {
    if (this.phase === 'ask' || this.phase === 'reason') this.queued = this.request;
    this.error = null;
    this.phase = 'criticism';
    this.after(TIMEOUTS.criticism, () => this.idle());
  }

  async sendCriticism(comment: string): Promise<void> {
    if (!this.client || this.sending) return;
    this.sending = true;
    this.error = null;
    try {
      await this.client.raiseCriticism(comment.trim().slice(0, 500) || undefined);
      this.phase = 'criticism-sent';
      this.after(TIMEOUTS.sent, () => this.idle());
    } catch (error) {
      this.error = explainText(error);
    } finally {
      this.sending = false;
    }
  }

  /** Back to the idle screen, in Vietnamese, ready for the next citizen. */
  idle(): void {
    clearTimeout(this.timer);
    this.deadline = null;
    this.level = null;
    this.error = null;
    this.notice = null;
    const next = this.queued;
    this.queued = null;
    if (next && !isHandled(next.ticketId)) {
      this.ask(next);
      return;
    }
    this.request = null;
    if (this.phase !== 'pairing' && this.phase !== 'starting') this.phase = 'idle';
    this.lang.set('vi');
  }

  // ---- internals ------------------------------------------------------------------------------

  private async connect(device: StoredDevice): Promise<void> {
    this.device = device;
    const client = createClient({ token: device.token });
    this.client = client;
    if (this.phase === 'pairing' || this.phase === 'starting') this.phase = 'idle';
    void this.loadConfig();

    this.socket?.close();
    const socket = client.connect();
    this.socket = socket;
    // a revoked tablet shows the pairing pad
    followDeviceSocket(socket, { online: (up) => (this.connection = up ? 'online' : 'offline'), revoked: () => this.unpaired() });
    socket.on('queue:snapshot', (snapshot) => {
      this.connection = 'online';
      const mine = snapshot.counters.find((c) => c.counterId === device.counterId);
      if (mine && this.counter) this.counter = { ...this.counter, status: mine.status, staff: mine.staff };
      // (re)connected: reload the names, and ask for a rating this tablet may have missed
      void this.loadConfig();
      void this.checkPending();
    });
    // a manager changed the scale, the reasons, the counter or a name: read them again; a
    // citizen on the question keeps it (with the new wording)
    socket.on('site:updated', () => void this.loadConfig());
    socket.on('counter:updated', ({ counter }) => {
      if (counter.id === device.counterId) this.counter = counter;
    });
    socket.on('rating:requested', (payload) => {
      if (payload.counterId !== device.counterId) return;
      this.ask({ ticketId: payload.ticketId, staffName: payload.staff.displayName, staffPhotoUrl: payload.staff.photoUrl });
      void this.fillCode(payload.ticketId);
    });
    // rated meanwhile on the citizen's phone: the question goes, with a word why
    socket.on('rating:created', (payload) => {
      if (payload.counterId !== device.counterId || payload.channel === 'tablet') return;
      markHandled(payload.ticketId);
      if (this.queued?.ticketId === payload.ticketId) this.queued = null;
      if (this.request?.ticketId !== payload.ticketId || (this.phase !== 'ask' && this.phase !== 'reason') || this.sending) return;
      this.thank(RATED_ON_PHONE);
    });
  }

  private async loadConfig(): Promise<void> {
    const client = this.client;
    const device = this.device;
    if (!client || !device?.counterId) return;
    const seq = ++this.configSeq;
    try {
      const [site, counter] = await Promise.all([client.site(device.siteId), client.counter(device.counterId)]);
      if (seq !== this.configSeq) return; // a later read is under way: it wins
      this.site = site;
      this.counter = counter;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.unpaired();
      // otherwise keep what we have; the next snapshot tries again
    }
  }

  private async checkPending(): Promise<void> {
    if (!this.client || !this.device?.counterId || this.phase !== 'idle') return;
    try {
      const pending = await this.client.ratingRequest(this.device.counterId);
      if (pending && this.phase === 'idle') {
        this.ask({ ticketId: pending.ticketId, code: pending.code, staffName: pending.staff.displayName, staffPhotoUrl: pending.staff.photoUrl });
      }
    } catch {
      // nothing to recover
    }
  }

  /** the ticket code for the question ("Số A012"), when the server still has it pending */
  private async fillCode(ticketId: string): Promise<void> {
    if (!this.client || !this.device?.counterId) return;
    try {
      const pending = await this.client.ratingRequest(this.device.counterId);
      if (pending?.ticketId === ticketId && this.request?.ticketId === ticketId) this.request = { ...this.request, code: pending.code };
    } catch {
      // the question reads fine without it
    }
  }

  private ask(request: RatingAsk): void {
    if (isHandled(request.ticketId)) return;
    if (this.phase === 'criticism' || this.phase === 'criticism-sent') {
      this.queued = request;
      return;
    }
    this.request = request;
    this.level = null;
    this.error = null;
    this.phase = 'ask';
    this.after(TIMEOUTS.ask, () => {
      markHandled(request.ticketId); // the citizen left without rating: do not ask the next one about it
      this.idle();
    });
  }

  private async submit(score: number, reason?: string): Promise<void> {
    const request = this.request;
    if (!request || !this.client || this.sending) return;
    this.sending = true;
    this.error = null;
    let notice: Text | null = null;
    try {
      await this.client.rate(request.ticketId, { score, ...(reason ? { reason } : {}) });
    } catch (error) {
      // Network trouble: let the citizen tap again. Any refusal by the server (already rated,
      // too late, ...) is not theirs to fix: thank them all the same, and say why it did not count.
      if (!(error instanceof ApiError)) {
        this.error = explainText(error);
        this.sending = false;
        return;
      }
      const onPhone = error.code === 'ALREADY_RATED' && (error.details as { channel?: string } | undefined)?.channel === 'phone';
      notice = onPhone ? RATED_ON_PHONE : explainText(error);
    }
    this.sending = false;
    markHandled(request.ticketId);
    this.thank(notice);
  }

  private thank(notice: Text | null): void {
    this.notice = notice;
    this.phase = 'thanks';
    this.after(TIMEOUTS.thanks, () => this.idle());
  }

  private after(ms: number, then: () => void): void {
    clearTimeout(this.timer);
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(then, ms);
  }

  private unpaired(): void {
    this.socket?.close();
    this.socket = null;
    this.device = null;
    this.client = null;
    this.pairing.unpair();
    this.showPairing();
  }
}

function handledList(): string[] {
  try {
    return JSON.parse(safeGet(HANDLED_KEY) ?? '[]') as string[];
  } catch {
    return [];
  }
}

function isHandled(ticketId: string): boolean {
  return handledList().includes(ticketId);
}

function markHandled(ticketId: string): void {
  safeSet(HANDLED_KEY, JSON.stringify([ticketId, ...handledList().filter((id) => id !== ticketId)].slice(0, 30)));
}
