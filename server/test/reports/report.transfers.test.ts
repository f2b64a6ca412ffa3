import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { summaryReport, type ReportRow, type ReportTotals, type SummaryQuery } from '../../src/reports/report.service.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures, NOTHING } from './expect-figures.ts';
import { loadHistory, referenceReport } from './report.reference.ts';
import { streamTicketsCsv, TICKETS_CSV_COLUMNS } from '../../src/reports/tickets.export.ts';
import { ticketsXlsx } from '../../src/reports/report.exports.ts';
import { parseCsv, readXlsx } from '../manage/xlsx-reader.ts';

// Transfers counted where each stint happened (issue 15, item 7): a scripted morning driven
// through the real queue engine, every figure of every grouping worked out by hand below.
//
// Services HT "Tư pháp" (prefix A, target 300 s), CT "Chứng thực" (B, 600 s), DD "Đất đai"
// (C, 900 s); counters 1 [HT], 2 [HT, CT], 3 [CT], 4 [DD]; Cán bộ n works counter n all day.
//
//        stints: service / counter, wait (from → call)                         end              est.  rating
// A001   HT/1 300 (08:00 → 08:05), transfer 08:10; CT/3 240 (→ 08:14)         done 08:20 (360)  240   3
// A002   HT/2 300 (08:02 → 08:07), transfer 08:09; CT/3 720 (→ 08:21),
//        transfer 08:23; DD/4 420 (→ 08:30)                                   done 08:40 (600)  300   2
// B001   CT/2 60 (08:15 → 08:16), transfer 08:17; HT/1 960 (→ 08:33)          no-show 08:35     120   -
// A003   HT/1 120 (08:20 → 08:22)                                             done 08:32 (600)  60    1
// C001   DD, never called                                                     cancelled 08:35   -     -
// B002   CT/3 60 (08:40 → 08:41), transfer 08:42; DD, never called            waiting           30    -
//
// Estimate errors (first stints): A001 60, A002 0, B001 60, A003 60, B002 30.

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;
const ids: Record<string, string> = {};

const DAY = '2026-11-24';
const local = (time: string) => new Date(`${DAY}T${time}+07:00`);
const RANGE = { from: local('00:00:00'), to: local('23:59:59') };

async function when<T>(time: string, work: () => Promise<T>): Promise<T> {
  clock.set(local(time));
  return work();
}

/** issue reads the clock twice and stamps the second read: start 1 ms early */
async function issue(name: string, time: string, serviceCode: string) {
  clock.set(new Date(local(time).getTime() - 1));
  const { value } = await queue.issue({ siteId: site.siteId, serviceId: site.service[serviceCode]! });
  expect(value.code).toBe(name);
  ids[name] = value.id;
}

const ticket = (name: string) => ({ ticketId: ids[name]! });
const call = (name: string, n: number) => queue.callTicket({ ...at(site, n), ...ticket(name) });
const transfer = (name: string, n: number, to: string) => queue.transfer({ ...at(site, n), ...ticket(name), serviceId: site.service[to]! });

