import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { dossierReport, type DossierFigures } from '../../src/reports/dossiers.ts';
import { summaryReport, type ReportRow, type ReportTotals, type SummaryQuery } from '../../src/reports/report.service.ts';
import { satisfactionReport, type SatisfactionFigures, type SatisfactionGroupBy } from '../../src/reports/satisfaction.ts';
import { referenceDossiers, referenceSatisfaction } from './indicators.reference.ts';
import { loadHistory, referenceReport } from './report.reference.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures, NOTHING } from './expect-figures.ts';

// One scripted day at a centre, driven through the real queue engine with exact clock moves,
// and every figure of the summary report checked against numbers worked out by hand below.
//
// Site A (Asia/Ho_Chi_Minh, +07:00), services HT (target 300 s), CT (600 s), DD (900 s);
// counters 1 [HT], 2 [HT, CT], 3 [CT], 4 [DD]; Cán bộ n works counter n, until 09:55 when
// Cán bộ 2 leaves counter 2 and Cán bộ 4 takes it over. Range: 24/11 08:00 to 25/11 07:00.
//
//       service  issued     calls (counter, wait)                         end                est.  rating
// T0    DD       07:50      c4 07:52                                      done 07:58         -     -      before the range
// T1    HT       08:00:00   c1 08:01 (60)                                 done 08:06 (300)   30    3
// T2    HT       08:00:30   c2 08:02:30 (120)                             done 08:04:30 (120) 150  2
// T3    CT       08:10      c3 08:15 (300)                                no-show 08:17      300   -
// T4    HT→CT    08:20      c1 08:30 (600), transfer 08:35, c3 08:45 (600) done 08:55 (600)  450   1
// T5    DD       09:05      -                                             cancelled 09:20    100   -
// T6    DD       09:10      -                                             waiting            200   -
// T7    HT→DD    09:30      c2 09:45 (900), transfer 09:50                waiting in DD      600   -
// T8    CT       10:00      c2 10:00:45 by Cán bộ 4 (45)                  serving            100   -
// T9    HT eld.  10:15      c1 10:16 by the counter device (60)           done 10:36 (1200)  -     -
// T10   HT       25/11 06:30 c1 06:32 (120)                               done 06:40 (480)   60    3
// T11   DD       25/11 07:00 -                                            waiting            -     -      at `to`: out
// B1    site B (Asia/Tokyo), issued 24/11 09:00 +07:00 = 11:00 in Tokyo, wait 120, done after 600, rating 2.
//
// Estimate errors |estimate − wait of the first stint|: T1 30, T2 30, T3 0, T4 150, T7 300, T8 55, T10 60.
//
// Procedures (ticket_procedure): T1 1.001193; T2 1.001193 and 1.000894; T4 2.000815; T7 1.000894;
// T9 1.001193; T0 1.001193 under an older name; the others none.
// Dossiers (ticket_dossier; a visit is a ticket carrying the code):
//   HS-001  T1 received, T10 returned (25/11)             2 visits   1.001193
//   HS-002  T2 received and returned                      1 visit    1.001193, 1.000894
//   HS-003  T0 received (before the range), T4 returned   first visit out of the range: not counted
//   HS-004  T3 (no-show), T8, T9, T11 (at `to`)           4 visits   1.001193 (T9's)
//   HS-005  T5 (cancelled), T6, T7                        3 visits   1.000894 (T7's)
//   HS-006  T10                                           1 visit    none
//   site B: HS-001 on B1 (another site's dossier)
// Criticisms (alert kind 'criticism'), by created_at:
//   K1  08:07 Quầy 1 / Cán bộ 1, ticket T1: investigating 08:30, resolved 10:07 (7200 s)
//   K2  09:00 Quầy 2 / Cán bộ 2, no ticket, no case yet (new)
//   K3  09:46 Quầy 2 / Cán bộ 2, ticket T7: resolved 09:56, reopened 10:00, resolved 10:46 (3600 s), owner changed 11:00
//   K4  10:40 Quầy 1 / Cán bộ 1, no ticket: investigating 11:00
//   K5  25/11 07:00 (at `to`) and K6 07:59 (before `from`): out; a low_rating alert of T4: not a criticism

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;
let siteB: SiteFixture;
const ids: Record<string, string> = {};

const DAY1 = '2026-11-24';
const DAY2 = '2026-11-25';
const local = (time: string, day = DAY1) => new Date(`${day}T${time}+07:00`);
const RANGE = { from: local('08:00:00'), to: local('07:00:00', DAY2) };

/** Runs `work` at exactly `time`: every engine operation reads the clock once... */
async function when<T>(time: string, work: () => Promise<T>, day = DAY1): Promise<T> {
  clock.set(local(time, day));
  return work();
}

/** ...except issue, which reads it twice and stamps the second read: start 1 ms early. */
async function issue(name: string, time: string, serviceCode: string, options: { day?: string; priority?: string; on?: SiteFixture } = {}) {
  const s = options.on ?? site;
  clock.set(new Date(local(time, options.day).getTime() - 1));
  const { value } = await queue.issue({ siteId: s.siteId, serviceId: s.service[serviceCode]!, priority: options.priority });
  ids[name] = value.id;
  return value;
}

