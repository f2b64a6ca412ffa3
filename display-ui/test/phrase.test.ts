import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_CLIPS, clipLanguage, parseTtsSegment } from '../src/voice/clips.ts';
import {
  DEFAULT_TEMPLATE,
  buildAnnouncement,
  counterClips,
  englishNumberWords,
  vietnameseNumber,
} from '../src/voice/phrase.ts';

const VI_START = 'vi/phrase-xin-moi-cong-dan-co-so-thu-tu';
const VI_MID = 'vi/phrase-den-quay-so';
const EN_START = 'en/phrase-ticket-number';
const EN_MID = 'en/phrase-please-go-to-counter';

describe('buildAnnouncement', () => {
  it('reads A023 at counter 5 as chime, Vietnamese sentence, English sentence', () => {
    expect(buildAnnouncement({ code: 'A023', counter: 5 })).toEqual({
      clips: [
        'chime',
        VI_START, 'vi/letter-a', 'vi/digit-0', 'vi/digit-2', 'vi/digit-3', VI_MID, 'vi/num-5',
        EN_START, 'en/letter-a', 'en/digit-0', 'en/digit-2', 'en/digit-3', EN_MID, 'en/num-5',
      ],
      text: {
        vi: 'Xin mời công dân có số thứ tự A023 đến quầy số 5',
        en: 'Ticket number A023, please go to counter 5',
      },
    });
  });

  it('reads a numeric prefix (province centre, service prefix 1) digit by digit', () => {
    expect(buildAnnouncement({ code: '1005', counter: 2 }).clips).toEqual([
      'chime',
      VI_START, 'vi/digit-1', 'vi/digit-0', 'vi/digit-0', 'vi/digit-5', VI_MID, 'vi/num-2',
      EN_START, 'en/digit-1', 'en/digit-0', 'en/digit-0', 'en/digit-5', EN_MID, 'en/num-2',
    ]);
  });

  it.each([
    [10, ['vi/num-muoi'], ['en/num-10']],
    [11, ['vi/num-muoi', 'vi/num-1'], ['en/num-11']],
    [12, ['vi/num-muoi', 'vi/num-2'], ['en/num-12']],
    [14, ['vi/num-muoi', 'vi/num-4'], ['en/num-14']],
    [15, ['vi/num-muoi', 'vi/num-lam'], ['en/num-15']],
    [20, ['vi/num-2', 'vi/num-muoi2'], ['en/num-20']],
    [21, ['vi/num-2', 'vi/num-muoi2', 'vi/num-mot'], ['en/num-20', 'en/num-1']],
    [24, ['vi/num-2', 'vi/num-muoi2', 'vi/num-tu'], ['en/num-20', 'en/num-4']],
    [25, ['vi/num-2', 'vi/num-muoi2', 'vi/num-lam'], ['en/num-20', 'en/num-5']],
    [99, ['vi/num-9', 'vi/num-muoi2', 'vi/num-9'], ['en/num-90', 'en/num-9']],
  ])('reads counter %i as a number in both languages', (counter, vi, en) => {
    expect(buildAnnouncement({ code: 'B101', counter }).clips).toEqual([
      'chime',
      VI_START, 'vi/letter-b', 'vi/digit-1', 'vi/digit-0', 'vi/digit-1', VI_MID, ...vi,
      EN_START, 'en/letter-b', 'en/digit-1', 'en/digit-0', 'en/digit-1', EN_MID, ...en,
    ]);
  });

  it('accepts the counter as a string and the code in lower case or with a separator', () => {
    const expected = buildAnnouncement({ code: 'A023', counter: 7 });
    expect(buildAnnouncement({ code: 'a023', counter: '7' })).toEqual(expected);
    expect(buildAnnouncement({ code: ' A-023 ', counter: '07' }).clips).toEqual(expected.clips);
  });

  it('spells a counter outside 1-99 character by character', () => {
    expect(counterClips('vi', 100)).toEqual(['vi/digit-1', 'vi/digit-0', 'vi/digit-0']);
    expect(counterClips('en', '2B')).toEqual(['en/digit-2', 'en/letter-b']);
    expect(counterClips('en', 0)).toEqual(['en/digit-0']);
  });

  it('announces only the languages asked for, in the order asked', () => {
    expect(buildAnnouncement({ code: 'C1', counter: 3, languages: ['vi'] }).clips).toEqual([
      'chime', VI_START, 'vi/letter-c', 'vi/digit-1', VI_MID, 'vi/num-3',
    ]);
    expect(buildAnnouncement({ code: 'C1', counter: 3, languages: ['en', 'vi'], chime: false }).clips).toEqual([
      EN_START, 'en/letter-c', 'en/digit-1', EN_MID, 'en/num-3',
      VI_START, 'vi/letter-c', 'vi/digit-1', VI_MID, 'vi/num-3',
    ]);
  });

  it('matches recorded phrases whatever the case, punctuation or Unicode form of the template', () => {
    const template = {
      vi: 'XIN MỜI công dân có số thứ tự: {code}, đến quầy số {counter}.'.normalize('NFD'),
      en: 'TICKET NUMBER {code} - please go to counter {counter}!',
    };
    expect(buildAnnouncement({ code: 'A1', counter: 1, template }).clips).toEqual(
      buildAnnouncement({ code: 'A1', counter: 1 }).clips,
    );
  });

  it('falls back to tts segments for template text that has no recording', () => {
    const template = { vi: 'Mời số {code} tới quầy {counter}', en: 'Number {code}, counter {counter}.' };
    const announcement = buildAnnouncement({ code: 'D7', counter: 12, template });
    expect(announcement.clips).toEqual([
      'chime',
      'tts:vi:Mời số', 'vi/letter-d', 'vi/digit-7', 'tts:vi:tới quầy', 'vi/num-muoi', 'vi/num-2',
      'tts:en:Number', 'en/letter-d', 'en/digit-7', 'tts:en:counter', 'en/num-12',
    ]);
    expect(announcement.text).toEqual({ vi: 'Mời số D7 tới quầy 12', en: 'Number D7, counter 12.' });
    expect(parseTtsSegment('tts:vi:tới quầy')).toEqual({ lang: 'vi', text: 'tới quầy' });
  });

  it('mixes recorded and unrecorded phrases in one template', () => {
    const template = { ...DEFAULT_TEMPLATE, vi: 'Xin mời công dân có số thứ tự {code} đến bàn {counter}' };
    expect(buildAnnouncement({ code: 'E5', counter: 4, template, languages: ['vi'] }).clips).toEqual([
      'chime', VI_START, 'vi/letter-e', 'vi/digit-5', 'tts:vi:đến bàn', 'vi/num-4',
    ]);
  });

  it('keeps every clip of one language together (a system voice replaces a whole sentence)', () => {
    const langs = buildAnnouncement({ code: 'A023', counter: 5 }).clips.map(clipLanguage);
    expect(langs).toEqual([undefined, ...Array(7).fill('vi'), ...Array(7).fill('en')]);
  });
});

