import { describe, expect, it } from 'vitest';
import { formatBookingCode as groupCode } from '@qms/ui-shared/format';
import { IDLE_MS, ScanDetector, type KeyVerdict } from '../src/kiosk/scanner.ts';
import { TEXTS } from '../src/kiosk/texts.ts';

/** Types `text` then Enter, a key every `gap` ms from `start`: each key's verdict. */
function type(detector: ScanDetector, text: string, gap: number, start = 1000): KeyVerdict[] {
  const keys = [...text, 'Enter'];
  return keys.map((key, i) => detector.keydown({ key, at: start + i * gap }));
}

describe('the keyboard-wedge scanner', () => {
  const url = 'https://qms.example.vn/b/Xy7kQ2pLm9';
  const cccd = '001089012345|012345678|Nguyen Van An|15081989|Nam|12 Hang Bac, Hoan Kiem, Ha Noi|20042021';

  it('takes a fast burst closed by Enter as one scan, and swallows every key of it but the first', () => {
    const detector = new ScanDetector();
    const verdicts = type(detector, url, 5);
    expect(verdicts.at(-1)).toEqual({ swallow: true, scan: url });
    expect(verdicts[0]!.swallow).toBe(false);
    expect(verdicts.slice(1).every((v) => v.swallow)).toBe(true);
    expect(type(detector, cccd, 8, 5000).at(-1)?.scan).toBe(cccd);
  });

  it('forgets a scan once it is taken: the next burst starts empty', () => {
    const detector = new ScanDetector();
    type(detector, cccd, 5);
    expect(detector.length).toBe(0);
    expect(type(detector, '12345678', 5, 1000 + 200 * 5).at(-1)?.scan).toBe('12345678');
  });

  it('leaves a person typing alone: slow keys, and Enter after them, are the screen\'s', () => {
    const detector = new ScanDetector();
    const verdicts = type(detector, 'khai sinh', 120);
    expect(verdicts.every((v) => !v.swallow && v.scan === undefined)).toBe(true);
  });

  it('is not fooled by a fast burst that stops short of Enter, by one after a pause, by a short one or by a held key', () => {
    const detector = new ScanDetector();
    type(detector, 'abc', 5).forEach((v) => expect(v.scan).toBeUndefined());
    // a pause: what came before is not part of what follows
    type(detector, 'abcdef', 5, 5000).slice(0, 6);
    detector.keydown({ key: 'x', at: 9000 });
    expect(detector.keydown({ key: 'Enter', at: 9000 + IDLE_MS + 1 })).toEqual({ swallow: false });
    expect(detector.length).toBe(0);
    // held keys repeat fast: not a scan
    detector.keydown({ key: '1', at: 10_000 });
    expect(detector.keydown({ key: '1', at: 10_030, repeat: true }).swallow).toBe(false);
    expect(detector.length).toBe(0);
  });

  it('keeps a scan whole when the machine holds one of its keys back for a moment', () => {
    const detector = new ScanDetector();
    const url = 'https://qms.example.vn/b/Xy7kQ2pLm9';
    const verdicts = [...url].map((key, i) => detector.keydown({ key, at: 1000 + i * 5 + (i >= 10 ? 120 : 0) }));
    expect(verdicts.slice(1).every((v) => v.swallow)).toBe(true);
    expect(detector.keydown({ key: 'Enter', at: 1000 + url.length * 5 + 120 }).scan).toBe(url);
  });

  it('lets Shift through a scan (capitals) and breaks it on a shortcut', () => {
    const detector = new ScanDetector();
    expect(detector.keydown({ key: 'h', at: 0 }).swallow).toBe(false);
    expect(detector.keydown({ key: 't', at: 5 }).swallow).toBe(true);
    expect(detector.keydown({ key: 'Shift', at: 8 }).swallow).toBe(true);
    expect(detector.keydown({ key: 'T', at: 10 }).swallow).toBe(true);
    expect(detector.keydown({ key: 'p', at: 15 }).swallow).toBe(true);
    expect(detector.keydown({ key: 'Enter', at: 20 }).scan).toBe('htTp');
    detector.keydown({ key: 'a', at: 100 });
    expect(detector.keydown({ key: 'c', at: 105, ctrlKey: true }).swallow).toBe(false);
    expect(detector.length).toBe(0);
  });
});

describe('the booking code and the words around it', () => {
  it('groups the 8 digits as the booking shows them', () => {
    expect(groupCode('12345678')).toBe('1234 5678');
    expect(groupCode('12345')).toBe('1234 5');
    expect(groupCode('123')).toBe('123');
  });

  it('says why a late booking gave an ordinary number, in one sentence per language', () => {
    expect(TEXTS.vi.late(15, '09:00')).toBe('Bạn đến muộn hơn 15 phút so với giờ hẹn 09:00 nên được cấp số thường.');
    expect(TEXTS.en.late(15, '09:00')).toBe('You arrived more than 15 minutes after your 09:00 booking, so this is a regular ticket.');
    expect(Object.keys(TEXTS.en.bookingRefusals).sort()).toEqual(Object.keys(TEXTS.vi.bookingRefusals).sort());
  });
});
