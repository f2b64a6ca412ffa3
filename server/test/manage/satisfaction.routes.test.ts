import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dossierReport } from '../../src/reports/dossiers.ts';
import { summaryReport } from '../../src/reports/report.service.ts';
import { satisfactionReport } from '../../src/reports/satisfaction.ts';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { parseCsv, readXlsx } from './xlsx-reader.ts';

// The satisfaction, dossier and procedure reports over HTTP: who may read them, what they refuse
// (400 with a code, never 500), that the JSON is the domain's (server/test/reports/ proves the
// domain), and that the month's and quarter's export holds exactly the raw ratings of the local
// month (a ticket at 00:00:30 on 1 November in Hà Nội is still October in UTC, and counts in
// November; one at 00:00:30 on 1 December is November in UTC, and does not).

let f: ApiFixture;
const clock = new TestClock('2026-10-31T16:00:00Z');
const at = (local: string) => clock.set(`${local}+07:00`);
const NOVEMBER = { from: '2026-11-01T00:00:00+07:00', to: '2026-12-01T00:00:00+07:00' };
const qs = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;
const get = (url: string, token?: string) => f.app.inject({ method: 'GET', url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}) });
const send = (method: 'POST' | 'PATCH', url: string, token: string, payload: object = {}) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), payload });
const ids: Record<string, string> = {};

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  // open at all hours, so tickets can be issued around midnight
  await f.t.db.deleteFrom('openingHours').execute();
  const serve = async (name: string, local: string, score: number | null, token = f.tokens.staff) => {
    at(local);
    const issued = await send('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    expect(issued.statusCode, name).toBe(201);
    const id = issued.json().ticket.id as string;
    ids[name] = id;
    clock.advance(60);
    expect((await send('POST', `/counters/${f.counters[1]}/call-next`, token)).json().ticket.id, name).toBe(id);
    clock.advance(120);
    expect((await send('POST', `/tickets/${id}/finish`, token)).statusCode, name).toBe(200);
    if (score !== null) {
      clock.advance(10);
      expect((await send('POST', `/tickets/${id}/rating`, f.tokens.rating, { score, ...(score === 1 ? { reason: 'attitude' } : {}) })).statusCode, name).toBe(201);
    }
  };
  at('2026-10-31T23:00:00');
  await send('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
  await serve('oct', '2026-10-31T23:55:00', 1);
  await serve('nov1', '2026-11-01T00:00:30', 3);
  await serve('nov2', '2026-11-10T09:00:00', 2);
  await serve('nov3', '2026-11-10T09:10:00', 1);
  await serve('nov4', '2026-11-10T09:20:00', null);
  // canbo2 takes counter 1
  at('2026-11-10T10:00:00');
  await send('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff);
  await send('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff2);
  await serve('nov5', '2026-11-10T10:05:00', 3, f.tokens.staff2);
  await serve('nov6', '2026-11-30T23:50:00', 3, f.tokens.staff2);
  await serve('dec', '2026-12-01T00:00:30', 2, f.tokens.staff2);

  // criticisms on counter 1's tablet: one resolved after 2 hours, one new
  at('2026-11-10T10:30:00');
  const c1 = (await send('POST', '/alerts/criticism', f.tokens.rating, { comment: 'Chờ lâu' })).json().alert.id as string;
  at('2026-11-10T11:00:00');
  expect((await send('PATCH', `/alerts/${c1}/case`, f.tokens.manager, { status: 'investigating' })).statusCode).toBe(200);
  at('2026-11-10T12:30:00');
  expect((await send('PATCH', `/alerts/${c1}/case`, f.tokens.manager, { status: 'resolved', note: 'Đã xin lỗi công dân' })).statusCode).toBe(200);
  at('2026-11-12T08:00:00');
  await send('POST', '/alerts/criticism', f.tokens.rating, {});

  // procedures and dossiers, as the kiosk and the counter will record them
  const procedure = (ticket: string, code: string, vi: string) => f.t.db.insertInto('ticketProcedure').values({
    ticketId: ids[ticket]!, siteId: f.siteId, procedureCode: code, procedureName: JSON.stringify({ vi, en: vi }), serviceId: f.services.HT!,
    source: 'kiosk', addedAt: new Date('2026-11-10T02:00:00Z'), addedBy: null,
  }).execute();
  await procedure('nov2', '1.001193', 'Đăng ký khai sinh');
  await procedure('nov2', '1.000894', 'Đăng ký kết hôn');
  await procedure('nov3', '1.001193', 'Đăng ký khai sinh');
  const dossier = (ticket: string, code: string, direction: 'received' | 'returned') => f.t.db.insertInto('ticketDossier').values({
    ticketId: ids[ticket]!, siteId: f.siteId, dossierCode: code, direction, recordedAt: new Date('2026-11-10T02:00:00Z'), recordedBy: null,
  }).execute();
  await dossier('nov2', 'HS-0001', 'received');
  await dossier('nov5', 'HS-0001', 'returned');
  await dossier('nov3', 'HS-0002', 'received');
}, 60_000);
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

/** Ratings of the site's tickets issued in [from, to), straight from the rows: official → score → count. */
async function rawRatings(from: string, to: string) {
  const rows = await f.t.db.selectFrom('rating').innerJoin('ticket', 'ticket.id', 'rating.ticketId').innerJoin('appUser', 'appUser.id', 'rating.staffId')
    .select(['appUser.displayName', 'rating.score']).where('ticket.siteId', '=', f.siteId)
    .where('ticket.issuedAt', '>=', new Date(from)).where('ticket.issuedAt', '<', new Date(to)).execute();
  const out = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const m = out.get(r.displayName) ?? new Map<number, number>();
    m.set(r.score, (m.get(r.score) ?? 0) + 1);
    out.set(r.displayName, m);
  }
  return { rows, byOfficial: out };
}

describe('GET /sites/:siteId/reports/satisfaction and /dossiers', () => {
  it('answer the domain\'s figures, for every grouping', async () => {
    for (const groupBy of ['staff', 'counter', 'service', 'procedure', 'site'] as const) {
      const res = await get(`/sites/${f.siteId}/reports/satisfaction${qs({ ...NOVEMBER, groupBy })}`, f.tokens.manager);
      expect(res.statusCode, groupBy).toBe(200);
      const domain = await satisfactionReport(f.t.db, { siteId: f.siteId, from: new Date(NOVEMBER.from), to: new Date(NOVEMBER.to), groupBy });
      expect(res.json(), groupBy).toEqual({ ...domain, from: '2026-11-01T00:00:00.000+07:00', to: '2026-12-01T00:00:00.000+07:00', groupBy });
    }
    const staff = (await get(`/sites/${f.siteId}/reports/satisfaction${qs(NOVEMBER)}`, f.tokens.admin)).json();
    expect(staff.groupBy).toBe('staff');
    // nov1 3, nov2 2, nov3 1 by canbo1; nov5 3, nov6 3 by canbo2
    expect(staff.totals).toMatchObject({ ratings: 5, satisfied: 4, satisfiedShare: 0.8, ratingAvg: 12 / 5, criticisms: 2, criticismsNew: 1, criticismsResolved: 1, resolutionsTimed: 1 });
    expect(staff.totals.resolutionP50Seconds).toBeCloseTo(7200, 1); // the clock moves a millisecond a read
    expect(staff.totals.levels).toEqual([{ score: 3, count: 3, share: 0.6 }, { score: 2, count: 1, share: 0.2 }, { score: 1, count: 1, share: 0.2 }]);
    expect(staff.rows.map((r: { label: string; ratings: number; criticisms: number }) => [r.label, r.ratings, r.criticisms]))
      .toEqual([['Cán bộ canbo1', 3, 0], ['Cán bộ canbo2', 2, 2]]);

    const dossiers = await get(`/sites/${f.siteId}/reports/dossiers${qs(NOVEMBER)}`, f.tokens.manager);
    expect(dossiers.statusCode).toBe(200);
    expect(dossiers.json()).toEqual({ ...(await dossierReport(f.t.db, { siteId: f.siteId, from: new Date(NOVEMBER.from), to: new Date(NOVEMBER.to) })), from: '2026-11-01T00:00:00.000+07:00', to: '2026-12-01T00:00:00.000+07:00' });
    expect(dossiers.json().totals).toMatchObject({ dossiers: 2, visits: 3, oneVisit: 1, twoVisits: 1, withinTwoVisitsShare: 1 });

    const byProcedure = await get(`/sites/${f.siteId}/reports/summary${qs({ ...NOVEMBER, groupBy: 'procedure' })}`, f.tokens.manager);
    expect(byProcedure.statusCode).toBe(200);
    expect(byProcedure.json().rows.map((r: { key: string; label: string; issued: number }) => [r.key, r.label, r.issued]))
      .toEqual([['1.000894', 'Đăng ký kết hôn', 1], ['1.001193', 'Đăng ký khai sinh', 2], ['', '(không ghi thủ tục)', 4]]);
    const domain = await summaryReport(f.t.db, { siteId: f.siteId, from: new Date(NOVEMBER.from), to: new Date(NOVEMBER.to), groupBy: 'procedure' });
    expect(byProcedure.json().totals).toEqual(domain.totals);
    expect(domain.totals.issued).toBe(6);
    // the summary's files by procedure: the code in the CSV, code and name in the XLSX
    const csv = parseCsv((await get(`/sites/${f.siteId}/reports/summary.csv${qs({ ...NOVEMBER, groupBy: 'procedure' })}`, f.tokens.manager)).body.replace(/^\uFEFF/, ''));
    expect(csv.slice(1).map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
      ['procedure', '1.000894', 'Đăng ký kết hôn', '1'], ['procedure', '1.001193', 'Đăng ký khai sinh', '2'], ['procedure', '', '(không ghi thủ tục)', '4'], ['procedure', 'total', '', '6'],
    ]);
    const xlsx = readXlsx((await get(`/sites/${f.siteId}/reports/summary.xlsx${qs({ ...NOVEMBER, groupBy: 'procedure' })}`, f.tokens.manager)).rawPayload).sheets[0]!;
    expect(xlsx.rows.map((r) => [r[0], r[1]])).toEqual([
      ['Thủ tục', 'Số phiếu'], ['1.000894 – Đăng ký kết hôn', 1], ['1.001193 – Đăng ký khai sinh', 2], ['(không ghi thủ tục)', 4], ['Tổng cộng', 6],
    ]);
  });

  it('are for managers of the site and admins', async () => {
    for (const path of ['satisfaction', 'dossiers', 'satisfaction.xlsx', 'satisfaction.csv']) {
      const query = path.includes('.') ? qs({ period: 'month', year: '2026', month: '11' }) : qs(NOVEMBER);
      expect((await get(`/sites/${f.siteId}/reports/${path}${query}`)).statusCode, path).toBe(401);
      for (const token of [f.tokens.staff, f.tokens.kiosk, f.tokens.rating]) expect((await get(`/sites/${f.siteId}/reports/${path}${query}`, token)).statusCode, path).toBe(403);
      expect((await get(`/sites/${f.otherSiteId}/reports/${path}${query}`, f.tokens.manager)).statusCode, path).toBe(403);
      expect((await get(`/sites/${f.otherSiteId}/reports/${path}${query}`, f.tokens.admin)).statusCode, path).toBe(200);
    }
    expect((await get(`/sites/00000000-0000-4000-8000-000000000000/reports/satisfaction${qs(NOVEMBER)}`, f.tokens.admin)).statusCode).toBe(404);
  });

  it('refuse a bad query with 400 and a code, never a 500', async () => {
    const cases: [string, string][] = [
      [`satisfaction${qs({ ...NOVEMBER, groupBy: 'day' })}`, 'VALIDATION_FAILED'],
      [`satisfaction${qs({ from: NOVEMBER.to, to: NOVEMBER.from })}`, 'INVALID_RANGE'],
      [`satisfaction${qs({ from: 'yesterday', to: NOVEMBER.to })}`, 'VALIDATION_FAILED'],
      [`satisfaction${qs({ ...NOVEMBER, extra: '1' })}`, 'VALIDATION_FAILED'],
      [`dossiers${qs({ from: NOVEMBER.from })}`, 'VALIDATION_FAILED'],
      [`dossiers${qs({ from: '1900-01-01T00:00:00Z', to: NOVEMBER.to })}`, 'INVALID_RANGE'],
      [`satisfaction.xlsx${qs({ period: 'month', year: '2026' })}`, 'INVALID_PERIOD'],
      [`satisfaction.xlsx${qs({ period: 'month', year: '2026', month: '11', quarter: '4' })}`, 'INVALID_PERIOD'],
      [`satisfaction.xlsx${qs({ period: 'quarter', year: '2026', month: '11' })}`, 'INVALID_PERIOD'],
      [`satisfaction.xlsx${qs({ period: 'month', year: '2026', month: '13' })}`, 'VALIDATION_FAILED'],
      [`satisfaction.xlsx${qs({ period: 'quarter', year: '2026', quarter: '5' })}`, 'VALIDATION_FAILED'],
      [`satisfaction.xlsx${qs({ period: 'week', year: '2026' })}`, 'VALIDATION_FAILED'],
      [`satisfaction.csv${qs({ period: 'month', year: '1999', month: '1' })}`, 'INVALID_PERIOD'],
      [`satisfaction.csv${qs({ period: 'month', year: '26', month: '1' })}`, 'VALIDATION_FAILED'],
      [`satisfaction.csv${qs({ period: 'month', year: '2026', month: '1', groupBy: 'hour' })}`, 'VALIDATION_FAILED'],
      [`summary${qs({ ...NOVEMBER, groupBy: 'procedures' })}`, 'VALIDATION_FAILED'],
    ];
    for (const [path, code] of cases) {
      const res = await get(`/sites/${f.siteId}/reports/${path}`, f.tokens.manager);
      expect(res.statusCode, path).toBe(400);
      expect(res.json().error.code, path).toBe(code);
    }
  });
});