beforeAll(async () => {
  t = await createTestDatabase();
  clock = new TestClock(local('07:00:00'));
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
  const names: Record<string, [string, number]> = { HT: ['Tư pháp', 300], CT: ['Chứng thực', 600], DD: ['Đất đai', 900] };
  for (const [code, [vi, target]] of Object.entries(names)) {
    await t.db.updateTable('service').set({ name: JSON.stringify({ vi, en: code }), targetWaitSeconds: target })
      .where('id', '=', site.service[code]!).execute();
  }
  await when('07:00:00', async () => {
    for (const n of [1, 2, 3, 4]) await openCounter(queue, site, n);
  });

  await issue('A001', '08:00:00', 'HT');
  await issue('A002', '08:02:00', 'HT');
  await when('08:05:00', () => call('A001', 1));
  await when('08:06:00', () => queue.start({ ...at(site, 1), ...ticket('A001') }));
  await when('08:07:00', () => call('A002', 2));
  await when('08:09:00', () => transfer('A002', 2, 'CT'));
  await when('08:10:00', () => transfer('A001', 1, 'CT'));
  await when('08:14:00', () => call('A001', 3));
  await issue('B001', '08:15:00', 'CT');
  await when('08:16:00', () => call('B001', 2));
  await when('08:17:00', () => transfer('B001', 2, 'HT'));
  await when('08:20:00', () => queue.finish({ ...at(site, 3), ...ticket('A001') }));
  await issue('A003', '08:20:00', 'HT');
  await when('08:21:00', () => call('A002', 3));
  await when('08:22:00', () => call('A003', 1));
  await when('08:23:00', () => transfer('A002', 3, 'DD'));
  await issue('C001', '08:30:00', 'DD');
  await when('08:30:00', () => call('A002', 4));
  await when('08:32:00', () => queue.finish({ ...at(site, 1), ...ticket('A003') }));
  await when('08:33:00', () => call('B001', 1));
  await when('08:35:00', () => queue.noShow({ ...at(site, 1), ...ticket('B001') }));
  await when('08:35:00', () => queue.cancel({ siteId: site.siteId, ...ticket('C001') }));
  await when('08:40:00', () => queue.finish({ ...at(site, 4), ...ticket('A002') }));
  await issue('B002', '08:40:00', 'CT');
  await when('08:41:00', () => call('B002', 3));
  await when('08:42:00', () => transfer('B002', 3, 'DD'));

  const estimates: Record<string, number | null> = { A001: 240, A002: 300, B001: 120, A003: 60, C001: null, B002: 30 };
  for (const [name, estimate] of Object.entries(estimates)) {
    await t.db.updateTable('ticket').set({ estimatedWaitSeconds: estimate }).where('id', '=', ids[name]!).execute();
  }
  // each rating tied to the counter and official who finished the ticket, as the tablet does
  for (const [name, score, n] of [['A001', 3, 3], ['A002', 2, 4], ['A003', 1, 1]] as const) {
    await t.db.insertInto('rating').values({ ticketId: ids[name]!, siteId: site.siteId, counterId: site.counter[n]!, staffId: site.staff[n - 1]!, score }).execute();
  }
}, 60_000);
afterAll(() => t?.drop());

const report = (groupBy: SummaryQuery['groupBy']) => summaryReport(t.db, { siteId: site.siteId, groupBy, ...RANGE });

function row(rows: ReportRow[], key: string): ReportRow {
  const found = rows.find((r) => r.key === key);
  expect(found, `row ${key}`).toBeDefined();
  return found!;
}

// ---- expected figures, by hand from the table above ----------------------------------------

// waits 300 240 | 300 720 420 | 60 960 | 120 | 60: sum 3180; sorted 60 60 120 240 300 300 420 720 960:
//   p50 = [4] = 300, p90 = [7.2] = 720 + 0.2·240 = 768
// within target: all but A002's CT stint (720 > 600) and B001's HT stint (960 > 300): 7 of 9
// service (done): 360 600 600, p90 = [1.8] = 600; estimate errors sorted 0 30 60 60 60: median 60
const TOTALS: ReportTotals = {
  issued: 6, served: 3, noShow: 1, cancelled: 1, expired: 0, transferred: 5, transfersIn: 5,
  waits: 9, waitAvgSeconds: 3180 / 9, waitP50Seconds: 300, waitP90Seconds: 768, withinTargetShare: 7 / 9,
  serviceAvgSeconds: 520, serviceP90Seconds: 600,
  ratings: 3, ratingAvg: 2, ratingShares: { 1: 1 / 3, 2: 1 / 3, 3: 1 / 3 }, notSatisfiedShare: 1 / 3,
  estimateMaeSeconds: 60,
};

