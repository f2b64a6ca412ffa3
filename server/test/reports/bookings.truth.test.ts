import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import type { BookingKind, BookingStatus } from '@qms/db';
import { AuditService } from '../../src/audit/audit.service.ts';
import { QueueService } from '../../src/queue/queue.service.ts';
import { bookingReport } from '../../src/reports/bookings.ts';
import { Reports } from '../../src/reports/reports.ts';
import { parseCsv, readXlsx } from '../manage/xlsx-reader.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// The bookings report against a day worked out by hand (definitions: server/src/reports/README.md).
// Tickets go through the real engine with exact clock moves; what the booking service will do at
// check-in (a ticket's booking_kind and slot_at, the booking rows) is written directly.
//
// Site (Asia/Ho_Chi_Minh, +07:00), fields HT, CT, DD; counters 1 [HT], 2 [HT, CT], 3 [CT], 4 [DD].
// Range: Tue 24/11 00:00 to Thu 26/11 00:00; Wed 25/11 is a holiday.
//
// tickets (all 24/11)  kind     slot    issued  first call       wait   end        slot delta
//   W1  HT             walk-in  -       08:00   08:05            300    done       -
//   W2  HT             walk-in  -       08:02   08:12            600    no-show    -
//   W3  CT             walk-in  -       08:30   -                -      cancelled  -
//   K1  HT             booked   08:30   08:20   08:25            300    done       −300 (early: on time, late 0)
//   K2  HT             booked   09:00   08:50   09:15            1500   done       +900 (late)
//   K3  CT             booked   09:00   08:55   09:08            780    done       +480 (on time)
//   K4  CT             booked   10:00   09:50   -                -      waiting    never called
//   R1  HT             remote   -       09:30   09:40            600    done
//   R2  CT             remote   -       09:35   09:36            60     done
//   W9  HT             walk-in          26/11 00:00 (at `to`): out
//
// slot bookings        field  slot          status       notes
//   B1..B4             HT/HT/CT/CT 08:30/09:00/09:00/10:00  checked_in (K1..K4)
//   B5                 HT     09:00          checked_in   late (a walk-in ticket; not listed above)
//   B6, B7             HT, CT 10:30          missed
//   B8                 HT     08:00          cancelled    after confirmation: counts
//   B9                 HT     08:00          cancelled    before confirmation: never counts
//   B10                HT     10:00          unconfirmed  never counts
//   B11                HT     11:00          confirmed    pending
//   B12                DD     15:00          confirmed    pending, a field with no capacity
//   B13                HT     23/11 10:00    checked_in   out (before `from`)
//   B14                HT     26/11 08:00    missed       out (at/after `to`)
// remote bookings (slot_at = when taken, 24/11): 09:00, 09:05 checked_in; 09:10, 09:15, 09:20 lapsed;
//   09:25 confirmed; 09:30 unconfirmed (never counts); 09:40 cancelled after confirmation.
// capacity (Tue = 2): HT 08:00 2, 08:30 2, 09:00 3, 10:30 1, 11:00 1, 14:00 2; CT 09:00 2, 10:00 1;
//   Wed (3): HT 08:00 5 — but 25/11 is a holiday; Thu (4) HT 08:00 7 — 26/11 is outside the range.

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;
const ids: Record<string, string> = {};
const local = (time: string, day = '2026-11-24') => new Date(`${day}T${time}+07:00`);
const RANGE = { from: local('00:00:00'), to: local('00:00:00', '2026-11-26') };

async function when<T>(time: string, work: () => Promise<T>, day?: string): Promise<T> {
  clock.set(local(time, day));
  return work();
}
async function issue(name: string, time: string, code: string, booked?: { kind: BookingKind; slot?: string }, day?: string) {
  clock.set(new Date(local(time, day).getTime() - 1));
  const { value } = await queue.issue({ siteId: site.siteId, serviceId: site.service[code]! });
  ids[name] = value.id;
  if (booked) {
    await t.db.updateTable('ticket').set({ bookingKind: booked.kind, slotAt: booked.slot ? local(booked.slot) : null }).where('id', '=', value.id).execute();
  }
}
const ticket = (name: string) => ({ ticketId: ids[name]! });
const call = (name: string, n: number) => queue.callTicket({ ...at(site, n), ...ticket(name) });
const finish = (name: string, n: number) => queue.finish({ ...at(site, n), ...ticket(name) });