const ticket = (name: string) => ({ ticketId: ids[name]! });
const call = (name: string, n: number, on = site) => queue.callTicket({ ...at(on, n), ...ticket(name) });
const finish = (name: string, n: number, on = site) => queue.finish({ ...at(on, n), ...ticket(name) });

beforeAll(async () => {
  t = await createTestDatabase();
  clock = new TestClock(local('07:00:00'));
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
  siteB = await createSite(t.db);
  await t.db.updateTable('site').set({ timezone: 'Asia/Tokyo' }).where('id', '=', siteB.siteId).execute();
  const names: Record<string, [string, number]> = {
    HT: ['Tư pháp – Hộ tịch', 300],
    CT: ['Chứng thực, "bản sao"', 600],
    DD: ['Đất đai', 900],
  };
  for (const [code, [vi, target]] of Object.entries(names)) {
    await t.db.updateTable('service').set({ name: JSON.stringify({ vi, en: code }), targetWaitSeconds: target })
      .where('id', '=', site.service[code]!).execute();
  }

  await when('07:00:00', async () => {
    for (const n of [1, 2, 3, 4]) await openCounter(queue, site, n);
    await openCounter(queue, siteB, 1);
  });

  await issue('T0', '07:50:00', 'DD');
  await when('07:52:00', () => call('T0', 4));
  await when('07:58:00', () => finish('T0', 4));

  await issue('T1', '08:00:00', 'HT');
  await issue('T2', '08:00:30', 'HT');
  await when('08:01:00', () => call('T1', 1));
  await when('08:02:00', () => queue.start({ ...at(site, 1), ...ticket('T1') }));
  await when('08:02:30', () => call('T2', 2));
  await when('08:04:30', () => finish('T2', 2));
  await when('08:06:00', () => finish('T1', 1));

  await issue('T3', '08:10:00', 'CT');
  await when('08:15:00', () => call('T3', 3));
  await when('08:17:00', () => queue.noShow({ ...at(site, 3), ...ticket('T3') }));

  await issue('T4', '08:20:00', 'HT');
  await when('08:30:00', () => call('T4', 1));
  await when('08:31:00', () => queue.start({ ...at(site, 1), ...ticket('T4') }));
  await when('08:35:00', () => queue.transfer({ ...at(site, 1), ...ticket('T4'), serviceId: site.service.CT! }));
  await when('08:45:00', () => call('T4', 3));
  await when('08:46:00', () => queue.start({ ...at(site, 3), ...ticket('T4') }));
  await when('08:55:00', () => finish('T4', 3));

  await issue('B1', '09:00:00', 'HT', { on: siteB });
  await when('09:02:00', () => call('B1', 1, siteB));
  await when('09:12:00', () => finish('B1', 1, siteB));

  await issue('T5', '09:05:00', 'DD');
  await issue('T6', '09:10:00', 'DD');
  await when('09:20:00', () => queue.cancel({ siteId: site.siteId, ...ticket('T5') }));

  await issue('T7', '09:30:00', 'HT');
  await when('09:45:00', () => call('T7', 2));
  await when('09:50:00', () => queue.transfer({ ...at(site, 2), ...ticket('T7'), serviceId: site.service.DD! }));

  // Cán bộ 4 takes over counter 2 (leaving counter 4)
  await when('09:55:00', async () => {
    await queue.closeCounter(at(site, 2));
    await queue.openCounter({ counterId: site.counter[2]!, staffId: site.staff[3]! });
  });

  await issue('T8', '10:00:00', 'CT');
  await when('10:00:45', () => queue.callTicket({ counterId: site.counter[2]!, staffId: site.staff[3]!, ...ticket('T8') }));
  await when('10:01:00', () => queue.start({ counterId: site.counter[2]!, staffId: site.staff[3]!, ...ticket('T8') }));

  await issue('T9', '10:15:00', 'HT', { priority: 'elderly' });
  // the counter's device presses "call": the event names no official
  await when('10:16:00', () => queue.callTicket({ counterId: site.counter[1]!, ...ticket('T9') }));
  await when('10:36:00', () => finish('T9', 1));

  await issue('T10', '06:30:00', 'HT', { day: DAY2 });
  await when('06:32:00', () => call('T10', 1), DAY2);
  await when('06:40:00', () => finish('T10', 1), DAY2);
  await issue('T11', '07:00:00', 'DD', { day: DAY2 });

  const estimates: Record<string, number | null> = {
    T1: 30, T2: 150, T3: 300, T4: 450, T5: 100, T6: 200, T7: 600, T8: 100, T9: null, T10: 60, T11: null, B1: null,
  };
  for (const [name, estimate] of Object.entries(estimates)) {
    await t.db.updateTable('ticket').set({ estimatedWaitSeconds: estimate }).where('id', '=', ids[name]!).execute();
  }
  const ratings: [string, number, SiteFixture, number][] = [['T1', 3, site, 1], ['T2', 2, site, 2], ['T4', 1, site, 3], ['T10', 3, site, 1], ['B1', 2, siteB, 1]];
  for (const [name, score, s, n] of ratings) {
    await t.db.insertInto('rating').values({ ticketId: ids[name]!, siteId: s.siteId, counterId: s.counter[n]!, staffId: s.staff[n - 1]!, score }).execute();
  }

  const procedures: [string, string, string, string][] = [
    ['T0', '1.001193', 'Khai sinh (tên cũ)', '07:50:00'], ['T1', '1.001193', 'Đăng ký khai sinh', '08:00:00'],
    ['T2', '1.001193', 'Đăng ký khai sinh', '08:00:30'], ['T2', '1.000894', 'Đăng ký kết hôn', '08:03:00'],
    ['T4', '2.000815', 'Chứng thực bản sao từ bản chính', '08:46:00'], ['T7', '1.000894', 'Đăng ký kết hôn', '09:30:00'],
    ['T9', '1.001193', 'Đăng ký khai sinh', '10:15:00'],
  ];
  for (const [name, code, vi, time] of procedures) {
    await t.db.insertInto('ticketProcedure').values({
      ticketId: ids[name]!, siteId: site.siteId, procedureCode: code, procedureName: JSON.stringify({ vi, en: vi }), serviceId: null,
      source: 'kiosk', addedAt: local(time), addedBy: null,
    }).execute();
  }
  const dossiers: [string, string, 'received' | 'returned', SiteFixture?][] = [
    ['T1', 'HS-001', 'received'], ['T10', 'HS-001', 'returned'], ['T2', 'HS-002', 'received'], ['T2', 'HS-002', 'returned'],
    ['T0', 'HS-003', 'received'], ['T4', 'HS-003', 'returned'], ['T3', 'HS-004', 'received'], ['T8', 'HS-004', 'received'],
    ['T9', 'HS-004', 'received'], ['T11', 'HS-004', 'received'], ['T5', 'HS-005', 'received'], ['T6', 'HS-005', 'received'],
    ['T7', 'HS-005', 'returned'], ['T10', 'HS-006', 'received'], ['B1', 'HS-001', 'received', siteB],
  ];
  for (const [name, code, direction, s] of dossiers) {
    await t.db.insertInto('ticketDossier').values({ ticketId: ids[name]!, siteId: (s ?? site).siteId, dossierCode: code, direction, recordedAt: local('12:00:00'), recordedBy: null }).execute();
  }
  const manager = site.staff[3]!;
  const criticism = async (time: string, n: number, ticket: string | null, events: [string, 'new' | 'investigating' | 'resolved'][], day = DAY1, kind = 'criticism') => {
    const last = events.at(-1)?.[1] ?? null;
    const alert = await t.db.insertInto('alert').values({
      siteId: site.siteId, kind, counterId: site.counter[n]!, staffId: site.staff[n - 1]!, ticketId: ticket ? ids[ticket]! : null, deviceId: null,
      data: '{}', createdAt: local(time, day), acknowledgedAt: null, acknowledgedBy: null, caseStatus: last,
    }).returning('id').executeTakeFirstOrThrow();
    for (const [at, status] of events) {
      await t.db.insertInto('alertCaseEvent').values({ alertId: alert.id, at: local(at), byId: manager, status, ownerId: manager, note: null }).execute();
    }
  };
  await criticism('08:07:00', 1, 'T1', [['08:30:00', 'investigating'], ['10:07:00', 'resolved']]);
  await criticism('09:00:00', 2, null, []);
  await criticism('09:46:00', 2, 'T7', [['09:56:00', 'resolved'], ['10:00:00', 'investigating'], ['10:46:00', 'resolved'], ['11:00:00', 'resolved']]);
  await criticism('10:40:00', 1, null, [['11:00:00', 'investigating']]);
  await criticism('07:00:00', 1, null, [], DAY2);
  await criticism('07:59:00', 1, null, []);
  await criticism('08:56:00', 3, 'T4', [], DAY1, 'low_rating');
}, 60_000);
afterAll(() => t?.drop());

