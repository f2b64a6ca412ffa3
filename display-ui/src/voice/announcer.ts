// Plays announcements on the wall display: a queue, so calls that arrive together are all
// heard, in order, one clip at a time. The audio device is injected (`play`, `speak`), which
// keeps the ordering, recall and blocked-autoplay logic testable without a browser.

import { CLIP_VERSION } from './clip-version.ts';
import { CLIP_EXT, clipLanguage, parseTtsSegment, type VoiceLang } from './clips.ts';
import { createAudioElementPlayer, createSystemVoice, createWebAudioPlayer, type ClipPlayer, type PlayClip, type Speak } from './browser-audio.ts';
import type { Announcement } from './phrase.ts';

export type { PlayClip, Speak } from './browser-audio.ts';

/**
 * idle: nothing to play. playing: working through the queue. needsTap: the browser blocked
 * autoplay; the queue is kept and resumes after `unlock()` is called from a user gesture.
 */
export type AnnouncerState = 'idle' | 'playing' | 'needsTap';

export interface PlayedAnnouncement {
  /** Order of `enqueue`, from 1. */
  seq: number;
  /**
   * What was heard, in order: clip names, and `tts:<lang>:<text>` for what speechSynthesis
   * spoke (a system voice reading a whole sentence, or a tts segment of the announcement).
   */
  clips: string[];
  /** Clips or speech that failed or timed out and were skipped, in order. */
  failed: string[];
  text: Announcement['text'];
  /** 'stale': waited longer than `staleAfterMs` (e.g. behind a blocked autoplay) and was not played. */
  outcome: 'played' | 'stale';
  enqueuedAt: number;
  startedAt: number;
  endedAt: number;
}

export interface AnnouncerOptions {
  /** Plays one clip URL to its end. Default: Web Audio where the browser has it, else HTMLAudioElement. */
  play?: PlayClip;
  /** Warms up clips about to be played. Default: the default player's preload. */
  preload?: (urls: readonly string[]) => void;
  /** Called synchronously inside `unlock()`, i.e. inside the user's gesture. Default: the default player's unlock. */
  unlockAudio?: () => void;
  /** Speaks text with the system voice. Default: speechSynthesis when the browser has it; null for none. */
  speak?: Speak | null;
  /** Whether a system voice exists for a language. Default: speechSynthesis.getVoices(); true when only `speak` is injected. */
  hasSystemVoice?: (lang: VoiceLang) => boolean;
  /** Read each language's sentence with the system voice when it has one (the site's choice). Default false. */
  preferSystemVoice?: boolean;
  /** Where clips are served; default '/display/voice/'. */
  baseUrl?: string;
  /** Clip file extension; default CLIP_EXT ('ogg'). */
  ext?: string;
  /**
   * Appended to clip URLs as ?v=… so regenerated clips beat the server's year-long cache;
   * default CLIP_VERSION (a hash of the committed clips). '' for bare URLs.
   */
  clipVersion?: string;
  /** Silence between two announcements, ms; default 700. */
  gapMs?: number;
  /** A clip that has not ended after this long is stopped and skipped; default 8000 ms. */
  clipTimeoutMs?: number;
  /** The same for a spoken sentence; default 20000 ms. */
  speechTimeoutMs?: number;
  /**
   * Announcements that waited longer than this are reported as stale instead of played.
   * Default: never (every call is announced, however late).
   */
  staleAfterMs?: number;
  now?: () => number;
}

interface Pending {
  seq: number;
  announcement: Announcement;
  enqueuedAt: number;
}

type Attempt = 'ok' | 'failed' | 'blocked';

/** True for the error a browser gives when autoplay needs a user gesture first. */
export function isAutoplayBlocked(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'NotAllowedError';
}

export class Announcer {
  #queue: Pending[] = [];
  #seq = 0;
  #state: AnnouncerState = 'idle';
  #running = false;
  #disposed = false;
  /** Bumped by unlock(), so a play attempt that was refused just before the tap is retried. */
  #unlocks = 0;
  #current: AbortController | undefined;
  #playedListeners = new Set<(played: PlayedAnnouncement) => void>();
  #stateListeners = new Set<(state: AnnouncerState) => void>();

  readonly #play: PlayClip;
  readonly #preload: ((urls: readonly string[]) => void) | undefined;
  readonly #unlockAudio: (() => void) | undefined;
  readonly #speak: Speak | undefined;
  readonly #hasSystemVoice: (lang: VoiceLang) => boolean;
  #preferSystemVoice: boolean;
  readonly #baseUrl: string;
  readonly #ext: string;
  readonly #query: string;
  readonly #gapMs: number;
  readonly #clipTimeoutMs: number;
  readonly #speechTimeoutMs: number;
  readonly #staleAfterMs: number;
  readonly #now: () => number;