let n = 0;
async function booking(code: string, kind: BookingKind, status: BookingStatus, slot: Date, o: { confirmed?: boolean; late?: boolean; ticket?: string } = {}) {
  n++;
  await t.db.insertInto('booking').values({
    publicId: `${randomBytes(8).toString('hex')}`, code: `BK${String(n).padStart(4, '0')}`, siteId: site.siteId, serviceId: site.service[code]!, procedureCode: null,
    kind, status, source: 'public', localDate: slot.toISOString().slice(0, 10), slotAt: slot, slotMinutes: 30, arriveBy: null,
    contactKind: null, contact: null, idDigest: null, verifyDigest: null, verifyExpiresAt: null,
    ticketId: o.ticket ? ids[o.ticket]! : null, checkedInLate: o.late ?? false, createdAt: new Date(slot.getTime() - 86_400_000),
    confirmedAt: o.confirmed === false ? null : new Date(slot.getTime() - 86_000_000), cancelledAt: status === 'cancelled' ? slot : null,
    checkedInAt: status === 'checked_in' ? slot : null, eraseAfter: null,
  } as never).execute();
}

beforeAll(async () => {
  t = await createTestDatabase();
  clock = new TestClock(local('07:00:00'));
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
  await when('07:00:00', async () => {
    for (const c of [1, 2, 3, 4]) await openCounter(queue, site, c);
  });

  await issue('W1', '08:00:00', 'HT');
  await issue('W2', '08:02:00', 'HT');
  await when('08:05:00', () => call('W1', 1));
  await when('08:10:00', () => finish('W1', 1));
  await when('08:12:00', () => call('W2', 1));
  await when('08:14:00', () => queue.noShow({ ...at(site, 1), ...ticket('W2') }));
  await issue('K1', '08:20:00', 'HT', { kind: 'slot', slot: '08:30:00' });
  await when('08:25:00', () => call('K1', 1));
  await issue('W3', '08:30:00', 'CT');
  await when('08:35:00', () => finish('K1', 1));
  await when('08:40:00', () => queue.cancel({ siteId: site.siteId, ...ticket('W3') }));
  await issue('K2', '08:50:00', 'HT', { kind: 'slot', slot: '09:00:00' });
  await issue('K3', '08:55:00', 'CT', { kind: 'slot', slot: '09:00:00' });
  await when('09:08:00', () => call('K3', 3));
  await when('09:15:00', () => call('K2', 1));
  await when('09:15:30', () => finish('K3', 3));
  await when('09:20:00', () => finish('K2', 1));
  await issue('R1', '09:30:00', 'HT', { kind: 'remote' });
  await issue('R2', '09:35:00', 'CT', { kind: 'remote' });
  await when('09:36:00', () => call('R2', 3));
  await when('09:40:00', () => call('R1', 1));
  await when('09:45:00', () => finish('R1', 1));
  await issue('K4', '09:50:00', 'CT', { kind: 'slot', slot: '10:00:00' });
  await when('09:50:30', () => finish('R2', 3));
  await issue('W9', '00:00:00', 'HT', undefined, '2026-11-26');

  await booking('HT', 'slot', 'checked_in', local('08:30:00'), { ticket: 'K1' });
  await booking('HT', 'slot', 'checked_in', local('09:00:00'), { ticket: 'K2' });
  await booking('CT', 'slot', 'checked_in', local('09:00:00'), { ticket: 'K3' });
  await booking('CT', 'slot', 'checked_in', local('10:00:00'), { ticket: 'K4' });
  await booking('HT', 'slot', 'checked_in', local('09:00:00'), { late: true });
  await booking('HT', 'slot', 'missed', local('10:30:00'));
  await booking('CT', 'slot', 'missed', local('10:30:00'));
  await booking('HT', 'slot', 'cancelled', local('08:00:00'));
  await booking('HT', 'slot', 'cancelled', local('08:00:00'), { confirmed: false });
  await booking('HT', 'slot', 'unconfirmed', local('10:00:00'), { confirmed: false });
  await booking('HT', 'slot', 'confirmed', local('11:00:00'));
  await booking('DD', 'slot', 'confirmed', local('15:00:00'));
  await booking('HT', 'slot', 'checked_in', local('10:00:00', '2026-11-23'));
  await booking('HT', 'slot', 'missed', local('08:00:00', '2026-11-26'));
  await booking('HT', 'remote', 'checked_in', local('09:00:00'), { ticket: 'R1' });
  await booking('CT', 'remote', 'checked_in', local('09:05:00'), { ticket: 'R2' });
  for (const time of ['09:10:00', '09:15:00', '09:20:00']) await booking('HT', 'remote', 'lapsed', local(time));
  await booking('HT', 'remote', 'confirmed', local('09:25:00'));
  await booking('HT', 'remote', 'unconfirmed', local('09:30:00'), { confirmed: false });
  await booking('HT', 'remote', 'cancelled', local('09:40:00'));

  const capacity = (code: string, weekday: number, starts: string, cap: number) => ({ siteId: site.siteId, serviceId: site.service[code]!, weekday, starts, capacity: cap });
  await t.db.insertInto('bookingCapacity').values([
    capacity('HT', 2, '08:00', 2), capacity('HT', 2, '08:30', 2), capacity('HT', 2, '09:00', 3), capacity('HT', 2, '10:30', 1),
    capacity('HT', 2, '11:00', 1), capacity('HT', 2, '14:00', 2), capacity('CT', 2, '09:00', 2), capacity('CT', 2, '10:00', 1),
    capacity('HT', 3, '08:00', 5), capacity('HT', 4, '08:00', 7),
  ]).execute();
  await t.db.insertInto('holiday').values({ siteId: site.siteId, date: '2026-11-25', name: 'Nghỉ bù' }).execute();
});
afterAll(async () => {
  await t?.drop();
});