describe('number reading', () => {
  it.each([
    [5, 'năm'], [10, 'mười'], [11, 'mười một'], [12, 'mười hai'], [14, 'mười bốn'], [15, 'mười lăm'],
    [20, 'hai mươi'], [21, 'hai mươi mốt'], [24, 'hai mươi tư'], [25, 'hai mươi lăm'], [30, 'ba mươi'],
    [41, 'bốn mươi mốt'], [55, 'năm mươi lăm'], [91, 'chín mươi mốt'], [99, 'chín mươi chín'],
  ])('reads %i in Vietnamese as "%s"', (n, words) => {
    expect(vietnameseNumber(n)).toBe(words);
  });

  it('reads English numbers from 1-20 and the tens', () => {
    expect(englishNumberWords(7)).toEqual([7]);
    expect(englishNumberWords(13)).toEqual([13]);
    expect(englishNumberWords(40)).toEqual([40]);
    expect(englishNumberWords(87)).toEqual([80, 7]);
  });

  it('refuses numbers it cannot read', () => {
    expect(() => vietnameseNumber(0)).toThrow(RangeError);
    expect(() => englishNumberWords(100)).toThrow(RangeError);
  });
});

describe('clip coverage', () => {
  const recorded = new Set(ALL_CLIPS);

  it('needs exactly the recorded clips for every code character and every counter 1-99', () => {
    const used = new Set<string>();
    for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') {
      for (let counter = 1; counter <= 99; counter++) {
        for (const clip of buildAnnouncement({ code: char, counter }).clips) used.add(clip);
      }
    }
    expect([...used].sort()).toEqual([...recorded].sort()); // nothing missing, nothing shipped unused
  });

  it('never needs a clip it has not got for codes [A-Z0-9]{1,6} and counters 1-99', () => {
    const code = fc.stringMatching(/^[A-Z0-9]{1,6}$/);
    fc.assert(
      fc.property(code, fc.integer({ min: 1, max: 99 }), (c, counter) => {
        for (const clip of buildAnnouncement({ code: c, counter }).clips) expect(recorded).toContain(clip);
      }),
    );
  });
});
