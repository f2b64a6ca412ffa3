import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, apiFixture, bearer, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// Input that used to reach PostgreSQL or the date formatting and came back as a 500: NUL
// characters, report ranges far in the past or future, a time zone Node knows and PostgreSQL
// does not. And names that were two names for one: text is stored in Unicode NFC.

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const send = (method: 'GET' | 'POST' | 'PUT', url: string, token: string | undefined, payload?: object) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });

/** One md5 over every table: a refused request leaves it as it was. */
async function everything(): Promise<string> {
  const { rows } = await sql<{ h: string }>`
    SELECT md5(string_agg(t, '|' ORDER BY t)) AS h FROM (
      SELECT 'ticket:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS t FROM ticket x
      UNION ALL SELECT 'service:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM service x
      UNION ALL SELECT 'device:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM device x
      UNION ALL SELECT 'alert:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM alert x
      UNION ALL SELECT 'counter:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM counter x
      UNION ALL SELECT 'site:' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM site x
      UNION ALL SELECT 'session:' || count(*)::text FROM user_session x) s`.execute(f.t.db);
  return rows[0]!.h;
}

/** Each request is a 400 VALIDATION_FAILED, and every table is as it was. */
async function refusedUnchanged(cases: [string, () => ReturnType<typeof send>][]): Promise<void> {
  for (const [what, request] of cases) {
    const before = await everything();
    const reply = await request();
    expect(reply.statusCode, `${what}: ${reply.body}`).toBe(400);
    expect(reply.json().error.code, what).toBe('VALIDATION_FAILED');
    expect(await everything(), what).toBe(before);
  }
}