const report = (groupBy: SummaryQuery['groupBy'], range: { from: Date; to: Date } = RANGE, siteId: string | null = site.siteId) =>
  summaryReport(t.db, { siteId, groupBy, ...range });

function row(rows: ReportRow[], key: string): ReportRow {
  const found = rows.find((r) => r.key === key);
  expect(found, `row ${key}`).toBeDefined();
  return found!;
}

// ---- expected figures, by hand from the table above ----------------------------------------

// waits: T1 60, T2 120, T3 300, T4 600 + 600, T7 900, T8 45, T9 60, T10 120
// sorted 45 60 60 120 120 300 600 600 900: p50 = [4] = 120, p90 = [7.2] = 600 + 0.2·300 = 660
// within target: all but T4's HT stint (600 > 300) and T7's (900 > 300): 7 of 9
// service (done): T1 300, T2 120, T4 600, T9 1200, T10 480; sorted 120 300 480 600 1200, p90 = [3.6] = 600 + 0.6·600 = 960
// ratings 3 2 1 3; estimate errors sorted 0 30 30 55 60 150 300: median 55
const TOTALS: ReportTotals = {
  issued: 10, served: 5, noShow: 1, cancelled: 1, expired: 0, transferred: 2, transfersIn: 2,
  waits: 9, waitAvgSeconds: 2805 / 9, waitP50Seconds: 120, waitP90Seconds: 660, withinTargetShare: 7 / 9,
  serviceAvgSeconds: 540, serviceP90Seconds: 960,
  ratings: 4, ratingAvg: 2.25, ratingShares: { 1: 0.25, 2: 0.25, 3: 0.5 }, notSatisfiedShare: 0.25,
  estimateMaeSeconds: 55,
};

