// The real devices behind the announcer: HTMLAudioElement for clips and speechSynthesis for
// system voices. Nothing here runs at import time, so the module loads under Node for tests.

import type { VoiceLang } from './clips.ts';

/** Plays one clip to its end; rejects with the element's error (NotAllowedError when autoplay is blocked). */
export type PlayClip = (url: string, signal?: AbortSignal) => Promise<void>;
/** Speaks one text to its end. */
export type Speak = (text: string, lang: VoiceLang, signal?: AbortSignal) => Promise<void>;

export interface ClipPlayer {
  play: PlayClip;
  /** Starts fetching clips that are about to be played, so there is no gap between them. */
  preload(urls: readonly string[]): void;
}

export interface AudioElementPlayerOptions {
  /** Creates the element; injectable for tests. Default `new Audio()`. */
  createAudio?: () => HTMLAudioElement;
  /** Elements kept loaded (one per clip URL); a display uses about 60 distinct clips. */
  cacheSize?: number;
}

/**
 * One HTMLAudioElement per clip URL, kept loaded and replayed from the start, so a clip heard
 * once is never fetched or decoded again and consecutive clips follow each other closely.
 */
export function createAudioElementPlayer(options: AudioElementPlayerOptions = {}): ClipPlayer {
  const createAudio = options.createAudio ?? (() => new Audio());
  const cacheSize = options.cacheSize ?? 128;
  const elements = new Map<string, HTMLAudioElement>();

  function element(url: string): HTMLAudioElement {
    let audio = elements.get(url);
    if (audio) {
      elements.delete(url); // re-insert: the map's order is least recently used first
    } else {
      audio = createAudio();
      audio.preload = 'auto';
      audio.src = url;
    }
    elements.set(url, audio);
    for (const [oldUrl, old] of elements) {
      if (elements.size <= cacheSize) break;
      if (old.paused) {
        elements.delete(oldUrl);
        old.removeAttribute('src');
        old.load(); // releases the decoder
      }
    }
    return audio;
  }

  function play(url: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const audio = element(url);
      const settle = (outcome: () => void) => {
        audio.removeEventListener('ended', onEnded);
        audio.removeEventListener('error', onError);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (error: unknown) => {
        // A broken element stays broken: drop it so the next call fetches the clip afresh.
        if (audio.error) elements.delete(url);
        settle(() => reject(error));
      };
      const onEnded = () => settle(resolve);
      const onError = () => fail(new Error(`cannot play ${url}: ${audio.error?.message || `media error ${audio.error?.code ?? ''}`}`));
      const onAbort = () => {
        audio.pause();
        settle(() => reject(signal?.reason));
      };
      audio.addEventListener('ended', onEnded);
      audio.addEventListener('error', onError);
      signal?.addEventListener('abort', onAbort);
      audio.currentTime = 0;
      // Rejects with NotAllowedError when the browser blocks autoplay before a user gesture.
      audio.play().catch(fail);
    });
  }

  return {
    play,
    preload(urls) {
      for (const url of urls) if (!elements.has(url)) element(url);
    },
  };
}

export interface WebAudioPlayer extends ClipPlayer {
  /** Resumes the AudioContext; call it from inside a user gesture's handler. */
  unlock(): void;
}

export interface WebAudioPlayerOptions {
  /** Creates the context (once, on first use); injectable for tests. Default `new AudioContext()`. */
  createContext?: () => AudioContext;
  fetch?: (url: string) => Promise<Response>;
  /** How long a suspended context may take to start before autoplay counts as blocked; default 300 ms. */
  resumeWaitMs?: number;
}

/**
 * Decoded clips played through one AudioContext. Preferred over audio elements because a
 * clip's end is reported within a few milliseconds, so consecutive clips join with only the
 * silence recorded in them (an element's `ended` comes 60-90 ms late in Chromium, which makes a
 * number like "hai mươi mốt" sound chopped). A context the browser keeps suspended for want
 * of a user gesture is reported as the same NotAllowedError an element's play() gives.
 */
