import { ApiError, createClient, type PrintOutcome, type QmsClient } from '@qms/protocol/client';
import type { CheckInReply, PriorityGroup, ServiceConfig, SiteConfig } from '@qms/protocol';
import { DevicePairing, followDeviceSocket, type StoredDevice } from '@qms/ui-shared/device';
import type { Lang } from '@qms/ui-shared/format';
import { LiveQueue } from '@qms/ui-shared/live-queue';
import { checkIn } from './check-in.ts';
import { issueTicket, pressKey, unansweredOf, type IssueBody, type Issued, type Unanswered } from './issue.ts';
import { nextOpeningAfter, siteOpening, type OpeningState } from './opening.ts';
import { ScanDetector } from './scanner.ts';
import { TEXTS, type Texts } from './texts.ts';

// The kiosk as one state object: pairing, the site's configuration and live queue, which
// screen is showing, and issuing. It runs unattended for months, so every failure ends in a
// calm screen that heals itself: the socket reconnects, the configuration is fetched again,
// a stuck screen goes home after 20 s without a touch.

export type Notice =
  | { kind: 'site_closed'; opensAt: string | null }
  | { kind: 'service_closing'; closesAt: string | null; nextOpening: Date | null }
  | { kind: 'rate_limited' }
  | { kind: 'failed' }
  | { kind: 'unavailable' }
  /** a booking's check-in refused: why (the error's code), and the times the citizen needs */
  | { kind: 'booking'; code: BookingRefusal; checkInFrom: string | null; slotAt: string | null };

/** The refusals of a check-in the kiosk explains in words of its own (others read as 'failed'). */
export const BOOKING_REFUSALS = [
  'BOOKING_NOT_FOUND', 'BOOKING_TOO_EARLY', 'BOOKING_OTHER_DAY', 'BOOKING_CANCELLED', 'BOOKING_USED', 'BOOKING_MISSED',
  'BOOKING_LAPSED', 'BOOKING_NOT_CONFIRMED',
] as const;
export type BookingRefusal = (typeof BOOKING_REFUSALS)[number];

/** A ticket that came from a booking: how (CheckInReply's outcome), its slot, and the site's late window. */
export interface CheckedIn {
  outcome: CheckInReply['outcome'];
  slotAt: string;
  /** minutes after the slot's start when check-in gives a walk-in ticket (checkInUntil − slotAt) */
  lateMinutes: number;
}

export type View =
  | { name: 'home' }
  | { name: 'priority' }
  | { name: 'services'; priority: PriorityGroup }
  | { name: 'search' }
  /** the booking's code on the keypad, or a scan (docs/kiosk.md, "Bookings") */
  | { name: 'checkin' }
  | { name: 'ticket'; issued: Issued; service: ServiceConfig; priority: PriorityGroup | null; checkedIn?: CheckedIn }
  /** the citizen gives a phone number for this ticket's messages (optional, after the ticket) */
  | { name: 'phone'; ticket: TicketView }
  | { name: 'notice'; notice: Notice };
export type TicketView = Extract<View, { name: 'ticket' }>;

/** What became of a phone number: saved (masked, and when it is erased), or refused (an error code). */
export type ContactOutcome = { ok: true; phone: string; eraseAfter: string } | { ok: false; code: string };