describe('the scripted day', () => {
  it('stored exactly the scripted instants', async () => {
    const rows = await t.db.selectFrom('ticket').select(['id', 'issuedAt', 'calledAt', 'finishedAt']).where('id', 'in', [ids.T1!, ids.T4!]).execute();
    const t1 = rows.find((r) => r.id === ids.T1)!;
    const t4 = rows.find((r) => r.id === ids.T4)!;
    expect(t1.issuedAt).toEqual(local('08:00:00'));
    expect(t1.calledAt).toEqual(local('08:01:00'));
    expect(t1.finishedAt).toEqual(local('08:06:00'));
    expect(t4.calledAt).toEqual(local('08:45:00'));
  });

  it('totals', async () => {
    for (const groupBy of ['service', 'counter', 'staff', 'day', 'hour'] as const) {
      expectFigures((await report(groupBy)).totals, TOTALS, groupBy);
    }
  });

  it('by service: stints in the service they waited in, an issue in the first, an outcome in the final one', async () => {
    const { rows } = await report('service');
    expect(rows.map((r) => [r.key, r.label])).toEqual([
      [site.service.HT, 'Tư pháp – Hộ tịch'], [site.service.CT, 'Chứng thực, "bản sao"'], [site.service.DD, 'Đất đai'],
    ]);
    // HT: issued T1 T2 T4 T7 T9 T10 (T4 and T7 transferred out); ended here T1 T2 T9 T10;
    //   stints T1 60, T2 120, T4 600, T7 900, T9 60, T10 120
    //   sorted 60 60 120 120 600 900: p50 = [2.5] = 120, p90 = [4.5] = 750; within 300: 4 of 6
    //   service 300 120 1200 480: sorted 120 300 480 1200, p90 = [2.7] = 480 + 0.7·720 = 984
    //   estimate errors of first stints in HT: T1 30, T2 30, T4 150, T7 300, T10 60 -> 60
    expectFigures(row(rows, site.service.HT!), {
      issued: 6, served: 4, noShow: 0, cancelled: 0, expired: 0, transferred: 2, transfersIn: 0,
      waits: 6, waitAvgSeconds: 310, waitP50Seconds: 120, waitP90Seconds: 750, withinTargetShare: 4 / 6,
      serviceAvgSeconds: 525, serviceP90Seconds: 984,
      ratings: 3, ratingAvg: 8 / 3, ratingShares: { 2: 1 / 3, 3: 2 / 3 }, notSatisfiedShare: 0, estimateMaeSeconds: 60,
    }, 'HT');
    // CT: issued T3 T8, T4 transferred in and served; stints T3 300, T4 600, T8 45: p90 = [1.8] = 300 + 0.8·300 = 540; all within 600
    //   estimate errors of first stints in CT: T3 0, T8 55 -> 27.5
    expectFigures(row(rows, site.service.CT!), {
      issued: 2, served: 1, noShow: 1, cancelled: 0, expired: 0, transferred: 0, transfersIn: 1,
      waits: 3, waitAvgSeconds: 315, waitP50Seconds: 300, waitP90Seconds: 540, withinTargetShare: 1,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 27.5,
    }, 'CT');
    // DD: T5 cancelled, T6 waiting, T7 waiting after its transfer in: no call, so no wait figures
    expectFigures(row(rows, site.service.DD!), { ...NOTHING, issued: 2, cancelled: 1, transfersIn: 1 }, 'DD');
  });

  it('by counter: stints where they were called, an issue with the first call, an outcome with the final one; never-called stints only in totals', async () => {
    const { rows, totals } = await report('counter');
    expect(rows.map((r) => [r.key, r.label])).toEqual([
      [site.counter[1], 'Quầy 1'], [site.counter[2], 'Quầy 2'], [site.counter[3], 'Quầy 3'],
    ]);
    expect(rows.reduce((n, r) => n + r.issued, 0)).toBe(totals.issued - 2); // T5, T6 never called
    // counter 1: issued (first call) T1 T4 T9 T10, T4 transferred out; ended here T1 T9 T10; stints T1 60, T4 600, T9 60, T10 120
    //   sorted 60 60 120 600: p50 = [1.5] = 90, p90 = [2.7] = 120 + 0.7·480 = 456; within 3 of 4
    //   service 300 1200 480: p90 = [1.8] = 480 + 0.8·720 = 1056; estimates T1 30, T4 150, T10 60 -> 60
    expectFigures(row(rows, site.counter[1]!), {
      issued: 4, served: 3, noShow: 0, cancelled: 0, expired: 0, transferred: 1, transfersIn: 0,
      waits: 4, waitAvgSeconds: 210, waitP50Seconds: 90, waitP90Seconds: 456, withinTargetShare: 0.75,
      serviceAvgSeconds: 660, serviceP90Seconds: 1056,
      ratings: 2, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 60,
    }, 'counter 1');
    // counter 2: issued T2 T7 T8, T7 transferred out (its DD stint has no counter); stints T2 120, T7 900, T8 45: p90 = [1.8] = 120 + 0.8·780 = 744
    expectFigures(row(rows, site.counter[2]!), {
      issued: 3, served: 1, noShow: 0, cancelled: 0, expired: 0, transferred: 1, transfersIn: 0,
      waits: 3, waitAvgSeconds: 355, waitP50Seconds: 120, waitP90Seconds: 744, withinTargetShare: 2 / 3,
      serviceAvgSeconds: 120, serviceP90Seconds: 120,
      ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 55,
    }, 'counter 2');
    // counter 3: issued T3, T4 transferred in and served; stints T3 300, T4 600: p90 = [0.9] = 570;
    //   T4's first stint (its issue, its transfer out) was at counter 1
    expectFigures(row(rows, site.counter[3]!), {
      issued: 1, served: 1, noShow: 1, cancelled: 0, expired: 0, transferred: 0, transfersIn: 1,
      waits: 2, waitAvgSeconds: 450, waitP50Seconds: 450, waitP90Seconds: 570, withinTargetShare: 1,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 0,
    }, 'counter 3');
  });

  it('by staff: the official of each call, a device call counting for the official working the counter', async () => {
    const { rows } = await report('staff');
    expect(rows.map((r) => [r.key, r.label])).toEqual([
      [site.staff[0], 'Cán bộ 1'], [site.staff[1], 'Cán bộ 2'], [site.staff[2], 'Cán bộ 3'], [site.staff[3], 'Cán bộ 4'],
    ]);
    // Cán bộ 1 = counter 1 all day (T9 called by the device)
    expectFigures(row(rows, site.staff[0]!), {
      issued: 4, served: 3, noShow: 0, cancelled: 0, expired: 0, transferred: 1, transfersIn: 0,
      waits: 4, waitAvgSeconds: 210, waitP50Seconds: 90, waitP90Seconds: 456, withinTargetShare: 0.75,
      serviceAvgSeconds: 660, serviceP90Seconds: 1056,
      ratings: 2, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 60,
    }, 'Cán bộ 1');
    // Cán bộ 2: T2 120, T7 900 (counter 2 before 09:55): p90 = [0.9] = 120 + 0.9·780 = 822; estimates 30, 300 -> 165
    expectFigures(row(rows, site.staff[1]!), {
      issued: 2, served: 1, noShow: 0, cancelled: 0, expired: 0, transferred: 1, transfersIn: 0,
      waits: 2, waitAvgSeconds: 510, waitP50Seconds: 510, waitP90Seconds: 822, withinTargetShare: 0.5,
      serviceAvgSeconds: 120, serviceP90Seconds: 120,
      ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 165,
    }, 'Cán bộ 2');
    expectFigures(row(rows, site.staff[2]!), {
      issued: 1, served: 1, noShow: 1, cancelled: 0, expired: 0, transferred: 0, transfersIn: 1,
      waits: 2, waitAvgSeconds: 450, waitP50Seconds: 450, waitP90Seconds: 570, withinTargetShare: 1,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 0,
    }, 'Cán bộ 3');
    // Cán bộ 4: T8 at counter 2, still serving
    expectFigures(row(rows, site.staff[3]!), {
      ...NOTHING, issued: 1, waits: 1, waitAvgSeconds: 45, waitP50Seconds: 45, waitP90Seconds: 45, withinTargetShare: 1,
      estimateMaeSeconds: 55,
    }, 'Cán bộ 4');
  });

  it('by day: the local date of issue (T10 at 06:30 on the 25th is still the 24th in UTC)', async () => {
    const { rows } = await report('day');
    expect(rows.map((r) => [r.key, r.label])).toEqual([[DAY1, DAY1], [DAY2, DAY2]]);
    // 24/11: waits 60 120 300 600 600 900 45 60, sorted 45 60 60 120 300 600 600 900:
    //   p50 = [3.5] = 210, p90 = [6.3] = 690; within 6 of 8
    //   service 300 120 600 1200: sorted 120 300 600 1200, p90 = [2.7] = 1020
    //   estimates 0 30 30 55 150 300: median = (30 + 55) / 2
    expectFigures(row(rows, DAY1), {
      issued: 9, served: 4, noShow: 1, cancelled: 1, expired: 0, transferred: 2, transfersIn: 2,
      waits: 8, waitAvgSeconds: 2685 / 8, waitP50Seconds: 210, waitP90Seconds: 690, withinTargetShare: 0.75,
      serviceAvgSeconds: 555, serviceP90Seconds: 1020,
      ratings: 3, ratingAvg: 2, ratingShares: { 1: 1 / 3, 2: 1 / 3, 3: 1 / 3 }, notSatisfiedShare: 1 / 3, estimateMaeSeconds: 42.5,
    }, DAY1);
    expectFigures(row(rows, DAY2), {
      ...NOTHING, issued: 1, served: 1, waits: 1, waitAvgSeconds: 120, waitP50Seconds: 120, waitP90Seconds: 120,
      withinTargetShare: 1, serviceAvgSeconds: 480, serviceP90Seconds: 480,
      ratings: 1, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 60,
    }, DAY2);
  });

  it('by hour: the local hour of issue', async () => {
    const { rows } = await report('hour');
    expect(rows.map((r) => [r.key, r.label])).toEqual([['6', '6'], ['8', '8'], ['9', '9'], ['10', '10']]);
    expectFigures(row(rows, '6'), {
      ...NOTHING, issued: 1, served: 1, waits: 1, waitAvgSeconds: 120, waitP50Seconds: 120, waitP90Seconds: 120,
      withinTargetShare: 1, serviceAvgSeconds: 480, serviceP90Seconds: 480,
      ratings: 1, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 60,
    }, '6h');
    // 8h: T1 T2 T3 T4; waits 60 120 300 600 600: p90 = [3.6] = 600; within 4 of 5
    //   service 300 120 600: p90 = [1.8] = 540; estimates 0 30 30 150 -> 30
    expectFigures(row(rows, '8'), {
      issued: 4, served: 3, noShow: 1, cancelled: 0, expired: 0, transferred: 1, transfersIn: 1,
      waits: 5, waitAvgSeconds: 336, waitP50Seconds: 300, waitP90Seconds: 600, withinTargetShare: 0.8,
      serviceAvgSeconds: 340, serviceP90Seconds: 540,
      ratings: 3, ratingAvg: 2, ratingShares: { 1: 1 / 3, 2: 1 / 3, 3: 1 / 3 }, notSatisfiedShare: 1 / 3, estimateMaeSeconds: 30,
    }, '8h');
    // 9h: T5 cancelled, T6 waiting, T7 900 then waiting in DD
    expectFigures(row(rows, '9'), {
      ...NOTHING, issued: 3, cancelled: 1, transferred: 1, transfersIn: 1,
      waits: 1, waitAvgSeconds: 900, waitP50Seconds: 900, waitP90Seconds: 900, withinTargetShare: 0, estimateMaeSeconds: 300,
    }, '9h');
    // 10h: T8 45 (serving), T9 60 (done in 1200): p90 = [0.9] = 45 + 0.9·15 = 58.5
    expectFigures(row(rows, '10'), {
      ...NOTHING, issued: 2, served: 1,
      waits: 2, waitAvgSeconds: 52.5, waitP50Seconds: 52.5, waitP90Seconds: 58.5, withinTargetShare: 1,
      serviceAvgSeconds: 1200, serviceP90Seconds: 1200, estimateMaeSeconds: 55,
    }, '10h');
  });

  it('all sites: each site in its own timezone', async () => {
    const { rows, totals } = await report('hour', RANGE, null);
    // B1 was issued at 11:00 in Tokyo
    expect(rows.map((r) => r.key)).toEqual(['6', '8', '9', '10', '11']);
    expectFigures(row(rows, '11'), {
      ...NOTHING, issued: 1, served: 1, waits: 1, waitAvgSeconds: 120, waitP50Seconds: 120, waitP90Seconds: 120,
      withinTargetShare: 1, serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0,
    }, '11h');
    // waits sorted 45 60 60 120 120 120 300 600 600 900: p50 = [4.5] = 120, p90 = [8.1] = 630
    // service sorted 120 300 480 600 600 1200: p90 = [4.5] = 900
    expectFigures(totals, {
      issued: 11, served: 6, noShow: 1, cancelled: 1, expired: 0, transferred: 2, transfersIn: 2,
      waits: 10, waitAvgSeconds: 292.5, waitP50Seconds: 120, waitP90Seconds: 630, withinTargetShare: 0.8,
      serviceAvgSeconds: 550, serviceP90Seconds: 900,
      ratings: 5, ratingAvg: 2.2, ratingShares: { 1: 0.2, 2: 0.4, 3: 0.4 }, notSatisfiedShare: 0.2, estimateMaeSeconds: 55,
    }, 'all sites');
    const bySite = await report('service', RANGE, null);
    expect(bySite.rows.map((r) => r.key)).toContain(siteB.service.HT);
  });

  it('counts a ticket by its issue instant: from inclusive, to exclusive', async () => {
    expect((await report('day', { from: local('08:00:00'), to: local('06:30:00', DAY2) })).totals.issued).toBe(9);
    expect((await report('day', { from: local('08:00:00'), to: local('06:30:00.001', DAY2) })).totals.issued).toBe(10);
    expect((await report('day', { from: local('08:00:00.001'), to: RANGE.to })).totals.issued).toBe(9);
    // a range holding only the ticket issued before 08:00
    const early = await report('counter', { from: local('07:00:00'), to: local('08:00:00') });
    expect(early.rows.map((r) => r.key)).toEqual([site.counter[4]]);
    expect(early.totals).toMatchObject({ issued: 1, served: 1, waits: 1, waitAvgSeconds: 120, serviceAvgSeconds: 360 });
  });

  it('answers an empty range with zero counts and null figures, and refuses a reversed one', async () => {
    const empty = await report('service', { from: local('12:00:00'), to: local('13:00:00') });
    expect(empty.rows).toEqual([]);
    expectFigures(empty.totals, NOTHING, 'empty');
    await expect(report('service', { from: RANGE.to, to: RANGE.from })).rejects.toMatchObject({ code: 'INVALID_RANGE', status: 400 });
    await expect(report('service', RANGE, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'SITE_NOT_FOUND', status: 404 });
  });
});

