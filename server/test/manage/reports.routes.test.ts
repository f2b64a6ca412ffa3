import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryReport } from '../../src/reports/report.service.ts';
import { TICKETS_CSV_COLUMNS } from '../../src/reports/tickets.export.ts';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { fromExcelDate, libreOfficeCsv, parseCsv, readXlsx, SOFFICE } from './xlsx-reader.ts';

// The report routes: who may read them, what they validate, and that the JSON, CSV and XLSX
// carry exactly the domain's figures (server/test/reports/ proves the domain itself) for a
// morning worked through the API, with figures worked out by hand below.

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // 09:00 in Ho Chi Minh City, a Tuesday
const DAY = { from: '2026-11-24T00:00:00+07:00', to: '2026-11-25T00:00:00+07:00' };
const qs = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;
const codes: Record<string, string> = {};

const get = (url: string, token?: string) => f.app.inject({ method: 'GET', url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}) });
const post = (url: string, token: string, payload: object = {}) => f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
const at = (time: string) => clock.set(`2026-11-24T${time}+07:00`);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
  const issue = async (time: string, service: string, token = f.tokens.kiosk, site = f.siteId) => {
    at(time);
    const res = await post(`/sites/${site}/tickets`, token, { serviceId: service });
    expect(res.statusCode).toBe(201);
    return res.json().ticket as { id: string; code: string };
  };
  await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
  const a1 = await issue('09:00:00', f.services.HT!);
  const a2 = await issue('09:01:00', f.services.HT!);
  const b1 = await issue('09:02:00', f.services.CT!);
  const otherService = await f.t.db.selectFrom('service').select('id').where('siteId', '=', f.otherSiteId).orderBy('position').executeTakeFirstOrThrow();
  await issue('09:03:00', otherService.id, f.tokens.otherKiosk, f.otherSiteId);
  at('09:05:00');
  expect((await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff)).json().ticket.id).toBe(a1.id);
  at('09:06:00');
  await post(`/tickets/${a1.id}/finish`, f.tokens.staff);
  expect((await post(`/tickets/${a1.id}/rating`, f.tokens.rating, { score: 1, reason: 'attitude' })).statusCode).toBe(201);
  at('09:10:00');
  expect((await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff)).json().ticket.id).toBe(a2.id);
  at('09:11:00');
  await post(`/tickets/${a2.id}/no-show`, f.tokens.staff);
  Object.assign(codes, { a1: a1.code, a2: a2.code, b1: b1.code });
}, 60_000);
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

