import { tick } from 'svelte';
import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';
import type { SiteConfig, TicketCalled } from '@qms/protocol';
import { DevicePairing, followDeviceSocket, type StoredDevice } from '@qms/ui-shared/device';
import { LiveQueue } from '@qms/ui-shared/live-queue';
import { createDisplayVoice, VOICE_LOG_KEY, type DisplayVoice } from '../voice/display-voice.ts';
import { buildAnnouncement } from '../voice/phrase.ts';
import {
  boardOf, callInZone, callKey, entryFromLive, entryFromRecent, flashLeft, FLASH_MS, hearCalls, heardFromRecord, heardOf, heardRecord, mergeCalls, missedCalls, snapshotCalls, wasHeard, zoneOf,
  type Board, type CallEntry, type Flash, type Heard, type Zone,
} from './board.ts';

// The wall display as one state object: pairing, the site's configuration and this display's
// zone, the live queue, the calls it shows, and the voice. It hangs on a wall for months with
// nobody to touch it, so everything heals by itself: the socket reconnects, every reconnect
// brings a fresh snapshot and a fresh read of the configuration and zone, a revoked display
// goes back to its pairing keypad. A call is said once: live, or, missed while the display was
// away (its link, its socket, the server or its page down), from the snapshot it gets back with
// if the citizen is still awaited (missedCalls in board.ts).

const SCREEN = 'display';
/** the "reconnecting" marker appears only when the connection stays down this long */
export const OFFLINE_GRACE_MS = 3000;
/** configuration and zone are read on every connect, and this often besides */
const REFRESH_MS = 5 * 60_000;
/**
 * After a reconnect, calls (those said late first) wait this long at most for the fresh read of
 * the zone, which may have changed while the display was away; then they go with the zone known.
 */
const ZONE_WAIT_MS = 5000;
/** entries of window.__qmsVoiceLog kept: a display runs for months */
const VOICE_LOG_LIMIT = 200;
/** the calls this display heard, kept across reloads (see Heard) */
const HEARD_KEY = 'qms.display.heard';

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

/** A call as the display is asked to say it. */
type Call = Pick<TicketCalled, 'ticket' | 'counter' | 'at'>;

/** The calls this device heard, as the page before this one kept them (heardFromRecord); null when there was none. */
function storedHeard(deviceId: string): Heard | null {
  try {
    return heardFromRecord(JSON.parse(localStorage.getItem(HEARD_KEY) ?? 'null'), deviceId);
  } catch {
    return null;
  }
}