  constructor(options: AnnouncerOptions = {}) {
    if (options.play) {
      this.#play = options.play;
      this.#preload = options.preload;
      this.#unlockAudio = options.unlockAudio;
    } else {
      const player: ClipPlayer & { unlock?: () => void } =
        typeof AudioContext === 'function' ? createWebAudioPlayer() : createAudioElementPlayer();
      this.#play = player.play;
      this.#preload = options.preload ?? ((urls) => player.preload(urls));
      this.#unlockAudio = options.unlockAudio ?? player.unlock;
    }
    if (options.speak === undefined) {
      const system = createSystemVoice();
      this.#speak = system?.speak;
      this.#hasSystemVoice = options.hasSystemVoice ?? ((lang) => system?.hasVoice(lang) ?? false);
    } else {
      this.#speak = options.speak ?? undefined;
      this.#hasSystemVoice = options.hasSystemVoice ?? (() => this.#speak !== undefined);
    }
    this.#preferSystemVoice = options.preferSystemVoice ?? false;
    const base = options.baseUrl ?? '/display/voice/';
    this.#baseUrl = base.endsWith('/') ? base : `${base}/`;
    this.#ext = options.ext ?? CLIP_EXT;
    const version = options.clipVersion ?? CLIP_VERSION;
    this.#query = version ? `?v=${encodeURIComponent(version)}` : '';
    this.#gapMs = options.gapMs ?? 700;
    this.#clipTimeoutMs = options.clipTimeoutMs ?? 8000;
    this.#speechTimeoutMs = options.speechTimeoutMs ?? 20_000;
    this.#staleAfterMs = options.staleAfterMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? (() => Date.now());
  }

  get state(): AnnouncerState {
    return this.#state;
  }

  /** The site's choice, changed live (site:updated): it applies from the next sentence on, the queue is kept. */
  get preferSystemVoice(): boolean {
    return this.#preferSystemVoice;
  }

  set preferSystemVoice(prefer: boolean) {
    this.#preferSystemVoice = prefer;
  }

  /** Whether a sentence in `lang` would be spoken by the system voice now (see useSystemVoice). */
  speaksWithSystemVoice(lang: VoiceLang): boolean {
    return this.#useSystemVoice(lang);
  }

  /** Announcements waiting or being played. */
  get pending(): number {
    return this.#queue.length;
  }

  /** URL a clip is fetched from. */
  urlOf(clip: string): string {
    return `${this.#baseUrl}${clip}.${this.#ext}${this.#query}`;
  }

