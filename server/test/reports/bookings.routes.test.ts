import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth.service.ts';
import { apiFixture, bearer, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';

// GET /sites/:siteId/reports/bookings and its files: who may read them and what is refused
// (the figures themselves: bookings.truth.test.ts).

let f: ApiFixture;
let otherManager: string;
const q = 'from=2026-11-24T00:00:00%2B07:00&to=2026-11-25T00:00:00%2B07:00';
const get = (url: string, token?: string) => f.app.inject({ method: 'GET', url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}) });

beforeAll(async () => {
  f = await apiFixture();
  const auth = new AuthService(f.t.db);
  await auth.createUser({ username: 'quanly-tinh', password: PASSWORD, displayName: 'Quản lý tỉnh', role: 'manager', siteIds: [f.otherSiteId] });
  otherManager = (await auth.login('quanly-tinh', PASSWORD)).token;
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

describe('the bookings report over HTTP', () => {
  it('managers of the site and admins; 401, 403 for the others', async () => {
    for (const path of ['bookings', 'bookings.csv', 'bookings.xlsx']) {
      const url = `/sites/${f.siteId}/reports/${path}?${q}`;
      expect((await get(url)).statusCode).toBe(401);
      for (const token of [f.tokens.staff, otherManager, f.tokens.kiosk]) expect((await get(url, token)).statusCode, path).toBe(403);
      expect((await get(url, f.tokens.manager)).statusCode, path).toBe(200);
      expect((await get(url, f.tokens.admin)).statusCode, path).toBe(200);
    }
  });

  it('answers the range in the site zone, with X of the punctuality (default 10)', async () => {
    const res = await get(`/sites/${f.siteId}/reports/bookings?${q}&within=15`, f.tokens.manager);
    expect(res.json()).toMatchObject({ from: '2026-11-24T00:00:00.000+07:00', to: '2026-11-25T00:00:00.000+07:00', punctuality: { withinMinutes: 15 } });
    expect((await get(`/sites/${f.siteId}/reports/bookings?${q}`, f.tokens.manager)).json().punctuality.withinMinutes).toBe(10);
    expect(res.json().kinds.map((k: { kind: string }) => k.kind)).toEqual(['walk_in', 'booked', 'remote']);
  });

  it('refuses a reversed range, a bad X, an unknown parameter', async () => {
    for (const query of ['from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z', `${q}&within=-1`, `${q}&within=abc`, `${q}&within=241`, `${q}&groupBy=x`]) {
      expect((await get(`/sites/${f.siteId}/reports/bookings?${query}`, f.tokens.manager)).statusCode, query).toBe(400);
    }
  });

  it('the files: names, types and X-Total-Rows', async () => {
    const csv = await get(`/sites/${f.siteId}/reports/bookings.csv?${q}`, f.tokens.manager);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/lich-hen-PHUONG-DONG-CAM/);
    expect(csv.body.split('\r\n').filter(Boolean).length - 1).toBe(Number(csv.headers['x-total-rows']));
    const xlsx = await get(`/sites/${f.siteId}/reports/bookings.xlsx?${q}&lang=en`, f.tokens.manager);
    expect(xlsx.headers['content-type']).toMatch(/spreadsheetml/);
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
  });
});