const EXPECTED = {
  kinds: [
    { kind: 'walk_in', issued: 3, served: 1, waits: 2, waitAvgSeconds: 450, waitP90Seconds: 570 },
    { kind: 'booked', issued: 4, served: 3, waits: 3, waitAvgSeconds: 860, waitP90Seconds: 1356 },
    { kind: 'remote', issued: 2, served: 2, waits: 2, waitAvgSeconds: 330, waitP90Seconds: 546 },
  ],
  slots: { confirmed: 10, pending: 2, checkedIn: 5, checkedInOnTime: 4, checkedInLate: 1, missed: 2, cancelled: 1, noShowRate: 2 / 7 },
  remote: { taken: 7, pending: 1, checkedIn: 2, lapsed: 3, cancelled: 1, lapseRate: 3 / 5 },
  punctuality: {
    withinMinutes: 10, booked: 4, called: 3, notCalled: 1, onTime: 2, calledEarly: 1, onTimeShare: 2 / 3, lateAvgSeconds: 460, lateP90Seconds: 816,
  },
};

/** Seconds and shares to 6 decimals (milliseconds of the engine's clock reads aside, all are exact). */
const rounded = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e2) / 1e2 : v)));

describe('the bookings report, against the day worked out by hand', () => {
  it('tickets by kind, no-shows, remote tickets and punctuality', async () => {
    const r = await bookingReport(t.db, { siteId: site.siteId, ...RANGE, withinMinutes: 10 });
    expect(rounded(r.kinds)).toEqual(rounded(EXPECTED.kinds));
    expect(rounded(r.slots)).toEqual(rounded(EXPECTED.slots));
    expect(rounded(r.remote)).toEqual(rounded(EXPECTED.remote));
    expect(rounded(r.punctuality)).toEqual(rounded(EXPECTED.punctuality));
  });

  it('punctuality with another X: K2, 15 minutes late, is on time within 15', async () => {
    const r = await bookingReport(t.db, { siteId: site.siteId, ...RANGE, withinMinutes: 15 });
    expect(r.punctuality).toMatchObject({ withinMinutes: 15, onTime: 3, onTimeShare: 1 });
    const strict = await bookingReport(t.db, { siteId: site.siteId, ...RANGE, withinMinutes: 0 });
    // called before its slot is on time even with X = 0
    expect(strict.punctuality).toMatchObject({ onTime: 1, calledEarly: 1 });
  });

  it('slot use per field and local hour: bookings holding a place against the capacity of the days in the range, holidays excluded', async () => {
    const r = await bookingReport(t.db, { siteId: site.siteId, ...RANGE, withinMinutes: 10 });
    const row = (code: string, hour: number, booked: number, capacity: number, useShare: number | null) => ({
      serviceId: site.service[code], label: code, hour, booked, capacity, useShare,
    });
    expect(rounded(r.slotUse)).toEqual(rounded([
      row('HT', 8, 1, 4, 0.25), row('HT', 9, 2, 3, 2 / 3), row('HT', 10, 1, 1, 1), row('HT', 11, 1, 1, 1), row('HT', 14, 0, 2, 0),
      row('CT', 9, 1, 2, 0.5), row('CT', 10, 2, 1, 2),
      row('DD', 15, 1, 0, null),
    ]));
  });

  it('a range of one morning: only the blocks and bookings whose start is in it', async () => {
    const r = await bookingReport(t.db, { siteId: site.siteId, from: local('08:30:00'), to: local('09:00:00'), withinMinutes: 10 });
    expect(r.slotUse).toEqual([{ serviceId: site.service.HT, label: 'HT', hour: 8, booked: 1, capacity: 2, useShare: 0.5 }]);
    expect(r.slots).toMatchObject({ confirmed: 1, checkedIn: 1 });
    expect(r.kinds.map((k) => k.issued)).toEqual([1, 2, 0]); // W3 at 08:30, K2 and K3 (K1 was issued at 08:20)
  });

  it('nothing in the range (a Sunday, no blocks): counts 0, rates and times null', async () => {
    const r = await bookingReport(t.db, { siteId: site.siteId, from: local('00:00:00', '2026-11-29'), to: local('00:00:00', '2026-11-30'), withinMinutes: 10 });
    expect(r.kinds.every((k) => k.issued === 0 && k.waitAvgSeconds === null && k.waitP90Seconds === null)).toBe(true);
    expect(r.slots.noShowRate).toBeNull();
    expect(r.remote.lapseRate).toBeNull();
    expect(r.punctuality).toMatchObject({ booked: 0, onTimeShare: null, lateAvgSeconds: null, lateP90Seconds: null });
    expect(r.slotUse).toEqual([]);
  });

  it('the CSV and the XLSX hold the same figures', async () => {
    const reports = new Reports(t.db, new AuditService(t.db, () => new Date()));
    const q = { from: RANGE.from.toISOString(), to: RANGE.to.toISOString() };
    const csv = await reports.bookingsFile(site.siteId, q, 'csv');
    let text = '';
    for await (const chunk of csv.body) text += chunk.toString();
    const rows = parseCsv(text.replace(/^\uFEFF/, ''));
    expect(rows[0]).toEqual(['section', 'key', 'label', 'hour', 'figure', 'value']);
    expect(rows.length - 1).toBe(csv.totalRows);
    const value = (section: string, key: string, figure: string, hour = '') => rows.find((r) => r[0] === section && r[1] === key && r[4] === figure && r[3] === hour)?.[5];
    expect(value('kinds', 'booked', 'wait_p90_seconds')).toBe('1356');
    expect(value('slots', '', 'no_show_rate')).toBe(String(2 / 7));
    expect(value('remote', '', 'lapsed')).toBe('3');
    expect(value('punctuality', '', 'late_p90_seconds')).toBe('816');
    expect(value('slot_use', site.service.CT!, 'capacity', '9')).toBe('2');
    expect(csv.fileName).toMatch(/^lich-hen-.+\.csv$/);

    const xlsx = await reports.bookingsFile(site.siteId, { ...q, lang: 'en' }, 'xlsx');
    const chunks: Buffer[] = [];
    for await (const chunk of xlsx.body) chunks.push(Buffer.from(chunk));
    const book = readXlsx(Buffer.concat(chunks));
    expect(book.sheets.map((s) => s.name)).toEqual(['Indicators', 'By kind', 'Slot use', 'Định nghĩa – Definitions']);
    const indicator = (label: string) => book.sheets[0]!.rows.find((r) => r[0] === label)?.[1];
    expect(indicator('Confirmed bookings')).toBe(10);
    expect(indicator('No-show rate')).toBeCloseTo(2 / 7, 10);
    expect(indicator('Remote lapsed')).toBe(3);
    expect(indicator('On-time share')).toBeCloseTo(2 / 3, 10);
    expect(book.sheets[0]!.rows.length - 1).toBe(xlsx.totalRows);
    expect(book.sheets[1]!.rows.slice(1)).toEqual([
      ['Walk-in', 3, 1, 2, 450, 570], ['Booked', 4, 3, 3, 860, 1356], ['Remote', 2, 2, 2, 330, 546],
    ].map((r) => r.map((v) => (typeof v === 'number' ? expect.closeTo(v, 2) : v))));
    expect(book.sheets[2]!.rows.slice(1)).toHaveLength(8);
  });
});