// Counter n and Cán bộ n have the same figures (nobody changed desks).
const BY_COUNTER: Record<number, ReportTotals> = {
  // stints A001 HT 300 (first, out), B001 HT 960 (in, no-show), A003 HT 120 (first, done 600, rating 1)
  //   sorted 120 300 960: p90 = [1.8] = 300 + 0.8·660 = 828; within 2 of 3; estimates A001 60, A003 60
  1: {
    issued: 2, served: 1, noShow: 1, cancelled: 0, expired: 0, transferred: 1, transfersIn: 1,
    waits: 3, waitAvgSeconds: 460, waitP50Seconds: 300, waitP90Seconds: 828, withinTargetShare: 2 / 3,
    serviceAvgSeconds: 600, serviceP90Seconds: 600,
    ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 60,
  },
  // stints A002 HT 300 (first, out), B001 CT 60 (first, out): p90 = [0.9] = 60 + 0.9·240 = 276; estimates 0, 60
  2: {
    ...NOTHING, issued: 2, transferred: 2,
    waits: 2, waitAvgSeconds: 180, waitP50Seconds: 180, waitP90Seconds: 276, withinTargetShare: 1, estimateMaeSeconds: 30,
  },
  // stints A001 CT 240 (in, done 360, rating 3), A002 CT 720 (in, out), B002 CT 60 (first, out)
  //   sorted 60 240 720: p90 = [1.8] = 240 + 0.8·480 = 624; within 2 of 3; estimate B002 30
  3: {
    issued: 1, served: 1, noShow: 0, cancelled: 0, expired: 0, transferred: 2, transfersIn: 2,
    waits: 3, waitAvgSeconds: 340, waitP50Seconds: 240, waitP90Seconds: 624, withinTargetShare: 2 / 3,
    serviceAvgSeconds: 360, serviceP90Seconds: 360,
    ratings: 1, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 30,
  },
  // stint A002 DD 420 (in, done 600, rating 2)
  4: {
    ...NOTHING, served: 1, transfersIn: 1,
    waits: 1, waitAvgSeconds: 420, waitP50Seconds: 420, waitP90Seconds: 420, withinTargetShare: 1,
    serviceAvgSeconds: 600, serviceP90Seconds: 600, ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0,
  },
};