// ---- procedures, satisfaction, visits per dossier -------------------------------------------

describe('the scripted day by procedure', () => {
  it('counts a ticket in each of its procedures and once in the totals; its label is the name last recorded', async () => {
    const { rows, totals } = await report('procedure');
    expect(rows.map((r) => [r.key, r.label])).toEqual([
      ['1.000894', 'Đăng ký kết hôn'], ['1.001193', 'Đăng ký khai sinh'], ['2.000815', 'Chứng thực bản sao từ bản chính'], ['', '(không ghi thủ tục)'],
    ]);
    expectFigures(totals, TOTALS, 'totals');
    // T2 and T7: waits 120, 900 (T7 then transferred to DD, waiting): p90 = 120 + 0.9·780 = 822; estimates 30, 300
    expectFigures(row(rows, '1.000894'), {
      ...NOTHING, issued: 2, served: 1, transferred: 1, transfersIn: 1,
      waits: 2, waitAvgSeconds: 510, waitP50Seconds: 510, waitP90Seconds: 822, withinTargetShare: 0.5,
      serviceAvgSeconds: 120, serviceP90Seconds: 120,
      ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 165,
    }, '1.000894');
    // T1 T2 T9: waits 60 120 60 (p90 = 60 + 0.8·60 = 108); service 300 120 1200 (p90 = 300 + 0.8·900 = 1020); estimates 30 30
    expectFigures(row(rows, '1.001193'), {
      ...NOTHING, issued: 3, served: 3,
      waits: 3, waitAvgSeconds: 80, waitP50Seconds: 60, waitP90Seconds: 108, withinTargetShare: 1,
      serviceAvgSeconds: 540, serviceP90Seconds: 1020,
      ratings: 2, ratingAvg: 2.5, ratingShares: { 2: 0.5, 3: 0.5 }, notSatisfiedShare: 0, estimateMaeSeconds: 30,
    }, '1.001193');
    // T4: both its stints (600 in HT over the 300 target, 600 in CT within 600)
    expectFigures(row(rows, '2.000815'), {
      ...NOTHING, issued: 1, served: 1, transferred: 1, transfersIn: 1,
      waits: 2, waitAvgSeconds: 600, waitP50Seconds: 600, waitP90Seconds: 600, withinTargetShare: 0.5,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 150,
    }, '2.000815');
    // T3 T5 T6 T8 T10: waits 300 45 120 (p90 = 120 + 0.8·180 = 264); estimates 0 55 60
    expectFigures(row(rows, ''), {
      ...NOTHING, issued: 5, served: 1, noShow: 1, cancelled: 1,
      waits: 3, waitAvgSeconds: 155, waitP50Seconds: 120, waitP90Seconds: 264, withinTargetShare: 1,
      serviceAvgSeconds: 480, serviceP90Seconds: 480,
      ratings: 1, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 55,
    }, 'no procedure');
    const want = referenceReport(await loadHistory(t.db), { siteId: site.siteId, groupBy: 'procedure', ...RANGE });
    expect(rows.map((r) => r.key)).toEqual(want.rows.map((r) => r.key));
    want.rows.forEach((w, i) => expectFigures(rows[i]!, w, `reference ${w.key}`));
  });
});

