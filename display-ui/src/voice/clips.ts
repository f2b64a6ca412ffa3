// The recorded voice clips: every clip name the announcement builder can emit, with the words
// spoken in it. One table serves the builder (phrase.ts), the generator that synthesises the
// files (scripts/make-voice-clips.ts) and the test that checks every file exists, so a clip can
// never be named in one place and missing in another.

export type VoiceLang = 'vi' | 'en';

/** Extension of the committed clip files under display-ui/public/voice/ (Ogg Vorbis, mono). */
export const CLIP_EXT = 'ogg';

/** The two-tone chime played before every announcement (synthesised with sox, not spoken). */
export const CHIME = 'chime';

/** Prefix of a clip-less segment the player speaks with speechSynthesis: `tts:<lang>:<text>`. */
export const TTS_PREFIX = 'tts:';

export interface SpokenClip {
  lang: VoiceLang;
  /** Text handed to espeak-ng. */
  text: string;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Vietnamese letter names as said when reading a code aloud (B = "bê", C = "xê", L = "e-lờ").
 * J is written "di": espeak-ng reads the spelling "gi" as a bare consonant.
 */
const VI_LETTERS: Record<string, string> = {
  A: 'a', B: 'bê', C: 'xê', D: 'dê', E: 'e', F: 'ép', G: 'giê', H: 'hát', I: 'i', J: 'di',
  K: 'ca', L: 'e-lờ', M: 'em-mờ', N: 'en-nờ', O: 'o', P: 'pê', Q: 'quy', R: 'e-rờ',
  S: 'ét-xì', T: 'tê', U: 'u', V: 'vê', W: 'vê kép', X: 'ích-xì', Y: 'i dài', Z: 'dét',
};

const VI_DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];
const EN_DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const EN_NUMBERS: Record<number, string> = {
  1: 'one', 2: 'two', 3: 'three', 4: 'four', 5: 'five', 6: 'six', 7: 'seven', 8: 'eight',
  9: 'nine', 10: 'ten', 11: 'eleven', 12: 'twelve', 13: 'thirteen', 14: 'fourteen',
  15: 'fifteen', 16: 'sixteen', 17: 'seventeen', 18: 'eighteen', 19: 'nineteen', 20: 'twenty',
  30: 'thirty', 40: 'forty', 50: 'fifty', 60: 'sixty', 70: 'seventy', 80: 'eighty', 90: 'ninety',
};

/**
 * The words Vietnamese uses only inside numbers: "mười" (ten, 10-19), "mươi" (the tens of
 * 20-90), "mốt" (1 after a tens of 20+), "lăm" (5 after any tens), "tư" (4 after a tens of 20+).
 */
export const VI_NUMBER_WORDS = {
  muoi: 'mười',
  muoi2: 'mươi',
  mot: 'mốt',
  lam: 'lăm',
  tu: 'tư',
} as const;
export type ViNumberWord = keyof typeof VI_NUMBER_WORDS;

/** Recorded fixed phrases of the announcement template, by language and normalised text. */
export const PHRASES: Record<VoiceLang, Record<string, string>> = {
  vi: {
    'xin mời công dân có số thứ tự': 'vi/phrase-xin-moi-cong-dan-co-so-thu-tu',
    'đến quầy số': 'vi/phrase-den-quay-so',
  },
  en: {
    'ticket number': 'en/phrase-ticket-number',
    'please go to counter': 'en/phrase-please-go-to-counter',
  },
};

export const letterClip = (lang: VoiceLang, letter: string) => `${lang}/letter-${letter.toLowerCase()}`;
export const digitClip = (lang: VoiceLang, digit: number) => `${lang}/digit-${digit}`;
/** A number word: `vi/num-5`, `vi/num-muoi`, `en/num-12`, `en/num-40`. */
export const numberClip = (lang: VoiceLang, word: number | ViNumberWord) => `${lang}/num-${word}`;

function buildCatalogue(): Map<string, SpokenClip> {
  const clips = new Map<string, SpokenClip>();
  const add = (name: string, lang: VoiceLang, text: string) => clips.set(name, { lang, text });
  for (const letter of LETTERS) {
    add(letterClip('vi', letter), 'vi', VI_LETTERS[letter] ?? letter);
    // espeak-ng's English voice says a lone capital by its letter name ("W" = "double-u").
    add(letterClip('en', letter), 'en', letter);
  }
  for (let d = 0; d <= 9; d++) {
    add(digitClip('vi', d), 'vi', VI_DIGITS[d]!);
    add(digitClip('en', d), 'en', EN_DIGITS[d]!);
  }
  for (let n = 1; n <= 9; n++) add(numberClip('vi', n), 'vi', VI_DIGITS[n]!);
  for (const [word, text] of Object.entries(VI_NUMBER_WORDS)) add(numberClip('vi', word as ViNumberWord), 'vi', text);
  for (const [n, text] of Object.entries(EN_NUMBERS)) add(numberClip('en', Number(n)), 'en', text);
  for (const lang of ['vi', 'en'] as const) {
    for (const [text, name] of Object.entries(PHRASES[lang])) add(name, lang, text);
  }
  return clips;
}

/** Every spoken clip (the chime excepted), by clip name. */
export const SPOKEN_CLIPS: ReadonlyMap<string, SpokenClip> = buildCatalogue();

/** Every clip file that must exist under public/voice/, without extension. */
export const ALL_CLIPS: readonly string[] = [CHIME, ...SPOKEN_CLIPS.keys()];

export function isTtsSegment(clip: string): boolean {
  return clip.startsWith(TTS_PREFIX);
}

/** Splits `tts:vi:some text` into its language and text; undefined for a recorded clip. */
export function parseTtsSegment(clip: string): { lang: VoiceLang; text: string } | undefined {
  const match = /^tts:(vi|en):(.*)$/s.exec(clip);
  return match ? { lang: match[1] as VoiceLang, text: match[2]! } : undefined;
}

/** Language a clip or tts segment is spoken in; undefined for the chime. */
export function clipLanguage(clip: string): VoiceLang | undefined {
  const match = /^(?:tts:)?(vi|en)[/:]/.exec(clip);
  return match ? (match[1] as VoiceLang) : undefined;
}
