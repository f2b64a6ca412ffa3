// Builds the exact, ordered list of clips that announces one call: the chime, then the
// template read in each language (Vietnamese first, then English). Pure: no audio, no DOM.
//
// Clip names (files under public/voice/<name>.ogg):
//   chime                          two-tone chime
//   vi/phrase-…, en/phrase-…       fixed template text ("Xin mời công dân có số thứ tự")
//   vi/letter-a, en/letter-a       a letter of a ticket code
//   vi/digit-0, en/digit-0         a digit of a ticket code (codes are read character by character)
//   vi/num-5, vi/num-muoi, …       words of a counter number read as a number ("hai mươi mốt")
//   en/num-5, en/num-20            English number words (1-20 and the tens)
//   tts:vi:<text>                  fixed template text with no recording: spoken by the
//                                  browser's speechSynthesis if it can, otherwise skipped

import {
  CHIME,
  PHRASES,
  TTS_PREFIX,
  SPOKEN_CLIPS,
  digitClip,
  letterClip,
  numberClip,
  type ViNumberWord,
  type VoiceLang,
} from './clips.ts';

export type { VoiceLang } from './clips.ts';

export interface AnnouncementTemplate {
  vi: string;
  en: string;
}

export interface AnnouncementInput {
  /** Ticket code as displayed: prefix + digits, e.g. "A023" or "1005". */
  code: string;
  /** Counter number; 1-99 is read as a number, anything else character by character. */
  counter: number | string;
  /** The site's announcement template with {code} and {counter}; defaults to DEFAULT_TEMPLATE. */
  template?: AnnouncementTemplate;
  /** Languages to announce, in order; default ['vi', 'en']. */
  languages?: VoiceLang[];
  /** Play the chime first; default true. */
  chime?: boolean;
}

export interface Announcement {
  /** Clip names to play in order (see the top of this file). */
  clips: string[];
  /** The sentence in each language, placeholders filled in (for captions and system voices). */
  text: { vi: string; en: string };
}

/** The template of shared/data/demo-centre.json, which the recorded phrase clips cover. */
export const DEFAULT_TEMPLATE: AnnouncementTemplate = {
  vi: 'Xin mời công dân có số thứ tự {code} đến quầy số {counter}',
  en: 'Ticket number {code}, please go to counter {counter}',
};

const PLACEHOLDER = /\{(code|counter)\}/g;
/** Separators a code may be written with that are not read aloud ("A-023"). */
const SILENT_IN_CODE = /[\s\-._/]/;

export function buildAnnouncement(input: AnnouncementInput): Announcement {
  const template = input.template ?? DEFAULT_TEMPLATE;
  const languages = [...new Set(input.languages ?? (['vi', 'en'] as const))];
  const code = input.code.trim().toUpperCase();
  const counter = String(input.counter).trim();

  const clips: string[] = input.chime === false ? [] : [CHIME];
  for (const lang of languages) clips.push(...sentenceClips(lang, template[lang], code, counter));

  const fill = (text: string) => text.replace(PLACEHOLDER, (_, name: string) => (name === 'code' ? code : counter));
  return { clips, text: { vi: fill(template.vi), en: fill(template.en) } };
}

function sentenceClips(lang: VoiceLang, template: string, code: string, counter: string): string[] {
  const clips: string[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    clips.push(...fixedTextClips(lang, template.slice(last, match.index)));
    clips.push(...(match[1] === 'code' ? codeClips(lang, code) : counterClips(lang, counter)));
    last = match.index + match[0].length;
  }
  clips.push(...fixedTextClips(lang, template.slice(last)));
  return clips;
}

/** Lower case, NFC, punctuation dropped, whitespace collapsed: how phrases are looked up. */
export function normalisePhrase(text: string): string {
  return text
    .normalize('NFC')
    .toLocaleLowerCase('vi')
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function fixedTextClips(lang: VoiceLang, text: string): string[] {
  const key = normalisePhrase(text);
  if (!key) return [];
  const clip = PHRASES[lang][key];
  if (clip) return [clip];
  // No recording for this wording: let the player speak it. Edge punctuation is only the glue
  // around a placeholder ("{code}, please") and would make a speech engine pause oddly.
  const spoken = text.normalize('NFC').replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
  return [`${TTS_PREFIX}${lang}:${spoken}`];
}

/** A ticket code read character by character: A023 -> letter-a, digit-0, digit-2, digit-3. */
export function codeClips(lang: VoiceLang, code: string): string[] {
  const clips: string[] = [];
  for (const char of code.toUpperCase()) {
    if (/[A-Z]/.test(char)) clips.push(letterClip(lang, char));
    else if (/[0-9]/.test(char)) clips.push(digitClip(lang, Number(char)));
    else if (!SILENT_IN_CODE.test(char)) clips.push(`${TTS_PREFIX}${lang}:${char}`);
  }
  return clips;
}

/** A counter: 1-99 read as a number ("mười lăm", "fifteen"), anything else spelled out. */
export function counterClips(lang: VoiceLang, counter: number | string): string[] {
  const text = String(counter).trim();
  if (/^\d{1,2}$/.test(text) && Number(text) >= 1) {
    const n = Number(text);
    return (lang === 'vi' ? vietnameseNumberWords(n) : englishNumberWords(n)).map((w) => numberClip(lang, w));
  }
  return codeClips(lang, text);
}

/**
 * Vietnamese reading of 1-99 as clip words.
 * 10 mười; 11-19 mười + unit (15 mười lăm, 11 mười một); 20-99 tens + mươi + unit, where a
 * unit 1 is "mốt" (21 hai mươi mốt), 4 is "tư" (24 hai mươi tư), 5 is "lăm" (25 hai mươi lăm)
 * and 0 is silent (20 hai mươi).
 */
export function vietnameseNumberWords(n: number): (number | ViNumberWord)[] {
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new RangeError(`vietnameseNumberWords: ${n} is not in 1..99`);
  const tens = Math.floor(n / 10);
  const unit = n % 10;
  if (tens === 0) return [unit];
  const words: (number | ViNumberWord)[] = tens === 1 ? ['muoi'] : [tens, 'muoi2'];
  if (unit === 0) return words;
  if (unit === 5) words.push('lam');
  else if (unit === 1 && tens >= 2) words.push('mot');
  else if (unit === 4 && tens >= 2) words.push('tu');
  else words.push(unit);
  return words;
}

/** The Vietnamese words themselves, as recorded in the clips: 21 -> "hai mươi mốt". */
export function vietnameseNumber(n: number): string {
  return vietnameseNumberWords(n)
    .map((w) => SPOKEN_CLIPS.get(numberClip('vi', w))!.text)
    .join(' ');
}

/** English reading of 1-99 as clip numbers: 12 -> [12], 45 -> [40, 5]. */
export function englishNumberWords(n: number): number[] {
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new RangeError(`englishNumberWords: ${n} is not in 1..99`);
  if (n <= 20 || n % 10 === 0) return [n];
  return [n - (n % 10), n % 10];
}