const SCREEN = 'kiosk';
/** back to the start screen (and Vietnamese) after this long without a touch */
export const IDLE_MS = 20_000;
/** a ticket that did not print stays longer: the screen is the citizen's only copy */
export const IDLE_UNPRINTED_MS = 60_000;
/** taps closer than this to the last issue never issue again (double taps, impatient presses) */
const ISSUE_GAP_MS = 1500;
/** a dropped connection shows the "temporarily unavailable" overlay only if it lasts */
const OFFLINE_GRACE_MS = 2000;
const CONFIG_REFRESH_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Kiosk {
  /** how this kiosk got its device token; its keypad shows while `phase` is 'pairing' */
  readonly pairing = new DevicePairing(SCREEN, { accepts: (device) => device.kind === 'kiosk', onPaired: (device) => this.run(device) });

  config = $state<SiteConfig | null>(null);
  live = $state<LiveQueue | null>(null);
  lang = $state<Lang>('vi');
  view = $state<View>({ name: 'home' });
  search = $state('');
  /** the search screen's text field while it shows: keys typed elsewhere are sent to it */
  searchField: HTMLInputElement | null = null;
  issuing = $state(false);
  /** the last ticket did not print: say so on the start screen until one prints again */
  printerTrouble = $state(false);
  /** the site's clock (the server's, corrected for the kiosk's drift), ticking every second */
  now = $state(new Date());
  private offline = $state(false);

  private device: StoredDevice | null = null;
  private client: QmsClient | null = null;
  private clockOffset = 0;
  private lastInput = Date.now();
  private lastIssueAt = 0;
  /** the last press, when it got no answer at all: the next press for the same sends its key again (pressKey) */
  private unanswered: Unanswered | null = null;
  private offlineTimer: ReturnType<typeof setTimeout> | undefined;
  private configLoading = false;
  private configStale = false;
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly scanner = new ScanDetector();
  /** the search's text when a burst of keys began: a scan typed into the field is taken back out */
  private searchBeforeBurst = '';
  /** keys whose keydown was a scan's: their keyup is not the screen's either */
  private readonly swallowed = new Set<string>();

  get t(): Texts {
    return TEXTS[this.lang];
  }

  get phase(): 'starting' | 'pairing' | 'running' {
    return this.pairing.phase === 'paired' ? 'running' : this.pairing.phase;
  }

  get unavailable(): boolean {
    return this.phase === 'starting' || (this.phase === 'running' && (!this.config || this.offline));
  }

  opening = $derived<OpeningState | null>(this.config ? siteOpening(this.config, this.now) : null);

  /** Starts the kiosk; returns the cleanup for the component that owns it. */
  start(): () => void {
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setInterval(() => void this.loadConfig(), CONFIG_REFRESH_MS));
    void this.pairing.start();
    // capture: a scan's keys are taken before any button or field sees them
    window.addEventListener('keydown', this.scanKeyDown, true);
    window.addEventListener('keyup', this.scanKeyUp, true);
    return () => {
      window.removeEventListener('keydown', this.scanKeyDown, true);
      window.removeEventListener('keyup', this.scanKeyUp, true);
      for (const timer of this.timers) clearInterval(timer);
      this.pairing.stop();
      this.live?.close();
    };
  }

  private run(device: StoredDevice) {
    this.device = device;
    this.client = createClient({ token: device.token });
    const socket = this.client.connect();
    followDeviceSocket(socket, { online: (up) => this.setOnline(up), revoked: () => this.unpair() });
    // a reconnect may follow a server restart with a changed configuration
    socket.on('connect', () => void this.loadConfig());
    // a manager changed the site (services, hours, priority groups): redraw with it at once,
    // whatever screen the citizen is on
    socket.on('site:updated', () => void this.loadConfig());
    socket.on('queue:snapshot', (snapshot) => {
      this.clockOffset = Date.parse(snapshot.at) - Date.now();
      this.now = new Date(Date.now() + this.clockOffset);
    });
    this.live = new LiveQueue(socket);
    this.setOnline(false);
    void this.loadConfig();
  }

  /** The device was revoked (or the database replaced): back to the pairing keypad. */
  private unpair() {
    this.live?.close();
    this.live = null;
    this.config = null;
    this.device = null;
    this.client = null;
    this.view = { name: 'home' };
    this.pairing.unpair();
  }

  private setOnline(online: boolean) {
    if (online) {
      clearTimeout(this.offlineTimer);
      this.offlineTimer = undefined;
      this.offline = false;
    } else if (!this.offlineTimer && !this.offline) {
      // counted from the first failure, not restarted by every failed reconnection attempt
      this.offlineTimer = setTimeout(() => {
        this.offlineTimer = undefined;
        this.offline = true;
      }, OFFLINE_GRACE_MS);
    }
  }

  /** Fetches the site configuration, retrying with back-off until it comes. */
  async loadConfig() {
    if (!this.client || !this.device) return;
    if (this.configLoading) {
      this.configStale = true; // changed while being read: read once more after this read
      return;
    }
    this.configLoading = true;
    const client = this.client;
    const siteId = this.device.siteId;
    try {
      for (let attempt = 0; this.client === client; attempt++) {
        try {
          this.configStale = false;
          const config = await client.site(siteId);
          if (this.client !== client) return;
          this.config = config;
          this.keepViewValid(config);
          if (!this.configStale) return;
          attempt = -1;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) return this.unpair();
          await sleep(Math.min(15_000, 1000 * 2 ** attempt));
        }
      }
    } finally {
      this.configLoading = false;
    }
  }

  /**
   * A citizen's screen after a configuration change: names and lists redraw from `config` by
   * themselves; a priority group that was removed cannot be chosen any more, so its service
   * list goes back to the start. A ticket on screen stays as it was issued.
   */
  private keepViewValid(config: SiteConfig) {
    const view = this.view;
    if (view.name === 'services' && view.priority.code !== 'none' && !config.priorityGroups.some((g) => g.code === view.priority.code)) {
      this.goHome();
    } else if (view.name === 'services') {
      const group = config.priorityGroups.find((g) => g.code === view.priority.code);
      if (group) this.view = { name: 'services', priority: group };
    }
  }

  // ---- screens -----------------------------------------------------------------------

  show(view: View) {
    this.view = view;
    this.touch();
  }

  goHome() {
    this.view = { name: 'home' };
    this.search = '';
    this.scanner.reset();
  }

  toggleLang() {
    this.lang = this.lang === 'vi' ? 'en' : 'vi';
  }

  touch() {
    this.lastInput = Date.now();
  }

  private tick() {
    this.now = new Date(Date.now() + this.clockOffset);
    if (this.issuing || this.phase !== 'running') return;
    const view = this.view;
    const limit = view.name === 'ticket' && view.issued.print.status === 'failed' ? IDLE_UNPRINTED_MS : IDLE_MS;
    if (Date.now() - this.lastInput < limit) return;
    if (view.name !== 'home' || this.lang !== 'vi' || this.search) {
      this.goHome();
      this.lang = 'vi';
    }
  }

  /**
   * Keys of a physical keyboard (a kiosk may have one; the tests use it) type into the search.
   * The search field takes them itself, input method and all; a key pressed while the focus is
   * elsewhere moves the focus there first, and the browser then delivers the key to the field.
   */
  key(event: KeyboardEvent) {
    this.touch();
    const field = this.searchField;
    if (this.view.name !== 'search' || !field || event.target === field || event.ctrlKey || event.altKey || event.metaKey) return;
    field.focus();
  }

  type(text: string) {
    if (this.search.length < 60) this.search += text;
  }

  erase() {
    this.search = this.search.slice(0, -1);
  }

  // ---- issuing -----------------------------------------------------------------------

  /** procedureCode: the procedure the citizen found by search, which the ticket keeps and prints */
  async issue(service: ServiceConfig, priority: PriorityGroup | null, procedureCode?: string) {
    // checked and set before the first await: a second tap in the same instant finds it set
    if (this.issuing || Date.now() - this.lastIssueAt < ISSUE_GAP_MS || !this.device) return;
    this.issuing = true;
    this.touch();
    let body: IssueBody | undefined;
    let key: string | undefined;
    try {
      if (!this.client) return;
      body = { serviceId: service.id, lang: this.lang, ...(priority ? { priority: priority.code } : {}), ...(procedureCode ? { procedureCode } : {}) };
      key = pressKey(body, this.unanswered, Date.now());
      const issued = await issueTicket(this.client, this.device.siteId, body, key);
      this.unanswered = null;
      this.printerTrouble = issued.print.status === 'failed';
      this.view = { name: 'ticket', issued, service, priority };
      this.search = '';
    } catch (error) {
      // no answer at all: the citizen's next press for the same asks for its ticket again
      this.unanswered = body && key ? unansweredOf(body, key, error, Date.now()) : null;
      if (error instanceof ApiError && error.status === 401) return this.unpair();
      this.view = { name: 'notice', notice: this.noticeFor(error) };
    } finally {
      this.issuing = false;
      this.lastIssueAt = Date.now();
      this.touch();
    }
  }

  // ---- bookings: check-in by code or scan (docs/kiosk.md) ------------------------------

  /**
   * Every key, before the screen's own handlers: a keyboard-wedge scanner's burst ending in
   * Enter is a scan, sent to the server as it is; its keys do nothing else on any screen (a
   * space or Enter would press a focused button). On the search screen the keys are let
   * through (a person typing fast looks the same until the Enter: the field is where their keys
   * go, wherever the focus was) and the search goes back to what it was before the scan.
   */
  private readonly scanKeyDown = (event: KeyboardEvent) => {
    if (this.phase !== 'running' || event.isComposing) return;
    const verdict = this.scanner.keydown({
      key: event.key, at: event.timeStamp, repeat: event.repeat, ctrlKey: event.ctrlKey, altKey: event.altKey, metaKey: event.metaKey,
    });
    if (this.scanner.length === 1) this.searchBeforeBurst = this.search;
    const typing = this.view.name === 'search' || event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
    if (verdict.swallow && (!typing || event.key === 'Enter')) {
      event.preventDefault();
      event.stopImmediatePropagation();
      this.swallowed.add(event.code || event.key);
    }
    if (verdict.scan === undefined) return;
    if (this.view.name === 'search') this.search = this.searchBeforeBurst;
    this.searchBeforeBurst = '';
    void this.checkIn({ scan: verdict.scan });
  };

  private readonly scanKeyUp = (event: KeyboardEvent) => {
    if (!this.swallowed.delete(event.code || event.key)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  };

  /** A booking's code typed on the keypad (spaces and dashes allowed), or what the scanner read. */
  async checkIn(input: { code: string } | { scan: string }) {
    if (this.issuing || !this.device || !this.client) return;
    this.issuing = true;
    this.touch();
    try {
      const reply = await checkIn(this.client, this.device.siteId, { ...input, lang: this.lang });
      const print = reply.print as PrintOutcome;
      const service = this.config?.services.find((s) => s.id === reply.ticket.serviceId)
        ?? { id: reply.ticket.serviceId, code: '', prefix: '', name: reply.booking.serviceName, targetWaitSeconds: 0, procedures: [], counterNumbers: [] };
      const procedure = service.procedures.find((p) => p.code === reply.booking.procedureCode);
      this.printerTrouble = print.status === 'failed';
      this.view = {
        name: 'ticket', service, priority: null,
        issued: { ticket: reply.ticket, print, phoneUrl: reply.phoneUrl, ...(procedure ? { procedure: { code: procedure.code, name: procedure.name } } : {}) },
        checkedIn: {
          outcome: reply.outcome,
          slotAt: reply.booking.slotAt,
          lateMinutes: Math.round((Date.parse(reply.booking.checkInUntil) - Date.parse(reply.booking.slotAt)) / 60_000),
        },
      };
      this.search = '';
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.unpair();
      // a code or scan the server could not even read (VALIDATION_FAILED) is one it did not find
      const unreadable = error instanceof ApiError && error.status === 400;
      this.view = { name: 'notice', notice: unreadable ? { kind: 'booking', code: 'BOOKING_NOT_FOUND', checkInFrom: null, slotAt: null } : this.noticeFor(error) };
    } finally {
      this.issuing = false;
      this.lastIssueAt = Date.now();
      this.touch();
    }
  }

  // ---- a phone number for messages (docs/notifications.md) ----------------------------

  async addContact(ticket: TicketView, phone: string): Promise<ContactOutcome> {
    this.touch();
    try {
      if (!this.client) return { ok: false, code: 'UNAVAILABLE' };
      const saved = await this.client.addContact(ticket.issued.ticket.publicId, { phone, lang: this.lang });
      return { ok: true, phone: saved.phone, eraseAfter: saved.eraseAfter };
    } catch (error) {
      return { ok: false, code: error instanceof ApiError ? error.code : 'UNAVAILABLE' };
    } finally {
      this.touch();
    }
  }

  private noticeFor(error: unknown): Notice {
    if (!(error instanceof ApiError)) return { kind: 'unavailable' };
    const details = (error.details ?? {}) as { opensAt?: string | null; closesAt?: string | null; checkInFrom?: string; slotAt?: string };
    if ((BOOKING_REFUSALS as readonly string[]).includes(error.code)) {
      return { kind: 'booking', code: error.code as BookingRefusal, checkInFrom: details.checkInFrom ?? null, slotAt: details.slotAt ?? null };
    }
    switch (error.code) {
      case 'SITE_CLOSED':
        return { kind: 'site_closed', opensAt: details.opensAt ?? null };
      case 'SERVICE_CLOSING': {
        const closesAt = details.closesAt ?? null;
        const after = closesAt ? new Date(closesAt) : this.now;
        return { kind: 'service_closing', closesAt, nextOpening: this.config ? nextOpeningAfter(this.config, after) : null };
      }
      case 'RATE_LIMITED':
        return { kind: 'rate_limited' };
      default:
        if (error.status >= 500) return { kind: 'unavailable' };
        // a service or priority group removed meanwhile: draw the current configuration
        if (error.status === 404 || error.status === 400) void this.loadConfig();
        return { kind: 'failed' };
    }
  }
}
