import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, formatDuration, formatNumber, formatTime, formatWait } from '../src/format.ts';

describe('formatting for Vietnamese readers', () => {
  it('writes dates dd/MM/yyyy and 24-hour times in the site timezone', () => {
    const instant = '2026-11-24T13:05:09.120Z'; // 20:05 in Hà Nội
    expect(formatDate(instant)).toBe('24/11/2026');
    expect(formatTime(instant)).toBe('20:05');
    expect(formatTime(instant, 'Asia/Ho_Chi_Minh', true)).toBe('20:05:09');
    expect(formatDateTime('2026-11-24T17:30:00Z')).toBe('25/11/2026 00:30');
  });

  it('uses "." for thousands in Vietnamese and "," in English', () => {
    expect(formatNumber(1234567, 'vi')).toBe('1.234.567');
    expect(formatNumber(1234567, 'en')).toBe('1,234,567');
    expect(formatNumber(12.5, 'vi', 1)).toBe('12,5');
  });

  it('says waits the way people do', () => {
    expect(formatWait(30)).toBe('< 1 phút');
    expect(formatWait(720)).toBe('~12 phút');
    expect(formatWait(720, 'en')).toBe('~12 min');
    expect(formatWait(2 * 3600 + 5 * 60)).toBe('~2 giờ 05 phút');
    expect(formatWait(null, 'en')).toBe('unknown');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});