describe('a transferred ticket counts each stint where it happened', () => {
  it('stored the scripted history', async () => {
    const rows = await t.db.selectFrom('ticket').select(['code', 'status', 'serviceId', 'transferCount']).where('siteId', '=', site.siteId).orderBy('issuedAt').execute();
    expect(rows.map((r) => [r.code, r.status, r.transferCount])).toEqual([
      ['A001', 'done', 1], ['A002', 'done', 2], ['B001', 'no_show', 1], ['A003', 'done', 0], ['C001', 'cancelled', 0], ['B002', 'waiting', 1],
    ]);
  });

  it('totals: every transfer once, out and in', async () => {
    for (const groupBy of ['service', 'counter', 'staff', 'day', 'hour'] as const) {
      expectFigures((await report(groupBy)).totals, TOTALS, groupBy);
    }
  });

  it('by service: issued where issued, waits and transfers out where waited, outcome where it ended', async () => {
    const { rows } = await report('service');
    expect(rows.map((r) => [r.key, r.label])).toEqual([[site.service.HT, 'Tư pháp'], [site.service.CT, 'Chứng thực'], [site.service.DD, 'Đất đai']]);
    // the symptom of issue 15: A001 and A002 left Tư pháp, and Tư pháp showed no transfer
    expect(rows.map((r) => [r.label, r.transferred, r.transfersIn])).toEqual([['Tư pháp', 2, 1], ['Chứng thực', 3, 2], ['Đất đai', 0, 2]]);
    // HT: issued A001 A002 A003; out A001 A002; in B001 (no-show here); stints 300 300 960 120
    //   sorted 120 300 300 960: p50 = [1.5] = 300, p90 = [2.7] = 300 + 0.7·660 = 762; within 3 of 4
    //   estimates of first stints in HT: A001 60, A002 0, A003 60 -> 60
    expectFigures(row(rows, site.service.HT!), {
      issued: 3, served: 1, noShow: 1, cancelled: 0, expired: 0, transferred: 2, transfersIn: 1,
      waits: 4, waitAvgSeconds: 420, waitP50Seconds: 300, waitP90Seconds: 762, withinTargetShare: 0.75,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, estimateMaeSeconds: 60,
    }, 'Tư pháp');
    // CT: issued B001 B002; in A001 (served here, rating 3) A002; out A002 B001 B002; stints 240 720 60 60
    //   sorted 60 60 240 720: p50 = [1.5] = 150, p90 = [2.7] = 240 + 0.7·480 = 576; within 3 of 4
    //   estimates B001 60, B002 30 -> 45
    expectFigures(row(rows, site.service.CT!), {
      issued: 2, served: 1, noShow: 0, cancelled: 0, expired: 0, transferred: 3, transfersIn: 2,
      waits: 4, waitAvgSeconds: 270, waitP50Seconds: 150, waitP90Seconds: 576, withinTargetShare: 0.75,
      serviceAvgSeconds: 360, serviceP90Seconds: 360,
      ratings: 1, ratingAvg: 3, ratingShares: { 3: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: 45,
    }, 'Chứng thực');
    // DD: issued C001 (cancelled); in A002 (served, 420) and B002 (waiting)
    expectFigures(row(rows, site.service.DD!), {
      issued: 1, served: 1, noShow: 0, cancelled: 1, expired: 0, transferred: 0, transfersIn: 2,
      waits: 1, waitAvgSeconds: 420, waitP50Seconds: 420, waitP90Seconds: 420, withinTargetShare: 1,
      serviceAvgSeconds: 600, serviceP90Seconds: 600,
      ratings: 1, ratingAvg: 2, ratingShares: { 2: 1 }, notSatisfiedShare: 0, estimateMaeSeconds: null,
    }, 'Đất đai');
    // every ticket is issued once, every transfer leaves one row and enters one
    expect(rows.reduce((n, r) => n + r.issued, 0)).toBe(TOTALS.issued);
    expect(rows.reduce((n, r) => n + r.transferred, 0)).toBe(TOTALS.transferred);
    expect(rows.reduce((n, r) => n + r.transfersIn, 0)).toBe(TOTALS.transfersIn);
  });

  it('by counter: each stint at the counter that called it; stints never called only in the totals', async () => {
    const { rows } = await report('counter');
    expect(rows.map((r) => [r.key, r.label])).toEqual([1, 2, 3, 4].map((n) => [site.counter[n], `Quầy ${n}`]));
    for (const n of [1, 2, 3, 4]) expectFigures(row(rows, site.counter[n]!), BY_COUNTER[n]!, `Quầy ${n}`);
  });

  it('by staff: each stint with the official who called it', async () => {
    const { rows } = await report('staff');
    expect(rows.map((r) => [r.key, r.label])).toEqual([1, 2, 3, 4].map((n) => [site.staff[n - 1], `Cán bộ ${n}`]));
    for (const n of [1, 2, 3, 4]) expectFigures(row(rows, site.staff[n - 1]!), BY_COUNTER[n]!, `Cán bộ ${n}`);
  });

  it('by day and hour: everything on the day and hour of issue', async () => {
    const day = await report('day');
    expect(day.rows.map((r) => r.key)).toEqual([DAY]);
    expectFigures(day.rows[0]!, TOTALS, DAY);
    const hour = await report('hour');
    expect(hour.rows.map((r) => r.key)).toEqual(['8']);
    expectFigures(hour.rows[0]!, TOTALS, '8h');
  });

  it('agrees with the reference', async () => {
    const history = await loadHistory(t.db);
    for (const groupBy of ['service', 'counter', 'staff', 'day', 'hour'] as const) {
      const want = referenceReport(history, { siteId: site.siteId, groupBy, ...RANGE });
      const got = await report(groupBy);
      expect(got.rows.map((r) => r.key), groupBy).toEqual(want.rows.map((r) => r.key));
      want.rows.forEach((w, i) => expectFigures(got.rows[i]!, w, `${groupBy} ${w.label}`));
      expectFigures(got.totals, want.totals, `${groupBy} totals`);
    }
  });
});

describe('the per-ticket export: one record per ticket, its first stint and every stint added', () => {
  async function csvRecords(): Promise<Record<string, string>[]> {
    let text = '';
    for await (const line of streamTicketsCsv(t.db, { siteId: site.siteId, ...RANGE })) text += line;
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual([...TICKETS_CSV_COLUMNS]);
    return records.map((r) => Object.fromEntries(TICKETS_CSV_COLUMNS.map((c, i) => [c, r[i]!])));
  }

  it('CSV: the final stint where it was (as before), the first one and the route in the added columns', async () => {
    const records = await csvRecords();
    expect(records.map((r) => r.code)).toEqual(['A001', 'A002', 'B001', 'A003', 'C001', 'B002']);
    const [a001, a002, b001, a003, c001, b002] = records;
    expect(a001).toMatchObject({
      service_code: 'CT', counter_number: '3', staff_name: 'Cán bộ 3', transfers: '1', wait_seconds: '300', service_seconds: '360',
      first_service_code: 'HT', first_counter_number: '1', first_staff_name: 'Cán bộ 1', stints: 'HT:1:300;CT:3:240',
    });
    expect(a002).toMatchObject({
      service_code: 'DD', counter_number: '4', transfers: '2', service_seconds: '600',
      first_service_code: 'HT', first_counter_number: '2', first_staff_name: 'Cán bộ 2', stints: 'HT:2:300;CT:3:720;DD:4:420',
    });
    expect(b001).toMatchObject({
      status: 'no_show', service_code: 'HT', counter_number: '1', first_service_code: 'CT', first_counter_number: '2', stints: 'CT:2:60;HT:1:960',
    });
    expect(a003).toMatchObject({ first_service_code: 'HT', first_counter_number: '1', first_staff_name: 'Cán bộ 1', stints: 'HT:1:120' });
    expect(c001).toMatchObject({ status: 'cancelled', first_service_code: 'DD', first_counter_number: '', first_staff_name: '', stints: 'DD::' });
    // waiting in DD after its transfer: counter_number keeps its meaning (the final call, at counter 3)
    expect(b002).toMatchObject({ status: 'waiting', service_code: 'DD', counter_number: '3', first_counter_number: '3', stints: 'CT:3:60;DD::' });
  });

  it('XLSX: the same columns, headed for people', async () => {
    const parts: Buffer[] = [];
    for await (const part of ticketsXlsx(t.db, { siteId: site.siteId, ...RANGE }, 'vi', new Date())) parts.push(part);
    const sheet = readXlsx(Buffer.concat(parts)).sheets[0]!;
    expect(sheet.rows[0]!.slice(-5, -1)).toEqual(['Lĩnh vực lấy số', 'Quầy gọi đầu tiên', 'Cán bộ gọi đầu tiên', 'Các lượt chờ (lĩnh vực:quầy:giây)']);
    expect(sheet.rows[1]!.slice(-5, -1)).toEqual(['HT', 1, 'Cán bộ 1', 'HT:1:300;CT:3:240']);
  });
});

describe("the day's end (runs last: it ends B002)", () => {
  it('counts the expired ticket apart from no-shows, where it waited, and its called stints still count their waits', async () => {
    clock.set('2026-11-24T17:00:05Z'); // 00:00:05 the next local day
    expect((await queue.endDays()).value.map((x) => [x.code, x.status])).toEqual([['B002', 'expired']]);
    const { rows, totals } = await report('service');
    expectFigures(totals, { ...TOTALS, expired: 1 }, 'totals');
    // B002 ended in DD, where it waited after its transfer: its CT stint (60 s, called) still counts there
    expect(rows.map((r) => [r.label, r.expired, r.noShow, r.waits])).toEqual([['Tư pháp', 0, 1, 4], ['Chứng thực', 0, 0, 4], ['Đất đai', 1, 0, 1]]);
    const [day] = (await report('day')).rows;
    expect(day).toMatchObject({ key: DAY, expired: 1, noShow: 1 });
    // the per-ticket export names its status as it is
    let csv = '';
    for await (const line of streamTicketsCsv(t.db, { siteId: site.siteId, ...RANGE })) csv += line;
    expect(parseCsv(csv).find((r) => r.includes('B002'))).toContain('expired');
  });
});