describe('GET /sites/:siteId/reports/summary', () => {
  it('answers the domain\'s figures, which are the hand-worked ones, with service rows naming their site', async () => {
    const res = await get(`/sites/${f.siteId}/reports/summary${qs({ ...DAY, groupBy: 'service' })}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const domain = await summaryReport(f.t.db, { siteId: f.siteId, from: new Date(DAY.from), to: new Date(DAY.to), groupBy: 'service' });
    expect(body.rows.map(({ siteId: _, ...r }: { siteId: string }) => r)).toEqual(domain.rows);
    expect(body.totals).toEqual(domain.totals);
    expect(body.rows.every((r: { siteId: string }) => r.siteId === f.siteId)).toBe(true);
    expect(body).toMatchObject({ groupBy: 'service', from: '2026-11-24T00:00:00.000+07:00', to: '2026-11-25T00:00:00.000+07:00', siteIds: [f.siteId] });

    // issued 09:00, 09:01 (HT) and 09:02 (CT); A001 called 09:05, done 09:06, rated 1; A002 called 09:10, no-show
    const t = body.totals;
    expect(t).toMatchObject({ issued: 3, served: 1, noShow: 1, transferred: 0, cancelled: 0, waits: 2, ratings: 1, ratingAvg: 1, ratingShares: { 1: 1 }, notSatisfiedShare: 1, withinTargetShare: 1 });
    expect(t.waitAvgSeconds).toBeCloseTo(420, 1);
    expect(t.waitP50Seconds).toBeCloseTo(420, 1);
    expect(t.waitP90Seconds).toBeCloseTo(300 + 0.9 * 240, 1);
    expect(t.serviceAvgSeconds).toBeCloseTo(60, 1);
    expect(t.serviceP90Seconds).toBeCloseTo(60, 1);
    expect(body.rows.map((r: { label: string; issued: number }) => [r.label, r.issued])).toEqual([['Tư pháp – Hộ tịch', 2], ['Chứng thực', 1]]);
  });

  it('groups by counter, official, day and hour', async () => {
    for (const groupBy of ['counter', 'staff', 'day', 'hour']) {
      const res = await get(`/sites/${f.siteId}/reports/summary${qs({ ...DAY, groupBy })}`, f.tokens.admin);
      expect(res.statusCode, groupBy).toBe(200);
      const domain = await summaryReport(f.t.db, { siteId: f.siteId, from: new Date(DAY.from), to: new Date(DAY.to), groupBy: groupBy as 'day' });
      expect(res.json().rows.map(({ siteId: _, ...r }: { siteId?: string }) => r), groupBy).toEqual(domain.rows);
    }
    const byHour = (await get(`/sites/${f.siteId}/reports/summary${qs({ ...DAY, groupBy: 'hour' })}`, f.tokens.manager)).json();
    expect(byHour.rows.map((r: { key: string; issued: number }) => [r.key, r.issued])).toEqual([['9', 3]]);
    const byCounter = (await get(`/sites/${f.siteId}/reports/summary${qs({ ...DAY, groupBy: 'counter' })}`, f.tokens.manager)).json();
    expect(byCounter.rows).toHaveLength(1);
    expect(byCounter.rows[0]).toMatchObject({ key: f.counters[1], siteId: f.siteId, issued: 2, served: 1, noShow: 1 });
  });

  it('is for the site\'s managers and administrators only', async () => {
    const url = `/sites/${f.siteId}/reports/summary${qs(DAY)}`;
    expect((await get(url)).statusCode).toBe(401);
    for (const token of [f.tokens.staff, f.tokens.otherStaff, f.tokens.kiosk, f.tokens.display, f.tokens.counterDevice, f.tokens.rating]) {
      expect((await get(url, token)).statusCode).toBe(403);
    }
    expect((await get(`/sites/${f.otherSiteId}/reports/summary${qs(DAY)}`, f.tokens.manager)).statusCode).toBe(403);
    expect((await get(url, f.tokens.manager)).statusCode).toBe(200);
    expect((await get(url, f.tokens.admin)).statusCode).toBe(200);
    const missing = await get(`/sites/00000000-0000-4000-8000-000000000000/reports/summary${qs(DAY)}`, f.tokens.admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('SITE_NOT_FOUND');
  });

  it('validates the range and the grouping (400, never 500)', async () => {
    const cases: [string, string][] = [
      ['', 'VALIDATION_FAILED'],
      [qs({ from: DAY.from }), 'VALIDATION_FAILED'],
      [qs({ from: '2026-11-24', to: '2026-11-25' }), 'VALIDATION_FAILED'],
      [qs({ from: 'yesterday', to: DAY.to }), 'VALIDATION_FAILED'],
      [qs({ from: '2026-13-01T00:00:00+07:00', to: DAY.to }), 'VALIDATION_FAILED'],
      [qs({ ...DAY, groupBy: 'week' }), 'VALIDATION_FAILED'],
      [qs({ ...DAY, siteId: f.siteId }), 'VALIDATION_FAILED'],
      [qs({ from: DAY.to, to: DAY.from }), 'INVALID_RANGE'],
      [qs({ from: DAY.from, to: DAY.from }), 'INVALID_RANGE'],
    ];
    for (const [query, code] of cases) {
      for (const path of [`/sites/${f.siteId}/reports/summary`, '/reports/summary', `/sites/${f.siteId}/reports/tickets.csv`, `/sites/${f.siteId}/reports/summary.xlsx`]) {
        const res = await get(`${path}${query}`, f.tokens.manager);
        expect(res.statusCode, `${path}${query}`).toBe(400);
        expect(res.json().error.code, `${path}${query}`).toBe(code);
      }
    }
    expect((await get(`/sites/not-a-uuid/reports/summary${qs(DAY)}`, f.tokens.admin)).statusCode).toBe(400);
  });
});

describe('GET .../reports/arrivals', () => {
  it('counts tickets per local day and hour, for the site or every site the caller manages', async () => {
    const site = await get(`/sites/${f.siteId}/reports/arrivals${qs(DAY)}`, f.tokens.manager);
    expect(site.statusCode).toBe(200);
    expect(site.json()).toEqual({ cells: [{ day: '2026-11-24', hour: 9, issued: 3 }] });
    expect((await get(`/reports/arrivals${qs(DAY)}`, f.tokens.admin)).json()).toEqual({ cells: [{ day: '2026-11-24', hour: 9, issued: 4 }] });
    expect((await get(`/reports/arrivals${qs(DAY)}`, f.tokens.manager)).json().cells[0].issued).toBe(3);
    expect((await get(`/sites/${f.siteId}/reports/arrivals${qs({ from: DAY.from, to: '2026-11-24T09:01:00+07:00' })}`, f.tokens.manager)).json())
      .toEqual({ cells: [{ day: '2026-11-24', hour: 9, issued: 1 }] });
    expect((await get(`/sites/${f.siteId}/reports/arrivals${qs(DAY)}`, f.tokens.staff)).statusCode).toBe(403);
    expect((await get(`/sites/${f.siteId}/reports/arrivals${qs({ ...DAY, groupBy: 'day' })}`, f.tokens.manager)).statusCode).toBe(400);
  });
});

describe('GET /reports/summary (every site the caller manages)', () => {
  it('covers every site for an administrator and the manager\'s own sites for a manager', async () => {
    const admin = (await get(`/reports/summary${qs(DAY)}`, f.tokens.admin)).json();
    expect(admin.siteIds).toEqual(expect.arrayContaining([f.siteId, f.otherSiteId]));
    expect(admin.totals.issued).toBe(4);
    const sites = new Set(admin.rows.map((r: { siteId: string }) => r.siteId));
    expect(sites).toEqual(new Set([f.siteId, f.otherSiteId]));

    const manager = (await get(`/reports/summary${qs(DAY)}`, f.tokens.manager)).json();
    expect(manager.siteIds).toEqual([f.siteId]);
    expect(manager.totals.issued).toBe(3);

    expect((await get(`/reports/summary${qs(DAY)}`, f.tokens.staff)).statusCode).toBe(403);
    expect((await get(`/reports/summary${qs(DAY)}`, f.tokens.kiosk)).statusCode).toBe(403);
    expect((await get(`/reports/summary${qs(DAY)}`)).statusCode).toBe(401);
  });
});

describe('exports', () => {
  it('tickets.csv: UTF-8 with BOM, a file name, X-Total-Rows, every ticket with its timestamps', async () => {
    const res = await get(`/sites/${f.siteId}/reports/tickets.csv${qs(DAY)}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="phieu-PHUONG-DONG-CAM-2026-11-24.csv"');
    expect(res.headers['x-total-rows']).toBe('3');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const records = parseCsv(res.body.slice(1));
    expect(records[0]).toEqual([...TICKETS_CSV_COLUMNS]);
    const rows = records.slice(1).map((r) => Object.fromEntries(TICKETS_CSV_COLUMNS.map((c, i) => [c, r[i]])));
    expect(rows.map((r) => [r.code, r.status])).toEqual([[codes.a1, 'done'], [codes.a2, 'no_show'], [codes.b1, 'waiting']]);
    expect(rows[0]).toMatchObject({ counter_number: '1', staff_name: 'Cán bộ canbo1', rating: '1', transfers: '0' });
    expect(rows[0]!.issued_at).toMatch(/^2026-11-24T09:00:00\.\d{3}\+07:00$/);
    expect(rows[0]!.finished_at).toMatch(/^2026-11-24T09:06:00\.\d{3}\+07:00$/);
  });

  it('tickets.xlsx: the same tickets, with local date-times a spreadsheet can sort', async () => {
    const res = await get(`/sites/${f.siteId}/reports/tickets.xlsx${qs(DAY)}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe('attachment; filename="phieu-PHUONG-DONG-CAM-2026-11-24.xlsx"');
    expect(res.headers['x-total-rows']).toBe('3');
    const sheet = readXlsx(res.rawPayload).sheets[0]!;
    expect(sheet.name).toBe('Phiếu');
    expect(sheet.rows[0]!.slice(0, 4)).toEqual(['Trung tâm', 'Số phiếu', 'Mã lĩnh vực', 'Lĩnh vực']);
    expect(sheet.rows.slice(1).map((r) => r[1])).toEqual([codes.a1, codes.a2, codes.b1]);
    const [a1] = sheet.rows.slice(1);
    expect(a1![0]).toBe('PHUONG-DONG-CAM');
    expect(fromExcelDate(a1![6] as number)).toMatch(/^2026-11-24 09:00:00\.\d{3}$/);
    expect(a1![11]).toBe(1); // counter number, a number
    expect(a1![14] as number).toBeCloseTo(300, 1); // wait seconds
    expect(a1![17]).toBe(1); // rating
    // words, not codes: status, priority, channel
    expect(sheet.rows[0]!.slice(4, 6)).toEqual(['Ưu tiên', 'Trạng thái']);
    expect(sheet.rows[0]![22]).toBe('Lấy số tại');
    expect(sheet.rows.slice(1).map((r) => [r[4], r[5], r[22]])).toEqual([
      ['Không', 'Đã phục vụ', 'Máy lấy số'], ['Không', 'Vắng mặt', 'Máy lấy số'], ['Không', 'Đang chờ', 'Máy lấy số'],
    ]);
    const english = readXlsx((await get(`/sites/${f.siteId}/reports/tickets.xlsx${qs({ ...DAY, lang: 'en' })}`, f.tokens.manager)).rawPayload);
    expect(english.sheets[0]!.rows[0]!.slice(0, 2)).toEqual(['Site', 'Ticket']);
    expect(english.sheets[0]!.rows.slice(1).map((r) => [r[4], r[5], r[22]])).toEqual([
      ['None', 'Served', 'Kiosk'], ['None', 'No-show', 'Kiosk'], ['None', 'Waiting', 'Kiosk'],
    ]);
  });

  it('tickets.xlsx names a priority by the site\'s own group, and a ticket issued by an official; the CSV keeps the codes', async () => {
    // the next morning, so the day above keeps its three tickets
    const NEXT = { from: '2026-11-25T00:00:00+07:00', to: '2026-11-26T00:00:00+07:00' };
    const now = clock.now();
    try {
      clock.set('2026-11-25T09:00:00+07:00');
      expect((await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT!, priority: 'elderly' })).statusCode).toBe(201);
      clock.set('2026-11-25T09:01:00+07:00');
      const cancelled = await post(`/sites/${f.siteId}/tickets`, f.tokens.staff, { serviceId: f.services.CT!, priority: 'merit' });
      expect(cancelled.statusCode).toBe(201);
      clock.set('2026-11-25T09:02:00+07:00');
      expect((await post(`/tickets/${cancelled.json().ticket.id}/cancel`, f.tokens.staff)).statusCode).toBe(200);
    } finally {
      clock.set(now);
    }
    const groups = await f.t.db.selectFrom('priorityGroup').select(['code', 'name']).where('siteId', '=', f.siteId).where('code', 'in', ['elderly', 'merit']).orderBy('code').execute();
    const [elderly, merit] = groups.map((g) => g.name);
    expect(elderly!.vi).toBe('Người cao tuổi (từ 60 tuổi)');

    const vi = readXlsx((await get(`/sites/${f.siteId}/reports/tickets.xlsx${qs(NEXT)}`, f.tokens.manager)).rawPayload).sheets[0]!;
    expect(vi.rows.slice(1).map((r) => [r[4], r[5], r[22]])).toEqual([[elderly!.vi, 'Đang chờ', 'Máy lấy số'], [merit!.vi, 'Đã huỷ', 'Cán bộ cấp']]);
    const en = readXlsx((await get(`/sites/${f.siteId}/reports/tickets.xlsx${qs({ ...NEXT, lang: 'en' })}`, f.tokens.manager)).rawPayload).sheets[0]!;
    expect(en.rows.slice(1).map((r) => [r[4], r[5], r[22]])).toEqual([[elderly!.en, 'Waiting', 'Kiosk'], [merit!.en, 'Cancelled', 'Staff']]);

    const csv = parseCsv((await get(`/sites/${f.siteId}/reports/tickets.csv${qs(NEXT)}`, f.tokens.manager)).body.slice(1));
    expect(csv[0]!.at(-1)).toBe('channel');
    const col = (name: string) => csv[0]!.indexOf(name);
    expect(csv.slice(1).map((r) => [r[col('priority')], r[col('status')], r[col('channel')]])).toEqual([['elderly', 'waiting', 'kiosk'], ['merit', 'cancelled', 'staff']]);
  });

  it('summary.csv and summary.xlsx: the rows on screen and a totals row', async () => {
    const csv = await get(`/sites/${f.siteId}/reports/summary.csv${qs({ ...DAY, groupBy: 'service' })}`, f.tokens.manager);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="bao-cao-service-PHUONG-DONG-CAM-2026-11-24.csv"');
    const records = parseCsv(csv.body.slice(1));
    const header = records[0]!;
    expect(header.slice(0, 5)).toEqual(['group_by', 'key', 'label', 'issued', 'served']);
    expect(header).toContain('rating_share_1');
    const total = Object.fromEntries(header.map((h, i) => [h, records.at(-1)![i]]));
    expect(total).toMatchObject({ key: 'total', issued: '3', served: '1', noShow: '1', notSatisfiedShare: '1', rating_share_1: '1' });
    expect(Number(total.waitAvgSeconds)).toBeCloseTo(420, 1);

    const xlsx = await get(`/sites/${f.siteId}/reports/summary.xlsx${qs({ ...DAY, groupBy: 'day' })}`, f.tokens.manager);
    expect(xlsx.statusCode).toBe(200);
    const sheet = readXlsx(xlsx.rawPayload).sheets[0]!;
    expect(sheet.rows[0]!.slice(0, 3)).toEqual(['Ngày', 'Số phiếu', 'Đã phục vụ']);
    expect(sheet.rows[0]).toContain('Không hài lòng (1)');
    expect(fromExcelDate(sheet.rows[1]![0] as number)).toBe('2026-11-24 00:00:00.000');
    expect(sheet.rows.at(-1)!.slice(0, 3)).toEqual(['Tổng cộng', 3, 1]);
    const waitAvgMinutes = sheet.rows.at(-1)![sheet.rows[0]!.indexOf('Chờ TB (phút)')] as number;
    expect(waitAvgMinutes).toBeCloseTo(7, 3);
  });

  it('every site the caller manages: an administrator gets both sites\' tickets, a manager only theirs', async () => {
    const admin = await get(`/reports/tickets.csv${qs(DAY)}`, f.tokens.admin);
    expect(admin.headers['x-total-rows']).toBe('4');
    expect(admin.headers['content-disposition']).toBe('attachment; filename="phieu-tat-ca-2026-11-24.csv"');
    expect(parseCsv(admin.body.slice(1))).toHaveLength(5);
    const manager = await get(`/reports/tickets.xlsx${qs(DAY)}`, f.tokens.manager);
    expect(manager.headers['x-total-rows']).toBe('3');
    expect(readXlsx(manager.rawPayload).sheets[0]!.rows).toHaveLength(4);
    const summary = readXlsx((await get(`/reports/summary.xlsx${qs(DAY)}`, f.tokens.admin)).rawPayload).sheets[0]!;
    expect(summary.rows[0]!.slice(0, 2)).toEqual(['Lĩnh vực', 'Trung tâm']);
    expect((await get(`/reports/tickets.csv${qs(DAY)}`, f.tokens.staff)).statusCode).toBe(403);
    expect((await get(`/sites/${f.otherSiteId}/reports/tickets.xlsx${qs(DAY)}`, f.tokens.manager)).statusCode).toBe(403);
  });

  it('stamps a workbook\'s files with the server\'s clock, so one report is the same bytes whenever it is written', async () => {
    // every local file header of the zip: its DOS date and time (the process's zone, 2-second steps)
    const stamps = (zip: Buffer) => {
      const found: string[] = [];
      for (let at = zip.indexOf('PK\x03\x04', 0, 'latin1'); at >= 0; at = zip.indexOf('PK\x03\x04', at + 4, 'latin1')) {
        const time = zip.readUInt16LE(at + 10);
        const date = zip.readUInt16LE(at + 12);
        found.push(`${1980 + (date >> 9)}-${(date >> 5) & 15}-${date & 31} ${time >> 11}:${(time >> 5) & 63}:${(time & 31) * 2}`);
      }
      return found;
    };
    const now = clock.now();
    const expected = `${now.getFullYear()}-${now.getMonth() + 1}-${now.getDate()} ${now.getHours()}:${now.getMinutes()}:${now.getSeconds() - (now.getSeconds() % 2)}`;
    for (const url of [`/sites/${f.siteId}/reports/tickets.xlsx${qs(DAY)}`, `/reports/summary.xlsx${qs(DAY)}`, `/reports/audit.xlsx${qs(DAY)}`]) {
      const res = await get(url, f.tokens.admin);
      expect(res.statusCode, url).toBe(200);
      const found = stamps(res.rawPayload);
      expect(found.length, url).toBeGreaterThan(3);
      expect(new Set(found), url).toEqual(new Set([expected]));
    }
  });

  it('streams over HTTP (chunked, no Content-Length) and the XLSX opens', async () => {
    const res = await fetch(`${base}/api/v1/sites/${f.siteId}/reports/tickets.xlsx${qs(DAY)}`, { headers: bearer(f.tokens.manager) });
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const file = Buffer.from(await res.arrayBuffer());
    expect(readXlsx(file).sheets[0]!.rows).toHaveLength(4);
    if (SOFFICE) {
      const rows = parseCsv(libreOfficeCsv(file));
      expect(rows.slice(1).map((r) => r[1])).toEqual([codes.a1, codes.a2, codes.b1]);
      expect(rows[1]![6]).toBe('24/11/2026 09:00:00');
    }
  }, 180_000);

  it('is in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    for (const path of ['/api/v1/sites/{siteId}/reports/summary', '/api/v1/reports/summary', '/api/v1/sites/{siteId}/reports/tickets.csv',
      '/api/v1/sites/{siteId}/reports/tickets.xlsx', '/api/v1/sites/{siteId}/reports/summary.xlsx', '/api/v1/reports/tickets.xlsx']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