const sat = (groupBy: SatisfactionGroupBy, siteId = site.siteId) => satisfactionReport(t.db, { siteId, groupBy, ...RANGE });
const NO_SAT: SatisfactionFigures = {
  ratings: 0, ratingAvg: null, levels: [{ score: 3, count: 0, share: null }, { score: 2, count: 0, share: null }, { score: 1, count: 0, share: null }],
  satisfied: 0, satisfiedShare: null, criticisms: 0, criticismsNew: 0, criticismsInvestigating: 0, criticismsResolved: 0,
  resolutionP50Seconds: null, resolutionsTimed: 0,
};
const levels = (ratings: number, three: number, two: number, one: number) => [
  { score: 3, count: three, share: three / ratings }, { score: 2, count: two, share: two / ratings }, { score: 1, count: one, share: one / ratings },
];

describe('the scripted day\'s satisfaction', () => {
  // ratings T1 3 (Cán bộ 1), T2 2 (Cán bộ 2), T4 1 (Cán bộ 3), T10 3 (Cán bộ 1); criticisms K1..K4
  const TOTAL: SatisfactionFigures = {
    ratings: 4, ratingAvg: 2.25, levels: levels(4, 2, 1, 1), satisfied: 3, satisfiedShare: 0.75,
    criticisms: 4, criticismsNew: 1, criticismsInvestigating: 1, criticismsResolved: 2, resolutionP50Seconds: 5400, resolutionsTimed: 2,
  };
  const ONE: SatisfactionFigures = {
    ratings: 2, ratingAvg: 3, levels: levels(2, 2, 0, 0), satisfied: 2, satisfiedShare: 1,
    criticisms: 2, criticismsNew: 0, criticismsInvestigating: 1, criticismsResolved: 1, resolutionP50Seconds: 7200, resolutionsTimed: 1,
  };
  const TWO: SatisfactionFigures = {
    ratings: 1, ratingAvg: 2, levels: levels(1, 0, 1, 0), satisfied: 1, satisfiedShare: 1,
    criticisms: 2, criticismsNew: 1, criticismsInvestigating: 0, criticismsResolved: 1, resolutionP50Seconds: 3600, resolutionsTimed: 1,
  };
  const THREE: SatisfactionFigures = { ...NO_SAT, ratings: 1, ratingAvg: 1, levels: levels(1, 0, 0, 1), satisfied: 0, satisfiedShare: 0 };

  it('by official and by counter: the ratings\' and criticisms\' own official and counter', async () => {
    const staff = await sat('staff');
    expect(staff.rows.map((r) => r.label)).toEqual(['Cán bộ 1', 'Cán bộ 2', 'Cán bộ 3']);
    expect(staff.rows.map(({ key, label: _, ...f }) => [key, f])).toEqual([[site.staff[0], ONE], [site.staff[1], TWO], [site.staff[2], THREE]]);
    expect(staff.totals).toEqual(TOTAL);
    const counter = await sat('counter');
    expect(counter.rows.map(({ key, label, ...f }) => [key, label, f])).toEqual([
      [site.counter[1], 'Quầy 1', ONE], [site.counter[2], 'Quầy 2', TWO], [site.counter[3], 'Quầy 3', THREE],
    ]);
  });

  it('by field and procedure: through the rated ticket, and the criticism\'s ticket when it has one', async () => {
    const service = await sat('service');
    expect(service.rows.map(({ key, label, ...f }) => [key, label, f])).toEqual([
      // T1 3, T2 2, T10 3, K1 (T1)
      [site.service.HT, 'Tư pháp – Hộ tịch', { ...ONE, ratings: 3, ratingAvg: 8 / 3, levels: levels(3, 2, 1, 0), satisfied: 3, criticisms: 1, criticismsInvestigating: 0 }],
      // T4 (transferred to CT, rated there)
      [site.service.CT, 'Chứng thực, "bản sao"', THREE],
      // K3 (T7, waiting in DD now)
      [site.service.DD, 'Đất đai', { ...NO_SAT, criticisms: 1, criticismsResolved: 1, resolutionP50Seconds: 3600, resolutionsTimed: 1 }],
    ]);
    const procedure = await sat('procedure');
    expect(procedure.rows.map(({ key, label, ...f }) => [key, label, f])).toEqual([
      ['1.000894', 'Đăng ký kết hôn', { ...TWO, criticismsNew: 0, criticisms: 1 }],
      ['1.001193', 'Đăng ký khai sinh', { ...ONE, ratingAvg: 2.5, levels: levels(2, 1, 1, 0), criticisms: 1, criticismsInvestigating: 0 }],
      ['2.000815', 'Chứng thực bản sao từ bản chính', THREE],
      ['', '(không ghi thủ tục)', { ...NO_SAT, ratings: 1, ratingAvg: 3, levels: levels(1, 1, 0, 0), satisfied: 1, satisfiedShare: 1 }],
    ]);
    expect(procedure.totals).toEqual(TOTAL);
  });

  it('by site, on the site\'s scale; the same as the reference', async () => {
    const bySite = await sat('site');
    expect(bySite.rows.map(({ key, ...f }) => [key, f.ratings])).toEqual([[site.siteId, 4]]);
    expect(bySite.scale.map((l) => [l.score, l.label.vi])).toEqual([[3, 'Rất hài lòng'], [2, 'Hài lòng'], [1, 'Không hài lòng']]);
    const history = await loadHistory(t.db);
    for (const groupBy of ['staff', 'counter', 'service', 'procedure', 'site'] as const) {
      expect(await sat(groupBy), groupBy).toEqual(referenceSatisfaction(history, { siteId: site.siteId, groupBy, ...RANGE }));
    }
    // site B: B1 rated 2, no criticism
    expect((await sat('staff', siteB.siteId)).totals).toMatchObject({ ratings: 1, satisfied: 1, criticisms: 0 });
  });
});