describe('the month\'s and quarter\'s satisfaction export', () => {
  it('XLSX: the indicators and the table per official are the raw ratings of the local month', async () => {
    const res = await get(`/sites/${f.siteId}/reports/satisfaction.xlsx${qs({ period: 'month', year: '2026', month: '11' })}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="hai-long-PHUONG-DONG-CAM-2026-11.xlsx"');
    const book = readXlsx(res.rawPayload);
    expect(book.sheets.map((s) => s.name)).toEqual(['Chỉ tiêu', 'Cán bộ', 'Quầy', 'Lĩnh vực', 'Thủ tục', 'Số lần đi lại', 'Định nghĩa – Definitions']);

    const raw = await rawRatings(NOVEMBER.from, NOVEMBER.to);
    expect(raw.rows.length).toBe(5); // not the October one, not the December one, though UTC would say otherwise
    const officials = book.sheets[1]!;
    expect(officials.rows[0]).toEqual(['Cán bộ', 'Lượt đánh giá', 'Rất hài lòng (3)', 'Hài lòng (2)', 'Không hài lòng (1)',
      'Tỷ lệ Rất hài lòng (3)', 'Tỷ lệ Hài lòng (2)', 'Tỷ lệ Không hài lòng (1)', 'Tỷ lệ hài lòng', 'Điểm trung bình',
      'Phản ánh', 'Mới', 'Đang xử lý', 'Đã xử lý', 'Thời gian xử lý, trung vị (giờ)']);
    const body = officials.rows.slice(1, -1);
    expect(body.map((r) => r[0]).sort()).toEqual([...raw.byOfficial.keys()].sort());
    for (const row of body) {
      const counts = raw.byOfficial.get(row[0] as string)!;
      const n = [...counts.values()].reduce((a, b) => a + b, 0);
      expect(row[1], `${row[0]} ratings`).toBe(n);
      expect(row.slice(2, 5), `${row[0]} levels`).toEqual([3, 2, 1].map((s) => counts.get(s) ?? 0));
      ([3, 2, 1] as const).forEach((s, i) => expect(row[5 + i] as number, `${row[0]} share ${s}`).toBeCloseTo((counts.get(s) ?? 0) / n, 9));
      expect(row[8] as number).toBeCloseTo(((counts.get(3) ?? 0) + (counts.get(2) ?? 0)) / n, 9);
    }
    const total = officials.rows.at(-1)!;
    expect(total.slice(0, 5)).toEqual(['Tổng cộng', 5, 3, 1, 1]);
    expect(total.slice(10, 14)).toEqual([2, 1, 0, 1]);
    expect(total[14]).toBeCloseTo(2, 4); // resolved 2 h after the criticism

    const indicators = new Map(book.sheets[0]!.rows.slice(1).map((r) => [r[0], r[1]]));
    // X-Total-Rows: the first sheet's rows, which the console counts as the file streams in
    expect(res.headers['x-total-rows']).toBe(String(book.sheets[0]!.rows.length - 1));
    expect(indicators.get('Kỳ báo cáo')).toBe('Tháng 11/2026');
    expect(indicators.get('Tổng số lượt đánh giá')).toBe(raw.rows.length);
    expect(indicators.get('Số lượt "Rất hài lòng" (3)')).toBe(raw.rows.filter((r) => r.score === 3).length);
    expect(indicators.get('Tỷ lệ hài lòng') as number).toBeCloseTo(raw.rows.filter((r) => r.score > 1).length / raw.rows.length, 9);
    expect(indicators.get('Số phản ánh')).toBe(2);
    expect(indicators.get('Phản ánh đã xử lý')).toBe(1);
    expect(indicators.get('Số hồ sơ (lượt đến đầu tiên trong kỳ)')).toBe(2);
    expect(book.sheets[4]!.rows.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual([
      ['1.000894', 'Đăng ký kết hôn', 1], ['1.001193', 'Đăng ký khai sinh', 2], [null, '(không ghi thủ tục)', 3], [null, 'Tổng cộng', 5], // an empty cell for ''
    ]);
    const definitions = book.sheets[6]!;
    expect(definitions.rows[0]).toEqual(['Thuật ngữ', 'Định nghĩa', 'Term', 'Definition']);
    expect(definitions.rows.map((r) => r[2])).toContain('Satisfied share');
    expect(definitions.styles[1], 'definitions wrap in their columns').toEqual([7, 7, 7, 7]);
  });

  it('a quarter is three local months; English headers with lang=en; the CSV is one table', async () => {
    const q4 = readXlsx((await get(`/sites/${f.siteId}/reports/satisfaction.xlsx${qs({ period: 'quarter', year: '2026', quarter: '4', lang: 'en' })}`, f.tokens.manager)).rawPayload);
    const raw = await rawRatings('2026-10-01T00:00:00+07:00', '2027-01-01T00:00:00+07:00');
    expect(raw.rows.length).toBe(7);
    expect(q4.sheets.map((s) => s.name)).toEqual(['Indicators', 'Officials', 'Counters', 'Fields', 'Procedures', 'Visits per dossier', 'Định nghĩa – Definitions']);
    const indicators = new Map(q4.sheets[0]!.rows.slice(1).map((r) => [r[0], r[1]]));
    expect(indicators.get('Period')).toBe('Q4 2026');
    expect(indicators.get('Ratings in all')).toBe(7);

    const csv = await get(`/sites/${f.siteId}/reports/satisfaction.csv${qs({ period: 'month', year: '2026', month: '11', groupBy: 'counter' })}`, f.tokens.manager);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const records = parseCsv(csv.body.replace(/^\uFEFF/, ''));
    expect(records[0]).toEqual(['group_by', 'key', 'label', 'ratings', 'count_3', 'count_2', 'count_1', 'share_3', 'share_2', 'share_1',
      'satisfied_share', 'rating_avg', 'criticisms', 'criticisms_new', 'criticisms_investigating', 'criticisms_resolved', 'resolution_p50_seconds']);
    expect(records.slice(1).map((r) => r.slice(0, 7))).toEqual([
      ['counter', f.counters[1]!, 'Quầy 1', '5', '3', '1', '1'],
      ['counter', 'total', '', '5', '3', '1', '1'],
    ]);
    expect(Number(records.at(-1)![16])).toBeCloseTo(7200, 1);
    // nothing else in the month: the October and December tickets exist
    const all = await sql<{ n: number }>`SELECT count(*)::int AS n FROM rating WHERE site_id = ${f.siteId}`.execute(f.t.db);
    expect(all.rows[0]!.n).toBe(7);
  });
});
