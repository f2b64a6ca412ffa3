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

describe('days and times as people type them (day first, 24-hour, whatever the browser\'s locale)', async () => {
  const { parseClock, parseDay } = await import('../src/manage/lib/dates.ts');
  it('reads a day day-first, and only a real one', () => {
    expect(parseDay('05/12/2026')).toBe('2026-12-05');
    expect(parseDay('5/12/2026')).toBe('2026-12-05');
    expect(parseDay(' 5.12.2026 ')).toBe('2026-12-05');
    expect(parseDay('05-12-2026')).toBe('2026-12-05');
    expect(parseDay('29/02/2028')).toBe('2028-02-29');
    for (const bad of ['29/02/2026', '12/31/2026', '31/04/2026', '2026-12-05', '05/12/26', '5 Dec 2026', '', '00/12/2026']) expect(parseDay(bad), bad).toBeNull();
  });
  it('reads a time on the 24-hour clock', () => {
    expect(parseClock('13:30')).toBe('13:30');
    expect(parseClock('7:05')).toBe('07:05');
    expect(parseClock('7h30')).toBe('07:30');
    expect(parseClock('13.30')).toBe('13:30');
    expect(parseClock('1330')).toBe('13:30');
    expect(parseClock('7')).toBe('07:00');
    expect(parseClock('17h')).toBe('17:00');
    expect(parseClock('00:00')).toBe('00:00');
    expect(parseClock('23:59')).toBe('23:59');
    for (const bad of ['24:00', '12:60', '1:5', '12:00 AM', '1:30 PM', 'noon', '', '12345', '-1:00']) expect(parseClock(bad), bad).toBeNull();
  });
});
