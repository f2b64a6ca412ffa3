// A short hash of every committed clip's bytes. The server caches /display/* files for a year
// as immutable, and clip URLs carry no hash of their own, so the player appends ?v=<this> to
// every clip URL: regenerated clips get new URLs, and no display keeps an old voice.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_CLIPS, CLIP_EXT } from '../src/voice/clips.ts';

export const VOICE_DIR = path.resolve(import.meta.dirname, '../public/voice');
export const VERSION_FILE = path.resolve(import.meta.dirname, '../src/voice/clip-version.ts');

export function clipFile(clip: string): string {
  return path.join(VOICE_DIR, `${clip}.${CLIP_EXT}`);
}

export function hashClips(): string {
  const hash = createHash('sha256');
  for (const clip of [...ALL_CLIPS].sort()) {
    hash.update(`${clip}\0`);
    hash.update(readFileSync(clipFile(clip)));
  }
  return hash.digest('hex').slice(0, 12);
}

export function versionModule(version: string): string {
  return `// Written by scripts/make-voice-clips.ts: a hash of the clips in public/voice/, appended to\n// clip URLs so that regenerated clips are never served from a stale cache.\nexport const CLIP_VERSION = '${version}';\n`;
}