export function createWebAudioPlayer(options: WebAudioPlayerOptions = {}): WebAudioPlayer {
  const createContext = options.createContext ?? (() => new AudioContext());
  const fetchClip = options.fetch ?? ((url: string) => fetch(url));
  const resumeWaitMs = options.resumeWaitMs ?? 300;
  let ctx: AudioContext | undefined;
  const context = () => (ctx ??= createContext());
  const buffers = new Map<string, Promise<AudioBuffer>>();

  function load(url: string): Promise<AudioBuffer> {
    let buffer = buffers.get(url);
    if (!buffer) {
      buffer = (async () => {
        const response = await fetchClip(url);
        if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
        return context().decodeAudioData(await response.arrayBuffer());
      })();
      buffers.set(url, buffer);
      buffer.catch(() => buffers.delete(url)); // try again next time
    }
    return buffer;
  }

  async function running(c: AudioContext) {
    if (c.state === 'running') return;
    await Promise.race([c.resume().catch(() => {}), new Promise((r) => setTimeout(r, resumeWaitMs))]);
    if ((c.state as string) !== 'running') {
      throw new DOMException('the AudioContext may only start after a user gesture', 'NotAllowedError');
    }
  }

  return {
    async play(url, signal) {
      const c = context();
      const buffer = await load(url); // decoding works while the context is suspended
      await running(c);
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const source = c.createBufferSource();
        source.buffer = buffer;
        source.connect(c.destination);
        const onAbort = () => {
          source.onended = null;
          source.stop();
          source.disconnect();
          reject(signal?.reason);
        };
        source.onended = () => {
          signal?.removeEventListener('abort', onAbort);
          source.disconnect();
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        source.start();
      });
    },
    preload(urls) {
      for (const url of urls) load(url).catch(() => {});
    },
    unlock() {
      context().resume().catch(() => {});
    },
  };
}

export interface SystemVoice {
  speak: Speak;
  /** Whether the browser has a voice for this language (vi-VN, en-*). */
  hasVoice(lang: VoiceLang): boolean;
}

const LOCALES: Record<VoiceLang, string> = { vi: 'vi-VN', en: 'en-GB' };

/** The browser's speechSynthesis, or undefined where there is none. */
export function createSystemVoice(synth: SpeechSynthesis | undefined = globalThis.speechSynthesis): SystemVoice | undefined {
  if (!synth || typeof SpeechSynthesisUtterance === 'undefined') return undefined;

  const voiceFor = (lang: VoiceLang): SpeechSynthesisVoice | undefined => {
    const voices = synth.getVoices().filter((v) => v.lang.replace('_', '-').toLowerCase().startsWith(lang));
    const exact = LOCALES[lang].toLowerCase();
    return voices.find((v) => v.lang.replace('_', '-').toLowerCase() === exact) ?? voices[0];
  };

  return {
    hasVoice: (lang) => voiceFor(lang) !== undefined,
    speak(text, lang, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const utterance = new SpeechSynthesisUtterance(text);
        utterance.lang = LOCALES[lang];
        const voice = voiceFor(lang);
        if (voice) utterance.voice = voice;
        utterance.rate = 0.9; // a wall announcement, not a screen reader
        const onAbort = () => synth.cancel();
        utterance.onend = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        utterance.onerror = (event) => {
          signal?.removeEventListener('abort', onAbort);
          // Chromium refuses speech before a user gesture just as it refuses audio.
          reject(
            event.error === 'not-allowed'
              ? new DOMException('speechSynthesis needs a user gesture', 'NotAllowedError')
              : new Error(`speechSynthesis: ${event.error}`),
          );
        };
        signal?.addEventListener('abort', onAbort);
        synth.speak(utterance);
      });
    },
  };
}