function forgetHeard(): void {
  try {
    localStorage.removeItem(HEARD_KEY);
  } catch {
    // no storage: nothing kept
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
  /** Date.now() as the flash sees it: set every second, and by the timer that ends a flash */
  private flashClock = $state(Date.now());

  board: Board = $derived(boardOf({ calls: this.calls, snapshot: this.live?.snapshot ?? null, config: this.config, zone: this.zone, now: this.now }));
  /** the big box flashes: a live call or recall of the call it shows, for FLASH_MS */
  flashing = $derived(flashLeft(this.flash, this.board.current, this.flashClock) > 0);

  private device: StoredDevice | null = null;
  private client: QmsClient | null = null;
  private voice: DisplayVoice | null = null;
  /** calls that arrived before this display knew its zone */
  private held: Call[] = [];
  /** the calls heard, so that none is said twice, and those missed are said late */
  private heard: Heard = new Map();
  /** false until a snapshot was handled here or a past page's calls were read: a new display says nothing late */
  private knowsPast = false;
  /** calls the last snapshot showed without saying them (callKey): their live event, if it comes after, is said */
  private shownUnsaid = new Set<string>();
  /** calls queued to be said and not said yet, by the announcer's number: a reload says them (storedHeard) */
  private queued = new Map<number, { ticketId: string; at: number }>();
  /** the zone is known and current: calls are said at once rather than held */
  private settingsLoaded = false;
  private zoneTimer: ReturnType<typeof setTimeout> | undefined;
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
    this.voice.announcer.onPlayed(({ seq }) => {
      if (this.queued.delete(seq)) this.keepHeard();
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
    const stored = storedHeard(device.deviceId);
    if (stored) [this.heard, this.knowsPast] = [stored, true];
    this.client = createClient({ token: device.token });
    const socket = this.client.connect();
    followDeviceSocket(socket, { online: (up) => this.setOnline(up), revoked: () => this.unpair() });
    // the configuration or this display's zone may have changed while it was away: calls, the
    // snapshot's late ones first, wait for their fresh read (ZONE_WAIT_MS at most)
    socket.on('connect', () => {
      if (this.settingsLoaded) {
        this.settingsLoaded = false;
        clearTimeout(this.zoneTimer);
        this.zoneTimer = setTimeout(() => this.zoneKnown(), ZONE_WAIT_MS);
      }
      void this.refresh();
    });
    socket.on('queue:snapshot', (snapshot) => {
      const at = Date.parse(snapshot.at);
      this.clockOffset = at - Date.now();
      this.now = new Date(at);
      // said late once the zone is read again (held by say until then)
      const calls = snapshotCalls(snapshot);
      const late = this.knowsPast ? missedCalls(calls, this.heard, at) : [];
      this.knowsPast = true;
      this.calls = mergeCalls(this.calls, [...snapshot.recentCalls, ...late].map(entryFromRecent));
      // every call shown is heard from now on, said or not, so a later snapshot repeats none; but
      // the live event of one this snapshot showed without saying may still be on its way
      const heard = calls.map(heardOf);
      this.shownUnsaid = new Set(heard.filter((c) => !wasHeard(this.heard, c.ticketId, c.at) && !late.some((l) => l.ticket.id === c.ticketId)).map(callKey));
      this.hear(heard, at);
      for (const call of late) this.say(call);
    });
    // a manager changed the site (names, counters, the phrase, the voice) or a display's zone:
    // read it again and apply it in place, keeping what is on screen and the voice's queue
    socket.on('site:updated', () => void this.refresh());
    const live = new LiveQueue(socket);
    live.onCall((call) => this.onLiveCall(call));
    this.live = live;
    this.setOnline(false);
  }

  /** A call while connected: shown at once, flashed and announced when it is in the zone, unless a snapshot brought it first. */
  private onLiveCall(call: TicketCalled) {
    this.calls = mergeCalls(this.calls, [entryFromLive(call, Date.now() + this.clockOffset)]);
    const heard = heardOf(call);
    if (!Number.isFinite(heard.at)) return this.say(call); // a server that does not send `at`: said, never matched
    if (wasHeard(this.heard, heard.ticketId, heard.at) && !this.shownUnsaid.delete(callKey(heard))) return;
    // kept for the next page by say, with the call's fate (queued, held or outside the zone): one write
    hearCalls(this.heard, [heard], heard.at);
    // once on screen, the server hears it (its call-to-display latency, docs/observability.md)
    const socket = this.live?.socket;
    const { id: ticketId, calledAt } = call.ticket;
    if (socket && calledAt) void tick().then(() => socket.connected && socket.emit('call:displayed', { ticketId, calledAt }));
    this.say(call);
  }

  /** Says a call now, or once the zone is known (read since the last connect). */
  private say(call: Call) {
    if (this.settingsLoaded) this.announce(call);
    else {
      this.held.push(call);
      this.keepHeard();
    }
  }

  /** Notes calls as heard (`now`: the server's instant) and keeps them for the next page. */
  private hear(calls: Iterable<{ ticketId: string; at: number }>, now: number) {
    hearCalls(this.heard, calls, now);
    this.keepHeard();
  }

  /** Keeps the calls heard for the next page, marking those still to be said, queued or held (heardRecord). */
  private keepHeard() {
    if (!this.device) return;
    const record = heardRecord(this.device.deviceId, this.heard, [...this.queued.values(), ...this.held.map(heardOf)]);
    try {
      localStorage.setItem(HEARD_KEY, JSON.stringify(record));
    } catch {
      // storage full or refused: the next page starts as a new display (says nothing late) rather
      // than from an older record (would repeat what was heard since)
      forgetHeard();
    }
  }

  private announce(call: Call) {
    if (!callInZone(this.zone, { counterId: call.counter.id, serviceId: call.ticket.serviceId })) return this.keepHeard();
    this.flashClock = Date.now();
    this.flash = { ticketId: call.ticket.id, since: this.flashClock, seq: ++this.flashSeq };
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => (this.flashClock = Date.now()), FLASH_MS);
    // the template is read at each call, so a changed announcement takes effect at once
    const template = this.config?.announcement ?? undefined;
    if (!this.voice) return;
    const seq = this.voice.announcer.enqueue(buildAnnouncement({ code: call.ticket.code, counter: call.counter.number, template }));
    this.queued.set(seq, heardOf(call));
    this.keepHeard();
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
    clearTimeout(this.zoneTimer);
    this.queued.clear();
    this.heard = new Map();
    this.knowsPast = false;
    this.shownUnsaid.clear();
    forgetHeard();
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
          // a change announced while reading: the calls held wait for the read after it
          if (!this.refreshAgain) return this.zoneKnown();
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

  /** The zone was read (or waited for long enough after a reconnect): the calls held are said. */
  private zoneKnown() {
    clearTimeout(this.zoneTimer);
    this.settingsLoaded = true;
    for (const call of this.held.splice(0)) this.announce(call);
    this.keepHeard();
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
