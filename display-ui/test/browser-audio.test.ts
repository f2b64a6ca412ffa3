// The HTMLAudioElement player against a minimal stand-in element (an EventTarget with
// play/pause), checking how it maps the element's events onto one promise per clip.

import { describe, expect, it } from 'vitest';
import { createAudioElementPlayer, createWebAudioPlayer } from '../src/voice/browser-audio.ts';
import { isAutoplayBlocked } from '../src/voice/announcer.ts';

class FakeAudio extends EventTarget {
  src = '';
  preload = '';
  currentTime = 0;
  paused = true;
  error: { code: number; message: string } | null = null;
  plays = 0;
  refuse: DOMException | undefined;

  play(): Promise<void> {
    this.plays++;
    if (this.refuse) return Promise.reject(this.refuse);
    this.paused = false;
    return Promise.resolve();
  }
  pause() {
    this.paused = true;
  }
  load() {}
  removeAttribute(name: string) {
    if (name === 'src') this.src = '';
  }
  end() {
    this.paused = true;
    this.dispatchEvent(new Event('ended'));
  }
  fail() {
    this.error = { code: 4, message: 'MEDIA_ERR_SRC_NOT_SUPPORTED' };
    this.dispatchEvent(new Event('error'));
  }
}

function player(cacheSize?: number) {
  const created: FakeAudio[] = [];
  const p = createAudioElementPlayer({
    cacheSize,
    createAudio: () => {
      const audio = new FakeAudio();
      created.push(audio);
      return audio as unknown as HTMLAudioElement;
    },
  });
  return { ...p, created };
}

const settled = async (promise: Promise<void>) => {
  let state = 'pending';
  promise.then(() => (state = 'resolved'), () => (state = 'rejected'));
  await new Promise((r) => setTimeout(r, 0));
  return state;
};

describe('createAudioElementPlayer', () => {
  it('resolves when the clip has ended, from the start, reusing the loaded element', async () => {
    const p = player();
    const first = p.play('/v/chime.ogg');
    expect(await settled(first)).toBe('pending');
    const audio = p.created[0]!;
    expect(audio.src).toBe('/v/chime.ogg');
    audio.end();
    await first;

    audio.currentTime = 1.7;
    const again = p.play('/v/chime.ogg');
    expect(p.created).toHaveLength(1);
    expect(audio.currentTime).toBe(0);
    audio.end();
    await again;
  });

  it('passes on the NotAllowedError of a blocked autoplay', async () => {
    const p = player();
    p.preload(['/v/chime.ogg']);
    p.created[0]!.refuse = new DOMException('user did not interact', 'NotAllowedError');
    const error = await p.play('/v/chime.ogg').catch((e: unknown) => e);
    expect(isAutoplayBlocked(error)).toBe(true);
  });

  it('rejects on a media error and fetches the clip afresh next time', async () => {
    const p = player();
    const playing = p.play('/v/missing.ogg');
    p.created[0]!.fail();
    await expect(playing).rejects.toThrow(/cannot play \/v\/missing.ogg/);
    void p.play('/v/missing.ogg');
    expect(p.created).toHaveLength(2);
  });

  it('pauses the element when the announcer gives up on it', async () => {
    const p = player();
    const controller = new AbortController();
    const playing = p.play('/v/a.ogg', controller.signal);
    await settled(playing);
    expect(p.created[0]!.paused).toBe(false);
    controller.abort(new DOMException('timeout', 'TimeoutError'));
    await expect(playing).rejects.toThrow('timeout');
    expect(p.created[0]!.paused).toBe(true);
  });

  it('keeps at most cacheSize idle elements', () => {
    const p = player(2);
    p.preload(['/v/1.ogg', '/v/2.ogg', '/v/3.ogg']);
    expect(p.created.map((a) => a.src)).toEqual(['', '/v/2.ogg', '/v/3.ogg']);
  });
});

/** An AudioContext that starts suspended (as before a user gesture) unless told otherwise. */
class FakeContext {
  state: 'suspended' | 'running' = 'suspended';
  allowed = false;
  destination = {};
  sources: FakeSource[] = [];
  decoded: string[] = [];
  resume() {
    if (this.allowed) this.state = 'running';
    return this.allowed ? Promise.resolve() : new Promise<void>(() => {}); // Chromium leaves it pending
  }
  async decodeAudioData(data: ArrayBuffer) {
    const name = new TextDecoder().decode(data);
    this.decoded.push(name);
    return { name } as unknown as AudioBuffer;
  }
  createBufferSource() {
    const source = new FakeSource();
    this.sources.push(source);
    return source;
  }
}

class FakeSource {
  buffer: { name: string } | null = null;
  onended: (() => void) | null = null;
  started = false;
  stopped = false;
  connect() {}
  disconnect() {}
  start() {
    this.started = true;
  }
  stop() {
    this.stopped = true;
  }
}

function webAudio() {
  const ctx = new FakeContext();
  const fetched: string[] = [];
  const p = createWebAudioPlayer({
    createContext: () => ctx as unknown as AudioContext,
    resumeWaitMs: 5,
    fetch: async (url) => {
      fetched.push(url);
      return url.includes('missing') ? new Response('', { status: 404 }) : new Response(url);
    },
  });
  return { ...p, ctx, fetched };
}

describe('createWebAudioPlayer', () => {
  it('plays the decoded clip and resolves when it has ended, decoding each clip once', async () => {
    const p = webAudio();
    p.ctx.allowed = true;
    p.preload(['/v/chime.ogg']);
    const playing = p.play('/v/chime.ogg');
    await new Promise((r) => setTimeout(r, 0));
    const source = p.ctx.sources[0]!;
    expect(source.started).toBe(true);
    expect(source.buffer?.name).toBe('/v/chime.ogg');
    expect(await settled(playing)).toBe('pending');
    source.onended!();
    await playing;
    const again = p.play('/v/chime.ogg');
    await new Promise((r) => setTimeout(r, 0));
    p.ctx.sources[1]!.onended!();
    await again;
    expect(p.fetched).toEqual(['/v/chime.ogg']);
  });

  it('reports a context the browser keeps suspended as a blocked autoplay, and plays after unlock', async () => {
    const p = webAudio();
    const error = await p.play('/v/chime.ogg').catch((e: unknown) => e);
    expect(isAutoplayBlocked(error)).toBe(true);
    expect(p.ctx.sources).toHaveLength(0);

    p.ctx.allowed = true; // the user tapped
    p.unlock();
    expect(p.ctx.state).toBe('running');
    const playing = p.play('/v/chime.ogg');
    await new Promise((r) => setTimeout(r, 0));
    p.ctx.sources[0]!.onended!();
    await playing;
  });

  it('rejects a clip that cannot be fetched (not as blocked) and fetches it again next time', async () => {
    const p = webAudio();
    p.ctx.allowed = true;
    const error = await p.play('/v/missing.ogg').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isAutoplayBlocked(error)).toBe(false);
    await p.play('/v/missing.ogg').catch(() => {});
    expect(p.fetched).toEqual(['/v/missing.ogg', '/v/missing.ogg']);
  });

  it('stops the source when the announcer gives up on it', async () => {
    const p = webAudio();
    p.ctx.allowed = true;
    const controller = new AbortController();
    const playing = p.play('/v/a.ogg', controller.signal);
    await new Promise((r) => setTimeout(r, 0));
    controller.abort(new DOMException('timeout', 'TimeoutError'));
    await expect(playing).rejects.toThrow('timeout');
    expect(p.ctx.sources[0]!.stopped).toBe(true);
  });
});
