// The announcer's queue logic against a fake audio device that takes time to play each clip.
// Fake timers stand in for the clock: this checks ordering, not sound.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Announcer, useSystemVoice, type AnnouncerOptions, type AnnouncerState, type PlayedAnnouncement } from '../src/voice/announcer.ts';
import { createDisplayVoice, VOICE_LOG_KEY } from '../src/voice/display-voice.ts';
import { buildAnnouncement, type Announcement } from '../src/voice/phrase.ts';
import type { VoiceLang } from '../src/voice/clips.ts';
import { CLIP_VERSION } from '../src/voice/clip-version.ts';

const CLIP_MS = 100;
const GAP_MS = 500;

interface Played {
  what: string;
  start: number;
  end: number;
}

/** An audio device: each clip takes CLIP_MS (or its own time); it can block autoplay or fail clips. */
class FakeDevice {
  played: Played[] = [];
  attempts: string[] = [];
  active = 0;
  maxActive = 0;
  blocked = false;
  /** Reject a blocked play only after this long (a real element decides asynchronously). */
  blockDelayMs = 0;
  broken = new Set<string>();
  stalled = new Set<string>();
  durations = new Map<string, number>();
  systemVoices = new Set<VoiceLang>();
  speechBroken = false;

  play = (url: string, signal?: AbortSignal) => this.#run(url, signal);
  speak = (text: string, lang: VoiceLang, signal?: AbortSignal) =>
    this.speechBroken ? Promise.reject(new Error('synthesis-failed')) : this.#run(`say ${lang}: ${text}`, signal);

  #run(what: string, signal?: AbortSignal): Promise<void> {
    this.attempts.push(what);
    return new Promise<void>((resolve, reject) => {
      if (this.blocked) {
        const refuse = () => reject(new DOMException('play() failed because the user did not interact', 'NotAllowedError'));
        if (this.blockDelayMs) setTimeout(refuse, this.blockDelayMs);
        else refuse();
        return;
      }
      if (this.broken.has(what)) return reject(new Error(`404 ${what}`));
      const start = Date.now();
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      const finish = () => {
        this.active--;
        this.played.push({ what, start, end: Date.now() });
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        finish();
        reject(signal.reason);
      });
      if (this.stalled.has(what)) return; // never ends, like a stuck element
      timer = setTimeout(() => {
        finish();
        resolve();
      }, this.durations.get(what) ?? CLIP_MS);
    });
  }

  heard(): string[] {
    return this.played.map((p) => p.what.replace(/^\/display\/voice\/(.*)\.ogg$/, '$1'));
  }
}

function setup(options: AnnouncerOptions = {}, device = new FakeDevice()) {
  const announcer = new Announcer({
    play: device.play,
    speak: device.speak,
    hasSystemVoice: (lang) => device.systemVoices.has(lang),
    gapMs: GAP_MS,
    clipVersion: '',
    ...options,
  });
  const log: PlayedAnnouncement[] = [];
  const states: AnnouncerState[] = [];
  announcer.onPlayed((p) => log.push(p));
  announcer.onStateChange((s) => states.push(s));
  return { announcer, device, log, states };
}

