import { tick } from 'svelte';
import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';
import type { RecentCall, SiteConfig, TicketCalled } from '@qms/protocol';
import { DevicePairing, followDeviceSocket, type StoredDevice } from '@qms/ui-shared/device';
import { LiveQueue } from '@qms/ui-shared/live-queue';
import { createDisplayVoice, VOICE_LOG_KEY, type DisplayVoice } from '../voice/display-voice.ts';
import { buildAnnouncement } from '../voice/phrase.ts';
import {
  boardOf, callInZone, entryFromLive, entryFromRecent, flashLeft, FLASH_MS, mergeCalls, MISSED_CALL_MS, missedCalls, zoneOf,
  type Board, type CallEntry, type Flash, type Zone,
} from './board.ts';

// The wall display as one state object: pairing, the site's configuration and this display's
// zone, the live queue, the calls it shows, and the voice. It hangs on a wall for months with
// nobody to touch it, so everything heals by itself: the socket reconnects, every reconnect
// brings a fresh snapshot and a fresh read of the configuration and zone, a revoked display
// goes back to its pairing keypad. A call it missed while away (its link, its socket or the
// server down) is said when it is back, if the citizen is still awaited (missedCalls); what it
// heard before is never said again, after a reload of the page too.

const SCREEN = 'display';
/** the "reconnecting" marker appears only when the connection stays down this long */
export const OFFLINE_GRACE_MS = 3000;
/** configuration and zone are read on every connect, and this often besides */
const REFRESH_MS = 5 * 60_000;
/** entries of window.__qmsVoiceLog kept: a display runs for months */
const VOICE_LOG_LIMIT = 200;
/** where the display keeps, across reloads, when it last heard from the server */
const HEARD_KEY = 'qms.display.heard';
/** a live call this soon after the same call was said late (the snapshot came first) is not said twice */
const LATE_THEN_LIVE_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The device's own settings (GET /api/v1/devices/me), of which the display uses the zone. */
async function ownSettings(client: QmsClient): Promise<Record<string, unknown>> {
  try {
    return (await client.deviceMe()).settings ?? {};
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return {}; // a server without zones: the whole site
    throw error;
  }
}

/** When a display last heard the server, and the calls it heard in the minutes before. */
interface Heard {
  deviceId: string;
  at: number;
  calls: { ticketId: string; at: number }[];
}

/** What the page before this one heard, if it was this device's. */
function storedHeard(deviceId: string): Heard | null {
  try {
    const stored = JSON.parse(localStorage.getItem(HEARD_KEY) ?? 'null') as Partial<Heard> | null;
    if (stored?.deviceId !== deviceId || typeof stored.at !== 'number') return null;
    const calls = Array.isArray(stored.calls) ? stored.calls.filter((c) => typeof c?.ticketId === 'string' && typeof c.at === 'number') : [];
    return { deviceId, at: stored.at, calls };
  } catch {
    return null;
  }
}

export class Display {
  /** how this display got its device token; its keypad shows while `phase` is 'pairing' */
  readonly pairing = new DevicePairing(SCREEN, { accepts: (device) => device.kind === 'display', onPaired: (device) => this.run(device) });

  config = $state<SiteConfig | null>(null);
  zone = $state<Zone | null>(null);
  live = $state<LiveQueue | null>(null);
  /** every call seen today, newest first, for the whole site (see mergeCalls) */
  calls = $state.raw<CallEntry[]>([]);
  /** the site's clock (the server's, corrected for this machine's drift), ticking every second */
  now = $state(new Date());
  /** shown as the discreet marker: the connection has been down for OFFLINE_GRACE_MS */
  reconnecting = $state(false);
  /** the browser refused to play sound until someone touches the screen */
  soundBlocked = $state(false);
  flash = $state<Flash | null>(null);
  /** the site prefers the browser's vi-VN voice (shown on the board as data-prefer-system-voice) */
  preferSystemVoice = $state(false);
  /** what the Vietnamese sentence is spoken with: the system voice only when preferred and installed */
  voiceMode = $state<'clips' | 'system'>('clips');

  private clockOffset = 0;
  /** the server's clock (ms) when this display last heard from it; null until a snapshot set the clock */
  private lastHeard: number | null = null;
  private clockSet = false;
  private heardSavedAt = 0;
  /** calls said late from a snapshot (ticket@counter → when), so their live event is not said again */
  private saidLate = new Map<string, number>();
  /** Date.now() as the flash sees it: set every second, and by the timer that ends a flash */
  private flashClock = $state(Date.now());

