import { describe, expect, it } from 'vitest';
import { isGsm7, smsCost, smsParts, unaccent } from '../../src/notifications/channels/sms/sms-text.ts';

describe('Vietnamese SMS text', () => {
  const called = 'Mời số A012 đến quầy 3. Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh';

  it('unaccents every Vietnamese letter to GSM-7', () => {
    expect(unaccent(called)).toBe('Moi so A012 den quay 3. Trung tam Phuc vu hanh chinh cong tinh Quang Ninh');
    const all = 'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ';
    expect(isGsm7(unaccent(all))).toBe(true);
    expect(isGsm7(unaccent(all.toUpperCase()))).toBe(true);
    expect(isGsm7(called)).toBe(false);
  });

  it('counts segments at the boundaries of GSM-7 and UCS-2', () => {
    expect(smsParts('a'.repeat(160), 'unaccented')).toMatchObject({ encoding: 'gsm7', chars: 160, segments: 1 });
    expect(smsParts('a'.repeat(161), 'unaccented').segments).toBe(2);
    expect(smsParts('a'.repeat(306), 'unaccented').segments).toBe(2);
    expect(smsParts('a'.repeat(307), 'unaccented').segments).toBe(3);
    // an extension character takes two septets
    expect(smsParts(`${'a'.repeat(159)}€`, 'unaccented')).toMatchObject({ chars: 161, segments: 2 });
    expect(smsParts('ơ'.repeat(70), 'ucs2')).toMatchObject({ encoding: 'ucs2', chars: 70, segments: 1 });
    expect(smsParts('ơ'.repeat(71), 'ucs2').segments).toBe(2);
    expect(smsParts('ơ'.repeat(134), 'ucs2').segments).toBe(2);
    expect(smsParts('ơ'.repeat(135), 'ucs2').segments).toBe(3);
  });

  it('sends a real message in one unaccented SMS or two with its accents, and costs them', () => {
    const gsm = smsParts(called, 'unaccented');
    const ucs = smsParts(called, 'ucs2');
    expect(gsm).toMatchObject({ encoding: 'gsm7', chars: 73, segments: 1 });
    expect(ucs).toMatchObject({ encoding: 'ucs2', text: called, chars: 73, segments: 2 });
    expect(smsCost(gsm, 650)).toBe(650);
    expect(smsCost(ucs, 650)).toBe(1300);
  });

  it('falls back to UCS-2 when a text cannot be GSM-7 even unaccented', () => {
    expect(smsParts('Cảm ơn 🙏', 'unaccented')).toMatchObject({ encoding: 'ucs2', text: 'Cam on 🙏' });
  });
});