const call = (code: string, counter: number): Announcement => buildAnnouncement({ code, counter });
const A023 = call('A023', 5);
const B101 = call('B101', 12);
const C007 = call('C007', 21);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Announcer', () => {
  it('plays every clip of an announcement in order from the clip URL', async () => {
    const { announcer, device, log, states } = setup();
    expect(announcer.enqueue(A023)).toBe(1);
    expect(announcer.state).toBe('playing');
    await vi.runAllTimersAsync();

    expect(device.played.map((p) => p.what)).toEqual(A023.clips.map((c) => `/display/voice/${c}.ogg`));
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ seq: 1, clips: A023.clips, failed: [], outcome: 'played', text: A023.text });
    expect(log[0]!.endedAt - log[0]!.startedAt).toBe(A023.clips.length * CLIP_MS);
    expect(states).toEqual(['playing', 'idle']);
    expect(announcer.pending).toBe(0);
  });

  it('takes a configurable base URL and extension', async () => {
    const { announcer, device } = setup({ baseUrl: 'http://site/display/voice', ext: 'mp3' });
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(device.played[0]!.what).toBe('http://site/display/voice/chime.mp3');
    expect(announcer.urlOf('vi/num-muoi')).toBe('http://site/display/voice/vi/num-muoi.mp3');
  });

  it('versions clip URLs with the hash of the committed clips by default', () => {
    const announcer = new Announcer({ play: async () => {}, speak: null });
    expect(announcer.urlOf('chime')).toBe(`/display/voice/chime.ogg?v=${CLIP_VERSION}`);
  });

  it('plays calls that arrive together one after another, in order, never overlapping', async () => {
    const { announcer, device, log } = setup();
    announcer.enqueue(A023);
    announcer.enqueue(B101);
    announcer.enqueue(C007);
    expect(announcer.pending).toBe(3);
    await vi.runAllTimersAsync();

    expect(device.heard()).toEqual([...A023.clips, ...B101.clips, ...C007.clips]);
    expect(log.map((p) => p.seq)).toEqual([1, 2, 3]);
    expect(log.map((p) => p.clips)).toEqual([A023.clips, B101.clips, C007.clips]);
    expect(device.maxActive).toBe(1);
    for (let i = 1; i < device.played.length; i++) expect(device.played[i]!.start).toBeGreaterThanOrEqual(device.played[i - 1]!.end);
    // a pause between two announcements, none inside one
    expect(log[1]!.startedAt - log[0]!.endedAt).toBe(GAP_MS);
    expect(log[2]!.startedAt - log[1]!.endedAt).toBe(GAP_MS);
  });

  it('queues a call that arrives in the middle of another and lets the first finish', async () => {
    const { announcer, device, log } = setup();
    announcer.enqueue(A023);
    await vi.advanceTimersByTimeAsync(CLIP_MS * 3 + 50); // in the middle of the code
    announcer.enqueue(B101);
    expect(device.active).toBe(1);
    await vi.runAllTimersAsync();
    expect(device.heard()).toEqual([...A023.clips, ...B101.clips]);
    expect(device.maxActive).toBe(1);
    expect(log.map((p) => p.clips)).toEqual([A023.clips, B101.clips]);
  });

  it('announces a recall again, even while the first call is still queued', async () => {
    const { announcer, device, log } = setup();
    announcer.enqueue(A023);
    announcer.enqueue(B101);
    announcer.enqueue(A023); // recall of A023 before B101 has even started
    await vi.runAllTimersAsync();
    expect(log.map((p) => p.text.vi)).toEqual([A023.text.vi, B101.text.vi, A023.text.vi]);
    expect(device.heard()).toEqual([...A023.clips, ...B101.clips, ...A023.clips]);

    announcer.enqueue(A023); // and after everything is quiet
    await vi.runAllTimersAsync();
    expect(log).toHaveLength(4);
    expect(log[3]!.clips).toEqual(A023.clips);
  });

  it('waits for a tap when autoplay is blocked, keeps every call, then plays them all in order', async () => {
    const { announcer, device, log, states } = setup();
    device.blocked = true;
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(announcer.state).toBe('needsTap');
    expect(announcer.pending).toBe(1);
    expect(log).toEqual([]);

    announcer.enqueue(B101); // another call while blocked: tried once, still blocked, kept
    await vi.runAllTimersAsync();
    expect(announcer.state).toBe('needsTap');
    expect(announcer.pending).toBe(2);
    expect(device.played).toEqual([]);

    device.blocked = false; // the user taps the screen
    announcer.unlock();
    expect(announcer.state).toBe('playing');
    await vi.runAllTimersAsync();

    expect(device.heard()).toEqual([...A023.clips, ...B101.clips]);
    expect(log.map((p) => p.clips)).toEqual([A023.clips, B101.clips]);
    expect(states).toEqual(['playing', 'needsTap', 'playing', 'idle']);
    expect(announcer.pending).toBe(0);
  });

  it('replays a call blocked halfway from its start after the tap', async () => {
    const { announcer, device, log } = setup();
    announcer.enqueue(A023);
    await vi.advanceTimersByTimeAsync(CLIP_MS - 1); // the chime is getting through
    device.blocked = true; // then the browser refuses the next clip
    await vi.runAllTimersAsync();
    expect(announcer.state).toBe('needsTap');
    expect(device.heard()).toEqual(['chime']);

    device.blocked = false;
    announcer.unlock();
    await vi.runAllTimersAsync();
    expect(device.heard()).toEqual(['chime', ...A023.clips]);
    expect(log).toHaveLength(1);
    expect(log[0]!.clips).toEqual(A023.clips);
  });

  it('does not get stuck when the tap comes while a refused play() is still settling', async () => {
    const { announcer, device, log, states } = setup();
    device.blocked = true;
    device.blockDelayMs = 30;
    announcer.enqueue(A023);
    await vi.advanceTimersByTimeAsync(10);
    device.blocked = false;
    announcer.unlock(); // the refusal of the first attempt lands after this
    await vi.runAllTimersAsync();
    expect(log.map((p) => p.clips)).toEqual([A023.clips]);
    expect(states).not.toContain('needsTap');
  });

  it('resumes by itself when a later call finds sound allowed (gesture the UI did not forward)', async () => {
    const { announcer, device, log, states } = setup();
    device.blocked = true;
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    device.blocked = false;
    announcer.enqueue(B101);
    await vi.runAllTimersAsync();
    expect(log.map((p) => p.clips)).toEqual([A023.clips, B101.clips]);
    expect(states).toEqual(['playing', 'needsTap', 'playing', 'idle']);
  });

  it('skips a clip that fails to load, reports it, and carries on', async () => {
    const { announcer, device, log } = setup();
    device.broken.add('/display/voice/vi/digit-2.ogg');
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(log[0]!.clips).toEqual(A023.clips.filter((c) => c !== 'vi/digit-2'));
    expect(log[0]!.failed).toEqual(['vi/digit-2']);
    expect(announcer.state).toBe('idle');
  });

  it('stops a clip that never ends after the timeout, so the queue cannot hang or overlap', async () => {
    const { announcer, device, log } = setup({ clipTimeoutMs: 2000 });
    device.stalled.add('/display/voice/chime.ogg');
    announcer.enqueue(A023);
    announcer.enqueue(B101);
    await vi.runAllTimersAsync();
    expect(log.map((p) => p.failed)).toEqual([['chime'], ['chime']]);
    expect(log[0]!.clips).toEqual(A023.clips.slice(1));
    expect(device.maxActive).toBe(1);
    expect(device.active).toBe(0);
    expect(log[0]!.endedAt - log[0]!.startedAt).toBe(2000 + (A023.clips.length - 1) * CLIP_MS);
  });

  it('reads each sentence with a system voice when the site prefers it and one is installed', async () => {
    const { announcer, device, log } = setup({ preferSystemVoice: true });
    device.systemVoices.add('vi'); // a vi-VN voice, but no English one: English from the clips
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    const english = A023.clips.filter((c) => c.startsWith('en/'));
    expect(device.heard()).toEqual(['chime', `say vi: ${A023.text.vi}`, ...english]);
    expect(log[0]!.clips).toEqual(['chime', `tts:vi:${A023.text.vi}`, ...english]);
  });

  it('uses the clips when a system voice is installed but not preferred, or preferred but missing', async () => {
    const preferred = setup({ preferSystemVoice: true });
    const installed = setup({ preferSystemVoice: false });
    installed.device.systemVoices.add('vi');
    preferred.announcer.enqueue(A023);
    installed.announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(preferred.log[0]!.clips).toEqual(A023.clips);
    expect(installed.log[0]!.clips).toEqual(A023.clips);
  });

  it('chooses the system voice only when preferred, speakable and a vi-VN voice exists', () => {
    const voices = (...langs: VoiceLang[]) => (lang: VoiceLang) => langs.includes(lang);
    const choice = (prefer: boolean, canSpeak: boolean, installed: VoiceLang[]) =>
      (['vi', 'en'] as const).map((lang) => useSystemVoice(lang, { prefer, canSpeak, hasVoice: voices(...installed) }));
    expect(choice(true, true, ['vi', 'en'])).toEqual([true, true]);
    expect(choice(true, true, ['vi'])).toEqual([true, false]); // English from its clips
    expect(choice(true, true, ['en'])).toEqual([false, false]); // no vi-VN voice: the clips, both languages
    expect(choice(true, true, [])).toEqual([false, false]);
    expect(choice(false, true, ['vi', 'en'])).toEqual([false, false]); // the site did not ask for it
    expect(choice(true, false, ['vi', 'en'])).toEqual([false, false]); // no speechSynthesis at all
  });

  it('plays the clips when only an English system voice is installed', async () => {
    const { announcer, device, log } = setup({ preferSystemVoice: true });
    device.systemVoices.add('en');
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(device.heard()).toEqual(A023.clips);
    expect(log[0]!.clips).toEqual(A023.clips);
  });

  it('applies a changed preference from the next announcement, keeping the queue in order', async () => {
    const { announcer, device, log } = setup({ preferSystemVoice: false });
    device.systemVoices.add('vi');
    device.systemVoices.add('en');
    announcer.enqueue(A023);
    announcer.enqueue(B101);
    await vi.advanceTimersByTimeAsync(CLIP_MS * 2); // A023 is playing
    announcer.preferSystemVoice = true; // the manager switched it on (site:updated)
    await vi.runAllTimersAsync();
    expect(log.map((p) => p.seq)).toEqual([1, 2]);
    // the Vietnamese sentence under way stays on the clips; the English one is the next sentence
    expect(log[0]!.clips).toEqual([...A023.clips.filter((c) => !c.startsWith('en/')), `tts:en:${A023.text.en}`]);
    expect(log[1]!.clips).toEqual(['chime', `tts:vi:${B101.text.vi}`, `tts:en:${B101.text.en}`]);
    expect(device.maxActive).toBe(1);
    announcer.preferSystemVoice = false;
    announcer.enqueue(C007);
    await vi.runAllTimersAsync();
    expect(log[2]!.clips).toEqual(C007.clips);
  });

  it('falls back to the clips when the system voice fails', async () => {
    const { announcer, device, log } = setup({ preferSystemVoice: true });
    device.systemVoices.add('vi');
    device.speechBroken = true;
    announcer.enqueue(A023);
    await vi.runAllTimersAsync();
    expect(log[0]!.clips).toEqual(A023.clips);
    expect(log[0]!.failed).toEqual([`tts:vi:${A023.text.vi}`]);
  });

  it('speaks tts segments of an unrecorded template, or skips them when there is no voice', async () => {
    const template = { vi: 'Mời số {code} tới quầy {counter}', en: 'Ticket number {code}, please go to counter {counter}' };
    const custom = buildAnnouncement({ code: 'A1', counter: 2, template });
    const withVoice = setup();
    withVoice.device.systemVoices.add('vi');
    const withoutVoice = setup({ speak: null });
    withVoice.announcer.enqueue(custom);
    withoutVoice.announcer.enqueue(custom);
    await vi.runAllTimersAsync();

    expect(withVoice.device.heard().slice(0, 5)).toEqual(['chime', 'say vi: Mời số', 'vi/letter-a', 'vi/digit-1', 'say vi: tới quầy']);
    expect(withVoice.log[0]!.clips).toEqual(custom.clips);
    expect(withoutVoice.log[0]!.clips).toEqual(custom.clips.filter((c) => !c.startsWith('tts:')));
    expect(withoutVoice.log[0]!.failed).toEqual(['tts:vi:Mời số', 'tts:vi:tới quầy']);
  });

  it('treats a refused speechSynthesis like a refused clip', async () => {
    const { announcer, device, log } = setup({ preferSystemVoice: true });
    device.systemVoices.add('vi');
    device.blocked = true;
    announcer.enqueue(buildAnnouncement({ code: 'A1', counter: 1, chime: false, languages: ['vi'] }));
    await vi.runAllTimersAsync();
    expect(announcer.state).toBe('needsTap');
    device.blocked = false;
    announcer.unlock();
    await vi.runAllTimersAsync();
    expect(log[0]!.clips).toEqual(['tts:vi:Xin mời công dân có số thứ tự A1 đến quầy số 1']);
  });

  it('never drops calls by default, however long the tap takes; staleAfterMs opts in to skipping', async () => {
    const keeps = setup();
    const skips = setup({ staleAfterMs: 60_000 });
    for (const { announcer, device } of [keeps, skips]) {
      device.blocked = true;
      announcer.enqueue(A023);
    }
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    for (const { announcer, device } of [keeps, skips]) {
      announcer.enqueue(B101);
      device.blocked = false;
      announcer.unlock();
    }
    await vi.runAllTimersAsync();
    expect(keeps.log.map((p) => [p.outcome, p.clips])).toEqual([['played', A023.clips], ['played', B101.clips]]);
    expect(skips.log.map((p) => [p.outcome, p.clips])).toEqual([['stale', []], ['played', B101.clips]]);
  });

  it('preloads the clip URLs of a queued announcement', () => {
    const preload = vi.fn();
    const { announcer } = setup({ preload });
    announcer.enqueue(buildAnnouncement({ code: 'A1', counter: 1, languages: ['en'], template: { vi: '', en: 'Go {code} {counter}' } }));
    expect(preload).toHaveBeenCalledWith(['/display/voice/chime.ogg', '/display/voice/en/letter-a.ogg', '/display/voice/en/digit-1.ogg', '/display/voice/en/num-1.ogg']);
  });

  it('stops the current clip and forgets the queue when disposed', async () => {
    const { announcer, device, log } = setup();
    announcer.enqueue(A023);
    announcer.enqueue(B101);
    await vi.advanceTimersByTimeAsync(CLIP_MS * 2 + 10);
    announcer.dispose();
    await vi.runAllTimersAsync();
    expect(device.active).toBe(0);
    expect(device.heard()).toEqual(A023.clips.slice(0, 3));
    expect(log).toEqual([]);
    expect(() => announcer.enqueue(A023)).toThrow(/disposed/);
  });
});