  board: Board = $derived(boardOf({ calls: this.calls, snapshot: this.live?.snapshot ?? null, config: this.config, zone: this.zone, now: this.now }));
  /** the big box flashes: a live call or recall of the call it shows, for FLASH_MS */
  flashing = $derived(flashLeft(this.flash, this.board.current, this.flashClock) > 0);

  private device: StoredDevice | null = null;
  private client: QmsClient | null = null;
  private voice: DisplayVoice | null = null;
  /** calls that arrived before this display knew its zone */
  private held: TicketCalled[] = [];
  private settingsLoaded = false;
  private offlineTimer: ReturnType<typeof setTimeout> | undefined;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;
  private flashSeq = 0;
  private refreshing = false;
  private refreshAgain = false;
  private timers: ReturnType<typeof setInterval>[] = [];

  get phase(): 'starting' | 'pairing' | 'running' {
    return this.pairing.phase === 'paired' ? 'running' : this.pairing.phase;
  }

  /** Starts the display; returns the cleanup for the component that owns it. */
  start(): () => void {
    this.voice = createDisplayVoice();
    this.voice.announcer.onStateChange((state) => (this.soundBlocked = state === 'needsTap'));
    this.voice.announcer.onPlayed(() => {
      const log = (globalThis as Record<string, unknown>)[VOICE_LOG_KEY];
      if (Array.isArray(log) && log.length > VOICE_LOG_LIMIT) log.splice(0, log.length - VOICE_LOG_LIMIT);
    });
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setInterval(() => void this.refresh(), REFRESH_MS));
    void this.pairing.start();
    return () => {
      for (const timer of this.timers) clearInterval(timer);
      this.pairing.stop();
      this.live?.close();
      this.voice?.dispose();
    };
  }

  // ---- running -----------------------------------------------------------------------

  private run(device: StoredDevice) {
    this.device = device;
    this.client = createClient({ token: device.token });
    const socket = this.client.connect();
    followDeviceSocket(socket, { online: (up) => this.setOnline(up), revoked: () => this.unpair() });
    // the configuration or this display's zone may have changed while it was away
    socket.on('connect', () => void this.refresh());
    socket.on('queue:snapshot', (snapshot) => {
      const at = Date.parse(snapshot.at);
      this.clockOffset = at - Date.now();
      this.clockSet = true;
      this.now = new Date(at);
      // the snapshot's calls are shown; said only when made since this display last heard the
      // server and never heard live: a reconnect or a reload repeats nothing
      const before = this.lastHeard === null ? storedHeard(device.deviceId) : null;
      const lastHeard = this.lastHeard ?? before?.at ?? null;
      const late = lastHeard === null ? [] : missedCalls(snapshot.recentCalls, [...this.calls, ...(before?.calls ?? [])], lastHeard, at);
      this.calls = mergeCalls(this.calls, snapshot.recentCalls.map(entryFromRecent));
      this.hear(true);
      for (const call of late) this.sayLate(call);
    });
    // anything from the server (events, its pings every 10 s) is a moment the display heard it
    socket.onAny((event) => event !== 'queue:snapshot' && event !== 'ticket:called' && this.hear());
    socket.io.on('ping', () => this.hear());
    // a manager changed the site (names, counters, the phrase, the voice) or a display's zone:
    // read it again and apply it in place, keeping what is on screen and the voice's queue
    socket.on('site:updated', () => void this.refresh());
    const live = new LiveQueue(socket);
    live.onCall((call) => this.onLiveCall(call));
    this.live = live;
    this.setOnline(false);
  }

  /** A call while connected: shown at once, flashed and announced when it is in the zone. */
  private onLiveCall(call: TicketCalled) {
    this.calls = mergeCalls(this.calls, [entryFromLive(call, Date.now() + this.clockOffset)]);
    this.hear(true);
    const saidLate = this.saidLate.get(`${call.ticket.id}@${call.counter.id}`);
    if (!call.recall && saidLate !== undefined && Date.now() - saidLate < LATE_THEN_LIVE_MS) return;
    // once on screen, the server hears it (its call-to-display latency, docs/observability.md)
    const socket = this.live?.socket;
    const { id: ticketId, calledAt } = call.ticket;
    if (socket && calledAt) void tick().then(() => socket.connected && socket.emit('call:displayed', { ticketId, calledAt }));
    if (!this.settingsLoaded) {
      this.held.push(call); // announced once the zone is known
      return;
    }
    this.announce(call);
  }

  /** A call of a snapshot this display missed (missedCalls): flashed and announced like a live one. */
  private sayLate(call: RecentCall) {
    const now = Date.now();
    for (const [key, at] of this.saidLate) if (now - at >= LATE_THEN_LIVE_MS) this.saidLate.delete(key);
    this.saidLate.set(`${call.ticket.id}@${call.counter.id}`, now);
    const live: TicketCalled = { ticket: call.ticket, counter: call.counter, recall: false };
    if (this.settingsLoaded) this.announce(live);
    else this.held.push(live); // announced once the zone is known
  }

  /**
   * The display heard the server now. Kept across reloads with the calls of the last minutes
   * (their times as this display reckoned them, a few ms off the server's): at once after a call
   * or a snapshot, at most once a second otherwise.
   */
  private hear(save = false) {
    if (!this.clockSet) return; // no snapshot yet: this machine's clock is not the server's
    const now = Date.now();
    const at = now + this.clockOffset;
    this.lastHeard = at;
    if (!this.device || (!save && now - this.heardSavedAt < 1000)) return;
    this.heardSavedAt = now;
    const calls = this.calls.filter((c) => c.at >= at - MISSED_CALL_MS).map((c) => ({ ticketId: c.ticketId, at: c.at }));
    try {
      localStorage.setItem(HEARD_KEY, JSON.stringify({ deviceId: this.device.deviceId, at, calls } satisfies Heard));
    } catch {
      // storage full or refused: only a reload loses what was heard
    }
  }

  private announce(call: TicketCalled) {
    if (!callInZone(this.zone, { counterId: call.counter.id, serviceId: call.ticket.serviceId })) return;
    this.flashClock = Date.now();
    this.flash = { ticketId: call.ticket.id, since: this.flashClock, seq: ++this.flashSeq };
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => (this.flashClock = Date.now()), FLASH_MS);
    // the template is read at each call, so a changed announcement takes effect at once
    const template = this.config?.announcement ?? undefined;
    this.voice?.announcer.enqueue(buildAnnouncement({ code: call.ticket.code, counter: call.counter.number, template }));
  }

  /** The device was revoked (or the database replaced): back to the pairing keypad. */
  private unpair() {
    this.live?.close();
    this.live = null;
    this.config = null;
    this.zone = null;
    this.calls = [];
    this.flash = null;
    this.held = [];
    this.lastHeard = null;
    this.clockSet = false;
    this.saidLate.clear();
    localStorage.removeItem(HEARD_KEY);
    this.settingsLoaded = false;
    this.device = null;
    this.client = null;
    this.setOnline(true);
    this.pairing.unpair();
  }

  private setOnline(online: boolean) {
    if (online) {
      clearTimeout(this.offlineTimer);
      this.offlineTimer = undefined;
      this.reconnecting = false;
    } else if (!this.offlineTimer && !this.reconnecting) {
      // counted from the first failure, not restarted by every failed reconnection attempt
      this.offlineTimer = setTimeout(() => {
        this.offlineTimer = undefined;
        this.reconnecting = true;
      }, OFFLINE_GRACE_MS);
    }
  }

  /** Reads the site configuration and this display's zone, retrying with back-off until both come. */
  async refresh() {
    if (!this.client || !this.device) return;
    if (this.refreshing) {
      this.refreshAgain = true; // a change came while reading: read once more after this read
      return;
    }
    this.refreshing = true;
    const client = this.client;
    const { siteId } = this.device;
    try {
      for (let attempt = 0; this.client === client; attempt++) {
        try {
          this.refreshAgain = false;
          const [config, settings] = await Promise.all([client.site(siteId), ownSettings(client)]);
          if (this.client !== client) return;
          this.config = config;
          this.zone = zoneOf(settings);
          this.applyVoice(config.preferSystemVoice === true);
          this.settingsLoaded = true;
          for (const call of this.held.splice(0)) this.announce(call);
          if (!this.refreshAgain) return;
          attempt = -1;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) return this.unpair();
          await sleep(Math.min(15_000, 1000 * 2 ** attempt));
        }
      }
    } finally {
      this.refreshing = false;
    }
  }

  /** The site's voice choice, applied to the running announcer: its queue goes on. */
  private applyVoice(prefer: boolean) {
    this.preferSystemVoice = prefer;
    if (!this.voice) return;
    this.voice.announcer.preferSystemVoice = prefer;
    this.voiceMode = this.voice.announcer.speaksWithSystemVoice('vi') ? 'system' : 'clips';
  }

  private tick() {
    this.now = new Date(Date.now() + this.clockOffset);
    this.flashClock = Date.now();
  }
}
