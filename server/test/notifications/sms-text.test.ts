import { describe, expect, it } from 'vitest';
import { isGsm7, smsCost, smsParts, smsSegments, unaccent } from '../../src/notifications/channels/sms/sms-text.ts';

describe('Vietnamese SMS text', () => {
  const called = 'Mời số A012 đến quầy 3. Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh';
  /** real Vietnamese, cut to exactly n characters (each one UTF-16 unit, one septet unaccented) */
  const vietnamese = (n: number) => `${called} `.repeat(Math.ceil(n / called.length)).slice(0, n);

  it('unaccents every Vietnamese letter to GSM-7', () => {
    expect(unaccent(called)).toBe('Moi so A012 den quay 3. Trung tam Phuc vu hanh chinh cong tinh Quang Ninh');
    const all = 'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ';
    expect(isGsm7(unaccent(all))).toBe(true);
    expect(isGsm7(unaccent(all.toUpperCase()))).toBe(true);
    expect(isGsm7(called)).toBe(false);
    // typed decomposed (a base letter and combining marks), as some keyboards do
    expect(unaccent(called.normalize('NFD'))).toBe(unaccent(called));
  });

  it('counts segments of an unaccented text at the GSM-7 boundaries: 160 alone, 153 a segment', () => {
    const at = (n: number) => smsParts(vietnamese(n), 'unaccented');
    expect(at(160)).toMatchObject({ encoding: 'gsm7', chars: 160, segments: 1 });
    expect(at(161)).toMatchObject({ chars: 161, segments: 2 });
    expect(at(153 * 2).segments).toBe(2);
    expect(at(153 * 2 + 1).segments).toBe(3);
    expect(at(153 * 3).segments).toBe(3);
    expect(at(153 * 3 + 1).segments).toBe(4);
    // an extension character takes two septets
    expect(smsParts(`${vietnamese(159)}€`, 'unaccented')).toMatchObject({ chars: 161, segments: 2 });
    expect(smsParts(`${vietnamese(158)}€`, 'unaccented')).toMatchObject({ chars: 160, segments: 1 });
  });

  it('counts segments with accents at the UCS-2 boundaries: 70 alone, 67 a segment', () => {
    const at = (n: number) => smsParts(vietnamese(n), 'ucs2');
    expect(at(70)).toMatchObject({ encoding: 'ucs2', chars: 70, segments: 1 });
    expect(at(71)).toMatchObject({ chars: 71, segments: 2 });
    expect(at(67 * 2).segments).toBe(2);
    expect(at(67 * 2 + 1).segments).toBe(3);
    expect(at(67 * 3).segments).toBe(3);
    expect(at(67 * 3 + 1).segments).toBe(4);
  });

  it('never cuts an escaped character or an emoji across segments, and counts the segment that costs', () => {
    // 306 septets would be 2 segments, but "€" (ESC + e) at septets 153-154 moves to the second,
    // which then overflows
    const euro = smsParts(`${vietnamese(152)}€${vietnamese(152)}`, 'unaccented');
    expect(euro).toMatchObject({ encoding: 'gsm7', chars: 306, segments: 3 });
    expect(smsSegments(euro).map((s) => s.length)).toEqual([152, 152, 1]);
    // the same in UCS-2 with a surrogate pair at units 67-68
    const emoji = smsParts(`${vietnamese(66)}🙏${vietnamese(66)}`, 'ucs2');
    expect(emoji).toMatchObject({ chars: 134, segments: 3 });
    const segments = smsSegments(emoji);
    expect(segments.join('')).toBe(emoji.text);
    expect(segments[1]!.startsWith('🙏')).toBe(true);
    expect(segments.every((s) => s.length <= 67)).toBe(true);
  });

  it('sends a real message in one unaccented SMS or two with its accents, and costs them', () => {
    const gsm = smsParts(called, 'unaccented');
    const ucs = smsParts(called, 'ucs2');
    expect(gsm).toMatchObject({ encoding: 'gsm7', chars: 73, segments: 1 });
    expect(ucs).toMatchObject({ encoding: 'ucs2', text: called, chars: 73, segments: 2 });
    expect(smsSegments(ucs)).toEqual([called.slice(0, 67), called.slice(67)]);
    expect(smsCost(gsm, 650)).toBe(650);
    expect(smsCost(ucs, 650)).toBe(1300);
    // a decomposed text is sent composed: 73 units, not one more per accent
    expect(smsParts(called.normalize('NFD'), 'ucs2')).toMatchObject({ text: called, chars: 73 });
  });

  it('falls back to UCS-2 when a text cannot be GSM-7 even unaccented', () => {
    expect(smsParts('Cảm ơn 🙏', 'unaccented')).toMatchObject({ encoding: 'ucs2', text: 'Cam on 🙏', chars: 9, segments: 1 });
  });
});