describe('createDisplayVoice', () => {
  it('logs what was played to __qmsVoiceLog and unlocks on a tap', async () => {
    const device = new FakeDevice();
    const page = new EventTarget();
    const window = {} as Record<string, unknown>;
    const voice = createDisplayVoice({ play: device.play, speak: null, gapMs: 0, gestureTarget: page, logTarget: window });

    device.blocked = true;
    voice.announce({ code: 'A023', counter: 5 });
    await vi.runAllTimersAsync();
    expect(voice.announcer.state).toBe('needsTap');

    device.blocked = false;
    page.dispatchEvent(new Event('pointerdown'));
    voice.announce({ code: 'A023', counter: 5 }); // recall
    await vi.runAllTimersAsync();

    const log = window[VOICE_LOG_KEY] as PlayedAnnouncement[];
    expect(log.map((p) => p.clips)).toEqual([A023.clips, A023.clips]);
    voice.dispose();
  });

  it('uses the site template', async () => {
    const device = new FakeDevice();
    const window = {} as Record<string, unknown>;
    const voice = createDisplayVoice({
      play: device.play, speak: null, gestureTarget: null, logTarget: window, languages: ['en'],
      template: { vi: '', en: 'Ticket number {code}, please go to counter {counter}' },
    });
    voice.announce({ code: 'Z9', counter: 40 });
    await vi.runAllTimersAsync();
    expect((window[VOICE_LOG_KEY] as PlayedAnnouncement[])[0]!.clips).toEqual([
      'chime', 'en/phrase-ticket-number', 'en/letter-z', 'en/digit-9', 'en/phrase-please-go-to-counter', 'en/num-40',
    ]);
  });
});