describe('the scripted day\'s visits per dossier', () => {
  const figures = (visits: number[]): DossierFigures => ({
    dossiers: visits.length, visits: visits.reduce((a, b) => a + b, 0), visitsAvg: visits.reduce((a, b) => a + b, 0) / visits.length,
    oneVisit: visits.filter((v) => v === 1).length, twoVisits: visits.filter((v) => v === 2).length, threeVisits: visits.filter((v) => v === 3).length,
    fourOrMoreVisits: visits.filter((v) => v >= 4).length, withinTwoVisitsShare: visits.filter((v) => v <= 2).length / visits.length,
  });

  it('counts the dossiers whose first visit is in the range, with all their visits, per procedure', async () => {
    const got = await dossierReport(t.db, { siteId: site.siteId, ...RANGE });
    // HS-001 2, HS-002 1, HS-004 4, HS-005 3, HS-006 1 (HS-003 began before the range)
    expect(got.totals).toEqual({ dossiers: 5, visits: 11, visitsAvg: 2.2, oneVisit: 2, twoVisits: 1, threeVisits: 1, fourOrMoreVisits: 1, withinTwoVisitsShare: 0.6 });
    expect(got.rows.map(({ key, label, ...f }) => [key, label, f])).toEqual([
      ['1.000894', 'Đăng ký kết hôn', figures([1, 3])],
      ['1.001193', 'Đăng ký khai sinh', figures([2, 1, 4])],
      ['', '(không ghi thủ tục)', figures([1])],
    ]);
    expect(got).toEqual(referenceDossiers(await loadHistory(t.db), { siteId: site.siteId, ...RANGE }));
    // the range from 07:00: HS-003 now begins in it (T0 07:50, T4 returned): 2 visits, 2.000815 (T4's) and 1.001193 (T0's)
    const early = await dossierReport(t.db, { siteId: site.siteId, from: local('07:00:00'), to: RANGE.to });
    expect(early.totals.dossiers).toBe(6);
    expect(early.rows.find((r) => r.key === '2.000815')).toMatchObject({ dossiers: 1, visits: 2 });
    // site B's HS-001 is its own dossier
    expect((await dossierReport(t.db, { siteId: siteB.siteId, ...RANGE })).totals).toMatchObject({ dossiers: 1, visits: 1 });
  });
});