describe('a NUL character in any text', () => {
  it('is a 400 that changes nothing, in every field where it was a 500', async () => {
    const opened = await send('POST', `/counters/${f.counters[2]}/open`, f.tokens.staff2);
    expect(opened.statusCode).toBe(200);
    const cases: [string, () => ReturnType<typeof send>][] = [
      ['login username', () => send('POST', '/auth/login', undefined, { username: 'ad\u0000min', password: ADMIN_PASSWORD })],
      ['kiosk priority', () => send('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, priority: 'eld\u0000erly' })],
      ['service name', () => send('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'NUL1', name: { vi: 'Hộ\u0000 tịch', en: 'Civil' }, prefix: 'N' })],
      ['criticism comment', () => send('POST', '/alerts/criticism', f.tokens.kiosk, { comment: 'chờ lâu\u0000quá' })],
      ['pause reason', () => send('POST', `/counters/${f.counters[2]}/pause`, f.tokens.staff2, { reason: 'họp\u0000' })],
      ['device name', () => send('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV\u0000' })],
      ['site name', () => send('PUT', `/sites/${f.siteId}`, f.tokens.admin, { name: 'Phường\u0000' })],
      ['a key of a JSON object', () => send('POST', '/alerts/criticism', f.tokens.kiosk, { ['comm\u0000ent']: 'x' })],
    ];
    await refusedUnchanged(cases);
  });

  it('refuses JSON nested deeper than any request, without a 500', async () => {
    const deep = `{"comment":${'['.repeat(5_000)}"x"${']'.repeat(5_000)}}`;
    const reply = await f.app.inject({
      method: 'POST', url: '/api/v1/alerts/criticism', headers: { ...bearer(f.tokens.kiosk), 'content-type': 'application/json' }, payload: deep,
    });
    expect(reply.statusCode).toBe(400);
  });
});

describe('other characters no one types', () => {
  it('control characters and lone surrogates are a 400 that changes nothing; tabs and line breaks are text', async () => {
    const cases: [string, () => ReturnType<typeof send>][] = [
      ['a bell in a criticism comment', () => send('POST', '/alerts/criticism', f.tokens.kiosk, { comment: 'chờ lâu\u0007' })],
      ['an escape in a device name', () => send('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: '\u001b[31mTV' })],
      ['a lone surrogate in a service name', () => send('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'SUR1', name: { vi: 'Hộ tịch \ud800', en: 'Civil' }, prefix: 'S' })],
      ['a lone surrogate in a login', () => send('POST', '/auth/login', undefined, { username: 'admin\udc00', password: ADMIN_PASSWORD })],
      ['a backspace in a site name', () => send('PUT', `/sites/${f.siteId}`, f.tokens.admin, { name: 'Phường\b' })],
    ];
    await refusedUnchanged(cases);
    const lines = await send('POST', '/alerts/criticism', f.tokens.kiosk, { comment: 'dòng 1\r\ndòng 2\tcột' });
    expect(lines.statusCode, lines.body).toBe(201);
  });
});

describe('a counter\'s figures of one day', () => {
  it('for a day far away or not on the calendar are a 400, not a 500 or another day\'s figures', async () => {
    for (const date of ['0999-01-01', '9999-12-31', '0000-01-01', '2026-02-31', '2026-04-31']) {
      const reply = await send('GET', `/counters/${f.counters[1]}/today?date=${date}`, f.tokens.staff);
      expect(reply.statusCode, `${date}: ${reply.body}`).toBe(400);
      expect(reply.json().error.code).toBe('VALIDATION_FAILED');
    }
    const today = await send('GET', `/counters/${f.counters[1]}/today?date=2026-11-24`, f.tokens.staff);
    expect(today.statusCode).toBe(200);
  });
});

describe('opening hours of a new site', () => {
  it('with a key that is no weekday range, or a range running backwards, are a 400', async () => {
    for (const openingHours of [{ nested: { x: 1 } }, { 'fri-mon': [['07:30', '11:30']] }]) {
      const reply = await send('POST', '/sites', f.tokens.admin, { code: 'HOURS-X', name: 'Giờ sai', openingHours });
      expect(reply.statusCode, reply.body).toBe(400);
    }
    expect(await f.t.db.selectFrom('site').select('id').where('code', '=', 'HOURS-X').executeTakeFirst()).toBeUndefined();
  });
});

describe('report ranges', () => {
  it('far in the past or the future are a 400 INVALID_RANGE, for one site and for all', async () => {
    const ranges = [
      ['0999-01-01T00:00:00Z', '2026-12-01T00:00:00Z'],
      ['2026-11-01T00:00:00Z', '9999-12-31T23:59:59Z'],
      ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z'],
    ];
    for (const [from, to] of ranges) {
      for (const url of [`/sites/${f.siteId}/reports/summary`, '/reports/summary', `/sites/${f.siteId}/reports/tickets.csv`]) {
        const reply = await send('GET', `${url}?from=${from}&to=${to}`, f.tokens.admin);
        expect(reply.statusCode, `${url} ${from} ${to}: ${reply.body}`).toBe(400);
        expect(reply.json().error.code).toBe('INVALID_RANGE');
      }
    }
    const fine = await send('GET', `/reports/summary?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z`, f.tokens.admin);
    expect(fine.statusCode).toBe(200);
  });
});

describe('a site\'s time zone', () => {
  it('must be one PostgreSQL knows too: US/Pacific-New is refused, and the reports keep working', async () => {
    const before = await everything();
    const put = await send('PUT', `/sites/${f.siteId}`, f.tokens.admin, { timezone: 'US/Pacific-New' });
    expect(put.statusCode, put.body).toBe(400);
    expect(put.json().error.code).toBe('INVALID_TIMEZONE');
    const created = await send('POST', '/sites', f.tokens.admin, { code: 'TZ-NEW', name: 'Múi giờ', timezone: 'US/Pacific-New' });
    expect(created.statusCode).toBe(400);
    expect(created.json().error.code).toBe('INVALID_TIMEZONE');
    expect(await everything()).toBe(before);
    const range = 'from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z';
    expect((await send('GET', `/sites/${f.siteId}/reports/summary?${range}`, f.tokens.admin)).statusCode).toBe(200);
    expect((await send('GET', `/reports/summary?${range}`, f.tokens.admin)).statusCode).toBe(200);
    // a zone both know is taken
    const ok = await send('PUT', `/sites/${f.otherSiteId}`, f.tokens.admin, { timezone: 'Asia/Bangkok' });
    expect(ok.statusCode).toBe(200);
    await send('PUT', `/sites/${f.otherSiteId}`, f.tokens.admin, { timezone: 'Asia/Ho_Chi_Minh' });
  });
});

describe('text is stored in NFC', () => {
  const nfc = 'Hộ tịch – Đăng ký khai sinh';
  const nfd = nfc.normalize('NFD');

  it('a name typed with combining marks is the same name as the precomposed one', async () => {
    expect(nfd).not.toBe(nfc);
    const created = await send('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'NFC1', name: { vi: nfd, en: 'Civil status' }, prefix: 'Q' });
    expect(created.statusCode, created.body).toBe(201);
    const row = await f.t.db.selectFrom('service').select('name').where('code', '=', 'NFC1').executeTakeFirstOrThrow();
    expect((row.name as { vi: string }).vi).toBe(nfc);
    const list = await send('GET', `/sites/${f.siteId}/services`, f.tokens.manager);
    expect(JSON.stringify(list.json())).toContain(nfc);
  });

  it('"Hộ tịch" typed precomposed and then with combining marks is one name, not two', async () => {
    for (const [code, name, prefix] of [['PAIR1', nfc, 'P'], ['PAIR2', nfd, 'R']] as const) {
      const created = await send('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code, name: { vi: name, en: 'Civil status' }, prefix });
      expect(created.statusCode, created.body).toBe(201);
    }
    const names = await f.t.db.selectFrom('service').select(sql<string>`name->>'vi'`.as('vi')).where('code', 'in', ['PAIR1', 'PAIR2']).execute();
    expect(names.map((n) => n.vi)).toEqual([nfc, nfc]);
  });

  it('every name and text the API stores is stored in NFC', async () => {
    const opened = await send('POST', `/counters/${f.counters[3]}/open`, f.tokens.staff);
    expect(opened.statusCode, opened.body).toBe(200);
    const device = (await send('POST', `/sites/${f.otherSiteId}/devices`, f.tokens.admin, { kind: 'display', name: 'TV' })).json() as { device: { id: string } };
    const marker = (n: number) => `Hoà thuận – Hộ tịch ${n}`;
    const cases: [string, (text: string) => ReturnType<typeof send>, string, string][] = [
      ['site name', (t) => send('PUT', `/sites/${f.otherSiteId}`, f.tokens.admin, { name: t }), 'site', 'name'],
      ['counter name', (t) => send('POST', `/sites/${f.otherSiteId}/counters`, f.tokens.admin, { number: 77, name: t, serviceIds: [] }), 'counter', 'name'],
      ['device name', (t) => send('PUT', `/devices/${device.device.id}`, f.tokens.admin, { name: t }), 'device', 'name'],
      ['staff display name', (t) => send('POST', `/sites/${f.otherSiteId}/staff`, f.tokens.admin, { username: 'nfc.staff', password: PASSWORD, displayName: t, role: 'staff' }), 'app_user', 'display_name'],
      ['priority group', (t) => send('PUT', `/sites/${f.otherSiteId}/priority-groups`, f.tokens.admin, { priorityGroups: [{ code: 'elderly', name: { vi: t, en: 'Elderly' }, rank: 1 }] }), 'priority_group', 'name'],
      ['holiday', (t) => send('PUT', `/sites/${f.otherSiteId}/holidays`, f.tokens.admin, { holidays: [{ date: '2026-12-31', name: t }] }), 'holiday', 'name'],
      ['pause reason', (t) => send('POST', `/counters/${f.counters[3]}/pause`, f.tokens.staff, { reason: t }), 'counter', 'pause_reason'],
      ['criticism comment', (t) => send('POST', '/alerts/criticism', f.tokens.kiosk, { comment: t }), 'alert', 'data'],
    ];
    for (const [i, [what, request, table, column]] of cases.entries()) {
      const reply = await request(marker(i).normalize('NFD'));
      expect(reply.statusCode, `${what}: ${reply.body}`).toBeLessThan(300);
      const found = async (text: string) => Number((await sql<{ n: number }>`
        SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)}::text LIKE ${`%${text}%`}`.execute(f.t.db)).rows[0]!.n);
      expect(await found(marker(i)), what).toBe(1);
      expect(await found(marker(i).normalize('NFD')), what).toBe(0);
    }
  });

  it('an account\'s name and password typed with combining marks are the precomposed ones', async () => {
    const password = 'mật-khẩu-Hoà-1';
    const created = await send('POST', `/sites/${f.siteId}/staff`, f.tokens.admin, { username: 'hoa.nt', password: password.normalize('NFD'), displayName: 'Nguyễn Thị Hoà'.normalize('NFD'), role: 'staff' });
    expect(created.statusCode, created.body).toBe(201);
    const login = await send('POST', '/auth/login', undefined, { username: 'hoa.nt', password });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.displayName).toBe('Nguyễn Thị Hoà');
    expect(login.json().user.displayName).not.toBe('Nguyễn Thị Hoà'.normalize('NFD'));
  });
});
