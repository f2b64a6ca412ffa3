// The committed clips: every one the builder can ask for exists, is mono, small, and neither
// empty nor absurdly long. Durations are read from the Ogg pages themselves, so this runs on
// machines without sox (the generator script cross-checks with `sox --i -D`).

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CLIPS, CHIME, CLIP_EXT } from '../src/voice/clips.ts';
import { buildAnnouncement } from '../src/voice/phrase.ts';
import { CLIP_VERSION } from '../src/voice/clip-version.ts';
import { hashClips } from '../scripts/clip-hash.ts';

const VOICE_DIR = path.resolve(import.meta.dirname, '../public/voice');
const fileOf = (clip: string) => path.join(VOICE_DIR, `${clip}.${CLIP_EXT}`);

interface OggVorbisInfo {
  channels: number;
  rate: number;
  seconds: number;
}

/** Channels and rate from the Vorbis identification header, length from the last page's granule position. */
function oggVorbisInfo(bytes: Buffer): OggVorbisInfo {
  if (bytes.toString('latin1', 0, 4) !== 'OggS') throw new Error('not an Ogg file');
  const segments = bytes[26]!;
  const packet = 27 + segments;
  if (bytes[packet] !== 1 || bytes.toString('latin1', packet + 1, packet + 7) !== 'vorbis') throw new Error('not Vorbis');
  const channels = bytes[packet + 11]!;
  const rate = bytes.readUInt32LE(packet + 12);
  const last = bytes.lastIndexOf('OggS', bytes.length - 4, 'latin1');
  const samples = Number(bytes.readBigInt64LE(last + 6));
  return { channels, rate, seconds: samples / rate };
}

describe('voice clips in public/voice', () => {
  it('has a file for every clip the builder produces for codes [A-Z0-9]{1,6} and counters 1-99', () => {
    // A code is read one character at a time, so every character at every counter covers
    // every code of any length; six-character codes are checked too, for good measure.
    const needed = new Set<string>();
    for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') {
      for (let counter = 1; counter <= 99; counter++) {
        for (const clip of buildAnnouncement({ code: char, counter }).clips) needed.add(clip);
      }
    }
    for (const code of ['ZZ9999', 'A00000', '123456', 'QWERTY']) {
      for (const clip of buildAnnouncement({ code, counter: 77 }).clips) needed.add(clip);
    }
    const missing = [...needed].filter((clip) => !existsSync(fileOf(clip)));
    expect(missing).toEqual([]);
    expect(needed.size).toBe(ALL_CLIPS.length);
  });

  it('has the clip URL version of exactly these files (rerun the generator after changing a clip)', () => {
    expect(CLIP_VERSION).toBe(hashClips());
  });

  it('holds no stale files the catalogue no longer names', () => {
    const wanted = new Set(ALL_CLIPS.map(fileOf));
    const files = (readdirSync(VOICE_DIR, { recursive: true }) as string[])
      .map((f) => path.join(VOICE_DIR, f))
      .filter((f) => statSync(f).isFile());
    expect(files.filter((f) => !wanted.has(f))).toEqual([]);
  });

  it.each(ALL_CLIPS.map((clip) => [clip]))('%s is mono, not empty and not too long', (clip) => {
    const info = oggVorbisInfo(readFileSync(fileOf(clip)));
    expect(info.channels).toBe(1);
    expect([16000, 22050]).toContain(info.rate);
    expect(info.seconds).toBeGreaterThan(0.1);
    const isWord = clip !== CHIME && !clip.includes('/phrase-');
    expect(info.seconds).toBeLessThanOrEqual(isWord ? 3 : 4);
  });

  it('stays small enough to commit (well under 2 MB)', () => {
    const total = ALL_CLIPS.reduce((sum, clip) => sum + statSync(fileOf(clip)).size, 0);
    expect(total).toBeLessThan(1024 * 1024);
  });
});
