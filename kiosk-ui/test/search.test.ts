import { describe, expect, it } from 'vitest';
import type { SiteConfig } from '@qms/protocol';
import { fold, procedureIndex, searchProcedures } from '@qms/ui-shared/search';
import { nextOpeningAfter, siteOpening } from '../src/kiosk/opening.ts';
import { describeWhen } from '../src/kiosk/when.ts';
import { TEXTS } from '../src/kiosk/texts.ts';

const service = (id: string, vi: string, en: string, counterNumbers: number[], procedures: [string, string, string][]) => ({
  id, code: id, prefix: id[0]!, name: { vi, en }, targetWaitSeconds: 900, counterNumbers,
  procedures: procedures.map(([code, pvi, pen]) => ({ code, name: { vi: pvi, en: pen }, processingDays: 0 })),
});

const config = {
  id: 's', code: 'S', name: 'Trung tâm', level: 'commune', timezone: 'Asia/Ho_Chi_Minh', serviceOrder: 'longest_wait', priorityRatio: null,
  transferToFront: false, ratingScale: [], ratingReasons: [], announcement: null,
  openingHours: [1, 2, 3, 4, 5].flatMap((weekday) => [{ weekday, opens: '07:30', closes: '11:30' }, { weekday, opens: '13:30', closes: '17:00' }]),
  holidays: [{ date: '2026-12-31', name: 'x' }],
  services: [
    service('HT', 'Tư pháp – Hộ tịch', 'Justice – Civil status', [1, 2], [
      ['1.001193', 'Đăng ký khai sinh', 'Birth registration'], ['1.000656', 'Đăng ký khai tử', 'Death registration'],
    ]),
    service('CT', 'Chứng thực', 'Certification', [2, 3], [['2.000815', 'Chứng thực bản sao từ bản chính', 'Certified copy from original']]),
    service('DD', 'Đất đai – Xây dựng', 'Land – Construction', [4], [['1.012768', 'Đăng ký biến động đất đai', 'Land record change']]),
  ],
  priorityGroups: [], counters: [],
} as SiteConfig;

describe('procedure search', () => {
  const index = procedureIndex(config);
  const codes = (q: string, lang: 'vi' | 'en' = 'vi') => searchProcedures(index, q, lang).map((h) => h.code);

  it('ignores Vietnamese marks, case and spacing', () => {
    expect(fold('  Đăng KÝ   khai sinh ')).toBe('dang ky khai sinh');
    expect(codes('dang ky khai sinh')).toEqual(['1.001193']);
    expect(codes('Đăng ký khai sinh')).toEqual(['1.001193']);
    expect(codes('khai sinh')).toEqual(['1.001193']);
    expect(codes('KHAI   SINH')).toEqual(['1.001193']);
  });

  it('finds by code, English name and field, with the counters of the field', () => {
    expect(codes('1.001193')).toEqual(['1.001193']);
    expect(codes('001193')).toEqual(['1.001193']);
    expect(codes('birth', 'en')).toEqual(['1.001193']);
    expect(codes('chung thuc')).toEqual(['2.000815']);
    const [hit] = searchProcedures(index, 'ban sao');
    expect(hit).toMatchObject({ code: '2.000815', counterNumbers: [2, 3], service: { code: 'CT' } });
  });

  it('ranks names starting with the query first, needs every word, and finds nothing for nothing', () => {
    expect(codes('dang ky')).toEqual(['1.001193', '1.000656', '1.012768']);
    expect(codes('khai dat')).toEqual([]);
    expect(codes('   ')).toEqual([]);
    expect(codes('xyz')).toEqual([]);
  });
});

describe('opening hours on the kiosk', () => {
  it('follows the engine: open in a session, closed at lunch, on holidays and weekends, with the next opening', () => {
    expect(siteOpening(config, new Date('2026-11-24T02:00:00Z'))).toMatchObject({ open: true }); // Tue 09:00
    const lunch = siteOpening(config, new Date('2026-11-24T05:00:00Z')); // Tue 12:00
    expect(lunch).toMatchObject({ open: false, reason: 'closed' });
    expect(describeWhen((lunch as { opensAt: Date }).opensAt, 'Asia/Ho_Chi_Minh', TEXTS.vi)).toBe('13:30, Thứ Ba 24/11/2026');
    const saturday = siteOpening(config, new Date('2026-11-28T03:00:00Z'));
    expect(describeWhen((saturday as { opensAt: Date }).opensAt, 'Asia/Ho_Chi_Minh', TEXTS.en)).toBe('07:30 on Monday 30/11/2026');
    expect(siteOpening(config, new Date('2026-12-31T02:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' });
    // after the morning session closes, the next one is the afternoon
    expect(nextOpeningAfter(config, new Date('2026-11-24T04:30:00Z'))?.toISOString()).toBe('2026-11-24T06:30:00.000Z');
    expect(nextOpeningAfter(config, new Date('2026-11-24T02:00:00Z'))?.toISOString()).toBe('2026-11-24T06:30:00.000Z');
  });
});
