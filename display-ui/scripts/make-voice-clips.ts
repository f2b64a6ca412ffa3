// Generates the display's announcement clips into display-ui/public/voice/ with Debian's
// espeak-ng (speech) and sox (chime, trimming, encoding to mono Ogg Vorbis), then measures
// every clip. The files are committed, so displays work offline and without espeak-ng.
//
//   npx tsx display-ui/scripts/make-voice-clips.ts            generate new or changed clips
//   npx tsx display-ui/scripts/make-voice-clips.ts --force    regenerate everything
//   npx tsx display-ui/scripts/make-voice-clips.ts --check    only measure what is committed
//
// Besides the clips it writes scripts/voice-clips.manifest.json (what each clip was made from,
// its length and size) and src/voice/clip-version.ts (a hash of the clips, see clip-hash.ts).
//
// Needs: apt-get install -y espeak-ng sox libsox-fmt-all (Ogg Vorbis support in sox).
// A clip is regenerated when its text or the synthesis settings below change; the manifest
// records what each file was made from, so unchanged clips keep their bytes (Vorbis streams get
// a random serial number, and rewriting them all would churn git for nothing).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALL_CLIPS, CHIME, SPOKEN_CLIPS, type SpokenClip, type VoiceLang } from '../src/voice/clips.ts';
import { VERSION_FILE, VOICE_DIR as OUT_DIR, clipFile as fileOf, hashClips, versionModule } from './clip-hash.ts';

/** What each clip was made from, its length and size (kept out of public/, so not shipped). */
const MANIFEST = path.resolve(import.meta.dirname, 'voice-clips.manifest.json');
const RATE = 22050;
/** Vorbis quality (sox -C): 2 is about 60 kbit/s at 22.05 kHz mono, clear for speech. */
const QUALITY = 2;

/** espeak-ng voice settings per language: -s words per minute, -p pitch (0-99). */
const VOICES: Record<VoiceLang, { voice: string; speed: number; pitch: number }> = {
  vi: { voice: 'vi', speed: 140, pitch: 45 },
  en: { voice: 'en', speed: 140, pitch: 45 },
};

/** Duration limits in seconds: nothing empty, no word that runs on. */
const MIN_SECONDS = 0.1;
const MAX_WORD_SECONDS = 3;
const MAX_PHRASE_SECONDS = 4;

/** Trim leading and trailing silence (espeak pads both ends), then a short click-free fade. */
// (Fading in while reversed is the fade-out: sox cannot fade out a stream of unknown length.)
const TRIM = ['silence', '1', '0.01', '0.1%', 'reverse', 'silence', '1', '0.01', '0.1%', 'fade', 't', '0.02', 'reverse', 'fade', 't', '0.005'];
/**
 * Silence left after each clip, which is all the pause there is between two clips (the Web Audio
 * player joins them within milliseconds): letters and digits of a code stand apart, the words
 * of one number ("hai mươi mốt") run together, a phrase gets a breath.
 */
const TAIL = { word: 0.08, number: 0.04, phrase: 0.15, chime: 0.25 };

const CHIME_RECIPE = 'two sine bells G5 then E5 with a soft octave overtone, 0.35 s apart';

interface ManifestEntry {
  source: string;
  seconds: number;
  bytes: number;
}

const args = new Set(process.argv.slice(2));
const checkOnly = args.has('--check');
const force = args.has('--force');

function run(cmd: string, argv: string[]): string {
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function requireTool(cmd: string, probe: string[]) {
  try {
    run(cmd, probe);
  } catch {
    console.error(`${cmd} is missing: apt-get install -y espeak-ng sox libsox-fmt-all`);
    process.exit(1);
  }
}

function sourceOf(clip: string, spoken: SpokenClip | undefined): string {
  if (!spoken) return `sox:${CHIME_RECIPE}:rate=${RATE}:q=${QUALITY}`;
  const v = VOICES[spoken.lang];
  return `espeak-ng -v ${v.voice} -s ${v.speed} -p ${v.pitch}:${spoken.text}:rate=${RATE}:q=${QUALITY}:tail=${tailOf(clip)}`;
}

function tailOf(clip: string) {
  if (clip === CHIME) return TAIL.chime;
  if (clip.includes('/phrase-')) return TAIL.phrase;
  return clip.includes('/num-') ? TAIL.number : TAIL.word;
}

function synthesise(clip: string, spoken: SpokenClip, work: string) {
  const v = VOICES[spoken.lang];
  const raw = path.join(work, 'speech.wav');
  run('espeak-ng', ['-v', v.voice, '-s', String(v.speed), '-p', String(v.pitch), '-w', raw, '--', spoken.text]);
  encode(raw, clip);
}

function makeChime(work: string) {
  // A "ding-dong": each bell is a sine plus a quieter octave, with a quick attack and a long
  // half-sine decay; the second bell starts 0.35 s after the first and rings out.
  const bell = (name: string, freq: number, seconds: number) => {
    const file = path.join(work, `${name}.wav`);
    run('sox', [
      '-n', '-r', String(RATE), '-c', '2', file,
      'synth', String(seconds), 'sine', String(freq), 'sine', String(freq * 2),
      'remix', '1v0.8,2v0.2',
      'fade', 'h', '0.01', String(seconds), String(seconds - 0.02),
    ]);
    return file;
  };
  const ding = bell('ding', 784, 0.8);
  const dong = bell('dong', 659.25, 1.1);
  const delayed = path.join(work, 'dong-delayed.wav');
  run('sox', [dong, delayed, 'pad', '0.35', '0']);
  const mixed = path.join(work, 'chime.wav');
  run('sox', ['-m', ding, delayed, mixed]);
  encode(mixed, CHIME, false);
}

function encode(input: string, clip: string, trim = true) {
  const out = fileOf(clip);
  mkdirSync(path.dirname(out), { recursive: true });
  run('sox', [input, '-r', String(RATE), '-c', '1', '-C', String(QUALITY), out, ...(trim ? TRIM : []), 'norm', '-3', 'pad', '0', String(tailOf(clip))]);
}

function seconds(file: string): number {
  return Number(run('sox', ['--i', '-D', file]).trim());
}

function readManifest(): Record<string, ManifestEntry> {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, ManifestEntry>;
  } catch {
    return {};
  }
}