  /**
   * Queues an announcement (a recall is simply enqueued again) and returns its sequence
   * number. Nothing is ever dropped; announcements play strictly one after another.
   */
  enqueue(announcement: Announcement): number {
    if (this.#disposed) throw new Error('Announcer is disposed');
    const seq = ++this.#seq;
    this.#queue.push({ seq, announcement, enqueuedAt: this.#now() });
    this.#preload?.(announcement.clips.filter((c) => !parseTtsSegment(c)).map((c) => this.urlOf(c)));
    // While blocked this retries the head once: if the page has meanwhile been allowed to
    // play (a gesture the UI did not forward), the queue resumes by itself.
    void this.#pump();
    return seq;
  }

  /** Call from a user gesture (tap, click, key) after `needsTap`: resumes the queue. */
  unlock(): void {
    if (this.#disposed) return;
    this.#unlockAudio?.();
    this.#unlocks++;
    // Take the prompt down at once; a second refusal puts it back.
    if (this.#state === 'needsTap') this.#setState(this.#queue.length > 0 ? 'playing' : 'idle');
    void this.#pump();
  }

  /** Reports every finished announcement with the exact clips heard. Returns an unsubscribe. */
  onPlayed(listener: (played: PlayedAnnouncement) => void): () => void {
    this.#playedListeners.add(listener);
    return () => this.#playedListeners.delete(listener);
  }

  onStateChange(listener: (state: AnnouncerState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Stops the current clip and forgets the queue. */
  dispose(): void {
    this.#disposed = true;
    this.#queue = [];
    this.#current?.abort(new DOMException('announcer disposed', 'AbortError'));
    this.#playedListeners.clear();
    this.#stateListeners.clear();
  }

  #setState(state: AnnouncerState) {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#disposed) {
        const head = this.#queue[0]!;
        if (this.#now() - head.enqueuedAt > this.#staleAfterMs) {
          this.#queue.shift();
          const at = this.#now();
          this.#emit({ ...this.#record(head, at), outcome: 'stale', endedAt: at });
          continue;
        }
        // Stay in needsTap until something is actually heard, so the prompt does not flicker.
        if (this.#state === 'idle') this.#setState('playing');
        const unlocksBefore = this.#unlocks;
        const played = await this.#perform(head);
        if (this.#disposed) return;
        if (played === 'blocked') {
          if (this.#unlocks !== unlocksBefore) continue; // refused just before the tap: try again
          this.#setState('needsTap');
          return;
        }
        this.#queue.shift();
        this.#emit(played);
        if (this.#queue.length > 0 && this.#gapMs > 0) await delay(this.#gapMs);
      }
      if (!this.#disposed) this.#setState('idle');
    } finally {
      this.#running = false;
    }
  }

  #record(item: Pending, startedAt: number): PlayedAnnouncement {
    return {
      seq: item.seq,
      clips: [],
      failed: [],
      text: item.announcement.text,
      outcome: 'played',
      enqueuedAt: item.enqueuedAt,
      startedAt,
      endedAt: startedAt,
    };
  }

  #emit(played: PlayedAnnouncement) {
    for (const listener of this.#playedListeners) listener(played);
  }

  /**
   * Plays one announcement from its start. A blocked autoplay abandons it (it stays at the
   * head of the queue and is replayed whole after the tap: half a call is no use to anyone).
   */
  async #perform(item: Pending): Promise<PlayedAnnouncement | 'blocked'> {
    const record = this.#record(item, this.#now());
    const { text } = item.announcement;

    for (const section of sections(item.announcement.clips)) {
      if (section.lang && this.#useSystemVoice(section.lang)) {
        const entry = `tts:${section.lang}:${text[section.lang]}`;
        const outcome = await this.#speakOnce(text[section.lang], section.lang);
        if (outcome === 'blocked') return 'blocked';
        if (outcome === 'ok') {
          record.clips.push(entry);
          continue;
        }
        record.failed.push(entry); // the system voice failed: fall back to the clips
      }
      for (const clip of section.clips) {
        if (this.#disposed) return record;
        const tts = parseTtsSegment(clip);
        let outcome: Attempt;
        if (!tts) outcome = await this.#attempt((signal) => this.#play(this.urlOf(clip), signal), this.#clipTimeoutMs);
        else if (this.#speak && this.#hasSystemVoice(tts.lang)) outcome = await this.#speakOnce(tts.text, tts.lang);
        else outcome = 'failed'; // no recording and no voice for it: skipped, as documented
        if (outcome === 'blocked') return 'blocked';
        if (this.#state === 'needsTap' && outcome === 'ok') this.#setState('playing');
        (outcome === 'ok' ? record.clips : record.failed).push(clip);
      }
    }
    record.endedAt = this.#now();
    return record;
  }

  #useSystemVoice(lang: VoiceLang): boolean {
    return useSystemVoice(lang, { prefer: this.#preferSystemVoice, canSpeak: this.#speak !== undefined, hasVoice: this.#hasSystemVoice });
  }

  async #speakOnce(text: string, lang: VoiceLang): Promise<Attempt> {
    const outcome = await this.#attempt((signal) => this.#speak!(text, lang, signal), this.#speechTimeoutMs);
    if (this.#state === 'needsTap' && outcome === 'ok') this.#setState('playing');
    return outcome;
  }

  /** Runs one clip or utterance with a watchdog, so a stalled element cannot hang the queue. */
  async #attempt(run: (signal: AbortSignal) => Promise<void>, timeoutMs: number): Promise<Attempt> {
    const controller = new AbortController();
    this.#current = controller;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new DOMException(`no end after ${timeoutMs} ms`, 'TimeoutError');
        controller.abort(error); // stops the element, so the next clip never overlaps it
        reject(error);
      }, timeoutMs);
    });
    try {
      await Promise.race([run(controller.signal), watchdog]);
      return 'ok';
    } catch (error) {
      return isAutoplayBlocked(error) ? 'blocked' : 'failed';
    } finally {
      clearTimeout(timer);
      if (this.#current === controller) this.#current = undefined;
    }
  }
}

/**
 * Whether a sentence is read by the browser's speech voice rather than the recorded clips:
 * only when the site prefers it, the browser can speak, and a Vietnamese (vi-VN) voice is
 * installed; then each language that has a voice of its own is spoken (English with an
 * English voice, else its clips). Without a vi-VN voice everything comes from the clips, so a
 * display never mixes a foreign system voice into the Vietnamese call.
 */
export function useSystemVoice(
  lang: VoiceLang,
  { prefer, canSpeak, hasVoice }: { prefer: boolean; canSpeak: boolean; hasVoice: (lang: VoiceLang) => boolean },
): boolean {
  return prefer && canSpeak && hasVoice('vi') && hasVoice(lang);
}

/** Consecutive clips of one language (the chime has none), so a system voice can replace a sentence. */
function sections(clips: readonly string[]): { lang: VoiceLang | undefined; clips: string[] }[] {
  const out: { lang: VoiceLang | undefined; clips: string[] }[] = [];
  for (const clip of clips) {
    const lang = clipLanguage(clip);
    const last = out.at(-1);
    if (last && last.lang === lang) last.clips.push(clip);
    else out.push({ lang, clips: [clip] });
  }
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
