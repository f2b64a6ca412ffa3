import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, displayDay, localDay, rangeOfDays, startOfDayIso, weekday } from '../src/manage/lib/dates.ts';

describe('report dates', () => {
  it('turns local days into the API range with the site offset', () => {
    expect(rangeOfDays('2026-11-01', '2026-11-30', 'Asia/Ho_Chi_Minh')).toEqual({ from: '2026-11-01T00:00:00+07:00', to: '2026-12-01T00:00:00+07:00' });
    expect(startOfDayIso('2026-03-29', 'Europe/London')).toBe('2026-03-29T00:00:00+00:00');
    expect(startOfDayIso('2026-03-30', 'Europe/London')).toBe('2026-03-30T00:00:00+01:00');
    expect(startOfDayIso('2026-06-01', 'America/St_Johns')).toBe('2026-06-01T00:00:00-02:30');
  });

  it('does calendar arithmetic', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-11-01', '2026-11-30')).toBe(30);
    expect(weekday('2026-11-24')).toBe(2);
    expect(weekday('2026-11-29')).toBe(7);
    expect(displayDay('2026-11-24')).toBe('24/11/2026');
    expect(localDay(new Date('2026-11-24T18:30:00Z'), 'Asia/Ho_Chi_Minh')).toBe('2026-11-25');
  });
});

describe('chart ticks', async () => {
  const { niceTicks, tickDigits, hourSpan } = await import('../src/manage/reports/chart-scale.ts');
  it('steps round, whole for counts, with the decimals to tell them apart', () => {
    expect(niceTicks(1, 4, true)).toEqual([0, 1]);
    expect(niceTicks(455, 4, true)).toEqual([0, 200, 400, 600]);
    expect(niceTicks(33)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0.9)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(tickDigits(niceTicks(0.9))).toBe(2);
    expect(tickDigits(niceTicks(33))).toBe(0);
    expect(hourSpan([2, 9])).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  });
});