function* filesUnder(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

requireTool('sox', ['--version']);
const manifest = readManifest();
let generated = 0;

if (!checkOnly) {
  requireTool('espeak-ng', ['--version']);
  const work = mkdtempSync(path.join(tmpdir(), 'qms-voice-'));
  try {
    for (const clip of ALL_CLIPS) {
      const spoken = SPOKEN_CLIPS.get(clip);
      const source = sourceOf(clip, spoken);
      if (!force && existsSync(fileOf(clip)) && manifest[clip]?.source === source) continue;
      if (spoken) synthesise(clip, spoken, work);
      else makeChime(work);
      manifest[clip] = { source, seconds: 0, bytes: 0 };
      generated++;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Clips no longer named by the catalogue would otherwise linger in the build forever.
  const wanted = new Set(ALL_CLIPS.map(fileOf));
  for (const file of filesUnder(OUT_DIR)) {
    if (!wanted.has(file)) {
      rmSync(file);
      console.log(`removed stale ${path.relative(OUT_DIR, file)}`);
    }
  }
  for (const clip of Object.keys(manifest)) if (!ALL_CLIPS.includes(clip)) delete manifest[clip];
}

// Measure every clip: this is the listen-check a machine can do.
const problems: string[] = [];
let total = 0;
const rows: string[] = [];
for (const clip of ALL_CLIPS) {
  const file = fileOf(clip);
  if (!existsSync(file)) {
    problems.push(`${clip}: missing`);
    continue;
  }
  const secs = seconds(file);
  const bytes = statSync(file).size;
  total += bytes;
  const max = clip === CHIME || clip.includes('/phrase-') ? MAX_PHRASE_SECONDS : MAX_WORD_SECONDS;
  if (!(secs > MIN_SECONDS)) problems.push(`${clip}: ${secs}s is empty`);
  if (secs > max) problems.push(`${clip}: ${secs}s is longer than ${max}s`);
  const entry = manifest[clip];
  if (entry) Object.assign(entry, { seconds: Math.round(secs * 1000) / 1000, bytes });
  rows.push(`${clip.padEnd(44)} ${secs.toFixed(3).padStart(6)} s ${String(bytes).padStart(7)} B  ${SPOKEN_CLIPS.get(clip)?.text ?? '(chime)'}`);
}
if (!checkOnly) {
  const sorted = Object.fromEntries(ALL_CLIPS.filter((c) => manifest[c]).map((c) => [c, manifest[c]]));
  writeFileSync(MANIFEST, `${JSON.stringify(sorted, null, 1)}\n`);
}

// The clip URLs' cache-busting version (see clip-hash.ts).
const expectedModule = problems.length ? undefined : versionModule(hashClips());
const currentModule = existsSync(VERSION_FILE) ? readFileSync(VERSION_FILE, 'utf8') : '';
if (expectedModule && currentModule !== expectedModule) {
  if (checkOnly) problems.push(`${path.relative(process.cwd(), VERSION_FILE)} does not match the clips: run without --check`);
  else writeFileSync(VERSION_FILE, expectedModule);
}

console.log(rows.join('\n'));
console.log(`${ALL_CLIPS.length} clips, ${generated} generated, ${(total / 1024).toFixed(1)} KiB in ${path.relative(process.cwd(), OUT_DIR)}`);
if (total > 2 * 1024 * 1024) problems.push(`clips total ${total} bytes, over 2 MiB`);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
