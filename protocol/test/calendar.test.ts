import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoInZone, localParts, offsetMinutes, wallClock } from '../src/calendar.ts';

// offsetMinutes keeps an offset per zone and UTC minute: it must be the zone's offset at every
// instant, on both sides of a change of offset, whichever side was asked first.

/** The zone's offset as Intl names it ("GMT+05:45"), a second way of reading it. */
function namedOffset(instant: Date, timezone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
    .formatToParts(instant).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

const ZONES = ['Asia/Ho_Chi_Minh', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/New_York'];

describe('offsetMinutes and isoInZone', () => {
  it('write Vietnam\'s times with +07:00', () => {
    expect(isoInZone(new Date('2026-11-22T01:15:03.120Z'), 'Asia/Ho_Chi_Minh')).toBe('2026-11-22T08:15:03.120+07:00');
  });

  it('change offset at the minute the zone does, whichever side is asked first', () => {
    // Berlin goes from +01:00 to +02:00 at 01:00 UTC on 29 March 2026
    expect(isoInZone(new Date('2026-03-29T01:00:30.000Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00:30.000+02:00');
    expect(isoInZone(new Date('2026-03-29T00:59:30.000Z'), 'Europe/Berlin')).toBe('2026-03-29T01:59:30.000+01:00');
    expect(isoInZone(new Date('2026-03-29T00:59:59.999Z'), 'Europe/Berlin')).toBe('2026-03-29T01:59:59.999+01:00');
    expect(isoInZone(new Date('2026-03-29T01:00:00.000Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00:00.000+02:00');
    // and back at 01:00 UTC on 25 October 2026
    expect(isoInZone(new Date('2026-10-25T00:59:59.999Z'), 'Europe/Berlin')).toBe('2026-10-25T02:59:59.999+02:00');
    expect(isoInZone(new Date('2026-10-25T01:00:00.000Z'), 'Europe/Berlin')).toBe('2026-10-25T02:00:00.000+01:00');
  });

  it('agree with the offset Intl names, at random instants and zones, asked twice', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2035, 0, 1) }), fc.constantFrom(...ZONES),
      (ms, zone) => {
        const instant = new Date(ms);
        expect(offsetMinutes(instant, zone)).toBe(namedOffset(instant, zone));
        expect(offsetMinutes(new Date(ms + 59_999 - (ms % 60_000)), zone)).toBe(namedOffset(new Date(ms + 59_999 - (ms % 60_000)), zone));
      }), { numRuns: 2000 });
  });
});

describe('wallClock and localParts', () => {
  /** What Intl itself shows in the zone, field by field: the reading the kept offsets stand in for. */
  function intlShows(instant: Date, timeZone: string) {
    const p: Record<string, string> = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short',
    }).formatToParts(instant).map((x) => [x.type, x.value]));
    return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second, weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) + 1 };
  }

  it('show what Intl shows, at random instants and zones, across their changes of offset', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2035, 0, 1) }), fc.constantFrom(...ZONES),
      (ms, zone) => {
        // the instant, then one in the same UTC minute (the kept offset's), then the last millisecond of it
        for (const at of [ms, ms - (ms % 60_000) + 30_000, ms - (ms % 60_000) + 59_999]) {
          const instant = new Date(at);
          const want = intlShows(instant, zone);
          const w = wallClock(instant, zone);
          expect(w).toEqual(want);
          const p = localParts(instant, zone);
          expect(p.date).toBe(`${want.year}-${want.month}-${want.day}`);
          expect(p.weekday).toBe(want.weekday);
          expect(p.seconds).toBe(Number(want.hour) * 3600 + Number(want.minute) * 60 + Number(want.second) + (at % 1000) / 1000);
        }
      }), { numRuns: 2000 });
  });

  it('turn at the instant Berlin changes its clocks, and at Lord Howe\'s half hour', () => {
    expect(wallClock(new Date('2026-03-29T00:59:59.999Z'), 'Europe/Berlin')).toMatchObject({ hour: '01', minute: '59', second: '59' });
    expect(wallClock(new Date('2026-03-29T01:00:00.000Z'), 'Europe/Berlin')).toMatchObject({ hour: '03', minute: '00', second: '00' });
    // Lord Howe Island goes from +10:30 to +11:00 at 02:00 local on 4 October 2026 (15:30 UTC the day before)
    expect(localParts(new Date('2026-10-03T15:29:59.000Z'), 'Australia/Lord_Howe')).toEqual({ date: '2026-10-04', weekday: 7, seconds: 1 * 3600 + 59 * 60 + 59 });
    expect(localParts(new Date('2026-10-03T15:30:00.000Z'), 'Australia/Lord_Howe')).toEqual({ date: '2026-10-04', weekday: 7, seconds: 2 * 3600 + 30 * 60 });
  });
});
