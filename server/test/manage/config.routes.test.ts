import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { AuthService } from '../../src/auth/auth.service.ts';
import { apiFixture, bearer, PASSWORD, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// Configuration updates of the manager console: who may make them (managers of the site,
// administrators), what is refused (400, 404, 409), that the change is what GET /sites/:id
// then shows and what the engine then does, and that the site's screens hear `site:updated`.

let f: ApiFixture;
let base: string;
let otherManager: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Ho Chi Minh City
const sockets: Socket[] = [];

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const api = (method: Method, url: string, token?: string, payload?: unknown) => f.app.inject({
  method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}),
  ...(payload !== undefined ? { payload: payload as object } : method === 'POST' || method === 'PUT' ? { payload: {} } : {}),
});
const site = async () => (await api('GET', `/sites/${f.siteId}`, f.tokens.manager)).json();
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

async function listen(token: string) {
  const socket = connect(base, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  const events: { name: string; payload: any }[] = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('queue:snapshot', () => resolve());
    socket.once('connect_error', reject);
  });
  return events;
}

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  const auth = new AuthService(f.t.db);
  await auth.createUser({ username: 'quanly-tinh', password: PASSWORD, displayName: 'Quản lý tỉnh', role: 'manager', siteIds: [f.otherSiteId] });
  otherManager = (await auth.login('quanly-tinh', PASSWORD)).token;
  base = await listenLocally(f.app);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await f?.app.close();
  await f?.t.drop();
});

/** Everyone but the site's managers and administrators is refused. */
async function expectManagersOnly(method: Method, url: string, payload?: unknown) {
  expect((await api(method, url, undefined, payload)).statusCode, `${method} ${url} anonymous`).toBe(401);
  for (const [who, token] of Object.entries({ staff: f.tokens.staff, otherManager, kiosk: f.tokens.kiosk, display: f.tokens.display, rating: f.tokens.rating })) {
    const res = await api(method, url, token, payload);
    expect(res.statusCode, `${method} ${url} as ${who}`).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  }
}

describe('site settings', () => {
  it('the call-order rule, name and code digits: managers of the site and admins; screens hear site:updated', async () => {
    const display = await listen(f.tokens.display);
    await expectManagersOnly('PUT', `/sites/${f.siteId}`, { serviceOrder: 'strict' });
    const res = await api('PUT', `/sites/${f.siteId}`, f.tokens.manager, { serviceOrder: 'strict', priorityRatio: 2, transferToFront: true, name: 'Trung tâm Đồng Cam' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: f.siteId, serviceOrder: 'strict', priorityRatio: 2, transferToFront: true, name: 'Trung tâm Đồng Cam' });
    await until(() => display.some((e) => e.name === 'site:updated'));
    expect(display.find((e) => e.name === 'site:updated')!.payload).toEqual({ siteId: f.siteId, parts: ['site'] });
    const row = await f.t.db.selectFrom('site').select(['serviceOrder', 'priorityRatio', 'transferToFront']).where('id', '=', f.siteId).executeTakeFirstOrThrow();
    expect(row).toEqual({ serviceOrder: 'strict', priorityRatio: 2, transferToFront: true });
    expect((await api('PUT', `/sites/${f.siteId}`, f.tokens.admin, { priorityRatio: null, serviceOrder: 'longest_wait', transferToFront: false })).json())
      .toMatchObject({ priorityRatio: null, serviceOrder: 'longest_wait', transferToFront: false });
  });

  it('refuses what it cannot store (400) and unknown sites (404)', async () => {
    for (const body of [{ serviceOrder: 'random' }, { priorityRatio: 0 }, { priorityRatio: 'two' }, { codeDigits: 9 }, { name: '' }, { code: 'X' }, { timezone: 'Mars/Olympus' }, []]) {
      const res = await api('PUT', `/sites/${f.siteId}`, f.tokens.manager, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await api('PUT', `/sites/${f.siteId}`, f.tokens.manager, { timezone: 'Mars/Olympus' })).json().error.code).toBe('INVALID_TIMEZONE');
    expect((await api('PUT', '/sites/00000000-0000-4000-8000-000000000000', f.tokens.admin, { name: 'x' })).statusCode).toBe(404);
  });

  it('opening hours with a Saturday session, and holidays: the kiosk follows them at once', async () => {
    const url = `/sites/${f.siteId}/opening-hours`;
    await expectManagersOnly('PUT', url, { openingHours: [] });
    const week = [1, 2, 3, 4, 5].flatMap((weekday) => [{ weekday, opens: '07:30', closes: '11:30' }, { weekday, opens: '13:30', closes: '17:00' }]);
    const res = await api('PUT', url, f.tokens.manager, { openingHours: [...week, { weekday: 6, opens: '07:30', closes: '11:30' }] });
    expect(res.statusCode).toBe(200);
    expect(res.json().openingHours.filter((h: { weekday: number }) => h.weekday === 6)).toEqual([{ weekday: 6, opens: '07:30', closes: '11:30' }]);
    for (const body of [
      { openingHours: [{ weekday: 1, opens: '11:00', closes: '10:00' }] },
      { openingHours: [{ weekday: 1, opens: '07:30', closes: '11:30' }, { weekday: 1, opens: '11:00', closes: '12:00' }] },
      { openingHours: [{ weekday: 8, opens: '07:30', closes: '11:30' }] },
      { openingHours: [{ weekday: 1, opens: '7:30', closes: '11:30' }] },
      { openingHours: [{ weekday: 1, opens: '07:30', closes: '24:00' }] },
      { hours: [] },
    ]) {
      expect((await api('PUT', url, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    // closed now (Tuesday 09:00) → the kiosk refuses; open again → it issues
    await api('PUT', url, f.tokens.manager, { openingHours: [{ weekday: 2, opens: '13:30', closes: '17:00' }] });
    const closed = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error.code).toBe('SITE_CLOSED');
    await api('PUT', url, f.tokens.manager, { openingHours: week });

    const holidays = `/sites/${f.siteId}/holidays`;
    await expectManagersOnly('PUT', holidays, { holidays: [] });
    const h = await api('PUT', holidays, f.tokens.manager, { holidays: [{ date: '2026-11-24', name: 'Nghỉ bù' }, { date: '2027-01-01', name: 'Tết Dương lịch' }] });
    expect(h.json().holidays).toEqual([{ date: '2026-11-24', name: 'Nghỉ bù' }, { date: '2027-01-01', name: 'Tết Dương lịch' }]);
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().error.code).toBe('SITE_CLOSED');
    for (const body of [{ holidays: [{ date: '2026-02-30', name: '' }] }, { holidays: [{ date: '24/11/2026', name: '' }] }, { holidays: [{ date: '2027-01-01', name: 'a' }, { date: '2027-01-01', name: 'b' }] }]) {
      expect((await api('PUT', holidays, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    await api('PUT', holidays, f.tokens.manager, { holidays: [] });
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).statusCode).toBe(201);
  });

  it('rating scale and reasons, and the announcement phrase', async () => {
    const rating = `/sites/${f.siteId}/rating`;
    const scale = {
      ratingScale: [
        { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' }, asksReason: true },
        { score: 2, label: { vi: 'Bình thường', en: 'Fair' } },
        { score: 3, label: { vi: 'Hài lòng', en: 'Satisfied' } },
        { score: 4, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } },
      ],
      ratingReasons: [{ code: 'attitude', label: { vi: 'Thái độ', en: 'Attitude' } }, { code: 'slow', label: { vi: 'Chậm', en: 'Slow' } }],
    };
    await expectManagersOnly('PUT', rating, scale);
    const res = await api('PUT', rating, f.tokens.manager, scale);
    expect(res.statusCode).toBe(200);
    expect(res.json().ratingScale.map((l: { score: number }) => l.score)).toEqual([4, 3, 2, 1]);
    expect(res.json().ratingReasons).toEqual(scale.ratingReasons);
    for (const body of [
      { ...scale, ratingScale: [scale.ratingScale[0]] },
      { ...scale, ratingScale: [scale.ratingScale[0], scale.ratingScale[0]] },
      { ...scale, ratingReasons: [scale.ratingReasons[0], scale.ratingReasons[0]] },
      { ...scale, ratingScale: [{ score: 0, label: { vi: 'x', en: 'x' } }, scale.ratingScale[1]] },
      { ratingScale: scale.ratingScale },
    ]) {
      expect((await api('PUT', rating, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }

    const phrase = `/sites/${f.siteId}/announcement`;
    const body = { announcement: { vi: 'Mời công dân số {code} đến quầy {counter}', en: 'Number {code}, counter {counter}' } };
    await expectManagersOnly('PUT', phrase, body);
    expect((await api('PUT', phrase, f.tokens.manager, body)).json().announcement).toEqual(body.announcement);
    expect((await api('PUT', phrase, f.tokens.manager, { announcement: { vi: 'Mời số {code} đến quầy {counter}', en: '' } })).json().announcement)
      .toEqual({ vi: 'Mời số {code} đến quầy {counter}', en: '' });
    const missing = await api('PUT', phrase, f.tokens.manager, { announcement: { vi: 'Mời công dân đến quầy {counter}', en: '' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('INVALID_ANNOUNCEMENT');
    // the other settings survived
    expect((await site()).ratingScale).toHaveLength(4);
  });

  it('the system-voice preference: off by default, set with the phrase, kept when not given; displays hear it', async () => {
    const phrase = `/sites/${f.siteId}/announcement`;
    const announcement = { vi: 'Xin mời công dân có số thứ tự {code} đến quầy số {counter}', en: 'Ticket number {code}, please go to counter {counter}' };
    expect((await site()).preferSystemVoice).toBe(false);
    const display = await listen(f.tokens.display);
    const on = await api('PUT', phrase, f.tokens.manager, { announcement, preferSystemVoice: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().preferSystemVoice).toBe(true);
    await until(() => display.some((e) => e.name === 'site:updated'));
    expect(display.filter((e) => e.name === 'site:updated').map((e) => e.payload)).toEqual([{ siteId: f.siteId, parts: ['announcement'] }]);
    // a display reads it in its site configuration
    expect((await api('GET', `/sites/${f.siteId}`, f.tokens.display)).json().preferSystemVoice).toBe(true);
    // changing only the phrase keeps the preference
    expect((await api('PUT', phrase, f.tokens.manager, { announcement })).json().preferSystemVoice).toBe(true);
    for (const bad of ['yes', 1, null]) {
      const res = await api('PUT', phrase, f.tokens.manager, { announcement, preferSystemVoice: bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await site()).preferSystemVoice).toBe(true);
    expect((await api('PUT', phrase, f.tokens.manager, { announcement, preferSystemVoice: false })).json().preferSystemVoice).toBe(false);
    expect((await site()).preferSystemVoice).toBe(false);
  });

  it('priority groups: replaced, the ones left out deactivated; the kiosk then refuses them', async () => {
    const url = `/sites/${f.siteId}/priority-groups`;
    const groups = { priorityGroups: [{ code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 }, { code: 'veteran', name: { vi: 'Cựu chiến binh', en: 'Veteran' }, rank: 2 }] };
    await expectManagersOnly('PUT', url, groups);
    const res = await api('PUT', url, f.tokens.manager, groups);
    expect(res.json().priorityGroups).toEqual([
      { code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 },
      { code: 'veteran', name: { vi: 'Cựu chiến binh', en: 'Veteran' }, rank: 2 },
    ]);
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, priority: 'veteran' })).statusCode).toBe(201);
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, priority: 'pregnant' })).statusCode).toBe(400);
    for (const body of [{ priorityGroups: [groups.priorityGroups[0], groups.priorityGroups[0]] }, { priorityGroups: [{ code: 'none', name: { vi: 'x', en: 'x' }, rank: 1 }] }, { priorityGroups: [{ code: 'a b', name: { vi: 'x', en: 'x' }, rank: 1 }] }]) {
      expect((await api('PUT', url, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('services and counters', () => {
  it('updates a service (name, prefix, target) and its procedures; refuses taken codes and prefixes', async () => {
    const url = `/services/${f.services.DD}`;
    await expectManagersOnly('PUT', url, { targetWaitSeconds: 600 });
    const res = await api('PUT', url, f.tokens.manager, { name: { vi: 'Đất đai', en: 'Land' }, targetWaitSeconds: 1500, prefix: 'G' });
    expect(res.statusCode).toBe(200);
    expect(res.json().services.find((s: { id: string }) => s.id === f.services.DD)).toMatchObject({ name: { vi: 'Đất đai', en: 'Land' }, targetWaitSeconds: 1500, prefix: 'G' });
    const issued = (await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.DD })).json().ticket;
    expect(issued.code).toMatch(/^G\d{3}$/);

    expect((await api('PUT', url, f.tokens.manager, { prefix: 'A' })).json().error.code).toBe('PREFIX_TAKEN');
    expect((await api('PUT', url, f.tokens.manager, { code: 'HT' })).json().error.code).toBe('SERVICE_CODE_TAKEN');
    for (const body of [{ prefix: 'g' }, { prefix: 'ABCD' }, { targetWaitSeconds: -1 }, { name: { vi: 'x' } }, { siteId: f.otherSiteId }]) {
      expect((await api('PUT', url, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await api('PUT', '/services/00000000-0000-4000-8000-000000000000', f.tokens.manager, { targetWaitSeconds: 60 })).statusCode).toBe(404);

    const procedures = { procedures: [{ code: '1.012768', name: { vi: 'Đăng ký biến động đất đai', en: 'Land record change' }, processingDays: 10 }, { code: '2.000001', name: { vi: 'Thủ tục mới', en: 'New procedure' }, processingDays: null }] };
    await expectManagersOnly('PUT', `${url}/procedures`, procedures);
    const p = await api('PUT', `${url}/procedures`, f.tokens.manager, procedures);
    expect(p.json().services.find((s: { id: string }) => s.id === f.services.DD).procedures).toEqual(procedures.procedures);
    expect((await api('PUT', `${url}/procedures`, f.tokens.manager, { procedures: [procedures.procedures[0], procedures.procedures[0]] })).statusCode).toBe(400);
  });

  it('creates a service and a counter serving it, reorders a counter\'s services, and screens hear counter:updated', async () => {
    const display = await listen(f.tokens.display);
    const created = await api('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'TP', name: { vi: 'Tư vấn pháp luật', en: 'Legal advice' }, prefix: 'T', targetWaitSeconds: 600 });
    expect(created.statusCode).toBe(201);
    const tp = created.json().id;
    const counter = await api('POST', `/sites/${f.siteId}/counters`, f.tokens.manager, { number: 7, name: 'Quầy 7', serviceIds: [tp] });
    expect(counter.statusCode).toBe(201);
    const c7 = counter.json().id;

    const url = `/counters/${f.counters[2]}`;
    await expectManagersOnly('PUT', url, { name: 'x' });
    const res = await api('PUT', url, f.tokens.manager, { name: 'Quầy 2 – Một cửa', serviceIds: [f.services.CT, f.services.HT, tp] });
    expect(res.statusCode).toBe(200);
    expect(res.json().counters.find((c: { id: string }) => c.id === f.counters[2])).toMatchObject({ name: 'Quầy 2 – Một cửa', serviceIds: [f.services.CT, f.services.HT, tp] });
    await until(() => display.some((e) => e.name === 'counter:updated' && e.payload.counter.id === f.counters[2]));
    expect(display.find((e) => e.name === 'counter:updated')!.payload.counter.serviceIds).toEqual([f.services.CT, f.services.HT, tp]);
    expect(display.filter((e) => e.name === 'site:updated').map((e) => e.payload.parts)).toEqual([['services'], ['counters'], ['counters']]);

    expect((await api('PUT', url, f.tokens.manager, { number: 1 })).json().error.code).toBe('COUNTER_NUMBER_TAKEN');
    const foreign = (await f.t.db.selectFrom('service').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow()).id;
    expect((await api('PUT', url, f.tokens.manager, { serviceIds: [foreign] })).statusCode).toBe(404);
    expect((await api('PUT', url, f.tokens.manager, { serviceIds: [tp, tp] })).statusCode).toBe(400);
    expect((await api('PUT', url, f.tokens.manager, { serviceIds: ['x'] })).statusCode).toBe(400);
    expect((await api('PUT', url, f.tokens.manager, { status: 'open' })).statusCode).toBe(400);

    // counter 7 is taken out of use; an open counter is refused
    await expectManagersOnly('DELETE', `/counters/${c7}`);
    await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
    expect((await api('DELETE', `/counters/${f.counters[1]}`, f.tokens.manager)).json().error.code).toBe('COUNTER_IN_USE');
    await api('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff);
    expect((await api('DELETE', `/counters/${c7}`, f.tokens.manager)).statusCode).toBe(204);
    expect((await site()).counters.map((c: { number: number }) => c.number)).not.toContain(7);
    expect((await api('PUT', `/counters/${c7}`, f.tokens.manager, { name: 'x' })).statusCode).toBe(404);

    // a service with a waiting ticket stays; once empty it goes, and leaves the counters' lists
    await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: tp });
    await expectManagersOnly('DELETE', `/services/${tp}`);
    const busy = await api('DELETE', `/services/${tp}`, f.tokens.manager);
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error).toMatchObject({ code: 'SERVICE_HAS_TICKETS', details: { count: 1 } });
    const waiting = await f.t.db.selectFrom('ticket').select('id').where('serviceId', '=', tp).executeTakeFirstOrThrow();
    await api('POST', `/tickets/${waiting.id}/cancel`, f.tokens.staff);
    expect((await api('DELETE', `/services/${tp}`, f.tokens.manager)).statusCode).toBe(204);
    const after = await site();
    expect(after.services.map((s: { id: string }) => s.id)).not.toContain(tp);
    expect(after.counters.find((c: { id: string }) => c.id === f.counters[2]).serviceIds).toEqual([f.services.CT, f.services.HT]);
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: tp })).statusCode).toBe(404);
  });

  // The kiosk showed two "A" tiles and printed a second A001 the same day: POST let a prefix in twice.
  it('refuses a new service with a prefix another active service holds (409 PREFIX_TAKEN), and changes nothing', async () => {
    const rows = () => f.t.db.selectFrom('service').select(['id', 'code', 'prefix', 'active']).where('siteId', '=', f.siteId).orderBy('id').execute();
    const before = await rows();
    const res = await api('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'HT2', name: { vi: 'Hộ tịch 2', en: 'Civil status 2' }, prefix: 'A' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'PREFIX_TAKEN', message: 'Prefix A is used by service HT' } });
    expect(await rows()).toEqual(before);
    // the same prefix at another site is no clash, and a deactivated service (TP, above) gave its prefix up
    expect((await api('POST', `/sites/${f.otherSiteId}/services`, f.tokens.admin, { code: 'HT2', name: { vi: 'x', en: 'x' }, prefix: 'A' })).statusCode).toBe(201);
    expect((await api('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'TP2', name: { vi: 'Tư vấn', en: 'Advice' }, prefix: 'T' })).statusCode).toBe(201);
  });

  it('of concurrent creates with one prefix exactly one succeeds; the others answer 409 PREFIX_TAKEN, never 500', async () => {
    const results = await Promise.all(['K1', 'K2', 'K3', 'K4', 'K5', 'K6'].map((code) =>
      api('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code, name: { vi: code, en: code }, prefix: 'K' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().error.code).toBe('PREFIX_TAKEN');
    const holders = await f.t.db.selectFrom('service').select('code').where('siteId', '=', f.siteId).where('prefix', '=', 'K').execute();
    expect(holders).toEqual([{ code: results.find((r) => r.statusCode === 201)!.json().code }]);
    // and the database refuses it by itself, whatever writes
    const hk = await f.t.db.selectFrom('service').selectAll().where('siteId', '=', f.siteId).where('prefix', '=', 'K').executeTakeFirstOrThrow();
    await expect(f.t.db.insertInto('service').values({ siteId: f.siteId, code: 'K9', name: JSON.stringify(hk.name), prefix: 'K', targetWaitSeconds: 600, position: 99 }).execute())
      .rejects.toMatchObject({ code: '23505', constraint: 'service_prefix_active_idx' });
  });

  it('of concurrent renames to one prefix exactly one succeeds', async () => {
    const codes = ['R1', 'R2', 'R3'];
    const ids: string[] = [];
    for (const [i, code] of codes.entries()) {
      ids.push((await api('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code, name: { vi: code, en: code }, prefix: `R${i + 1}` })).json().id);
    }
    const results = await Promise.all(ids.map((id) => api('PUT', `/services/${id}`, f.tokens.manager, { prefix: 'R' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().error.code).toBe('PREFIX_TAKEN');
    expect(await f.t.db.selectFrom('service').select('code').where('siteId', '=', f.siteId).where('prefix', '=', 'R').execute()).toHaveLength(1);
  });
});

describe('staff and devices', () => {
  it('lists the site\'s staff; a manager renames, resets a password, disables, removes; never an administrator or themselves', async () => {
    await expectManagersOnly('GET', `/sites/${f.siteId}/staff`);
    const list = (await api('GET', `/sites/${f.siteId}/staff`, f.tokens.manager)).json();
    expect(list.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['manager', 'canbo1', 'canbo2']));
    expect(list.find((u: { username: string }) => u.username === 'canbo1')).toMatchObject({ role: 'staff', active: true, siteIds: [f.siteId] });

    const canbo2 = f.userIds.canbo2!;
    const renamed = await api('PUT', `/users/${canbo2}`, f.tokens.manager, { displayName: 'Lê Thị Hai', role: 'manager' });
    expect(renamed.json()).toMatchObject({ id: canbo2, displayName: 'Lê Thị Hai', role: 'manager' });
    await api('PUT', `/users/${canbo2}`, f.tokens.manager, { role: 'staff' });
    // a new password signs the account out everywhere
    expect((await api('PUT', `/users/${canbo2}`, f.tokens.manager, { password: 'new-password-22' })).statusCode).toBe(200);
    expect((await api('GET', '/auth/me', f.tokens.staff2)).statusCode).toBe(401);
    expect((await api('POST', '/auth/login', undefined, { username: 'canbo2', password: 'new-password-22' })).statusCode).toBe(200);
    expect((await api('PUT', `/users/${canbo2}`, f.tokens.manager, { active: false })).json().active).toBe(false);
    expect((await api('POST', '/auth/login', undefined, { username: 'canbo2', password: 'new-password-22' })).statusCode).toBe(401);
    await api('PUT', `/users/${canbo2}`, f.tokens.manager, { active: true });

    const admin = (await f.t.db.selectFrom('appUser').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow()).id;
    const refusals: [string, object, string?][] = [
      [canbo2, { role: 'admin' }],
      [admin, { displayName: 'x' }],
      [f.userIds.manager!, { active: false }],
      [f.userIds.manager!, { role: 'staff' }],
      [f.userIds.tinh1!, { displayName: 'x' }], // staff of a site this manager does not manage
    ];
    for (const [user, body] of refusals) expect((await api('PUT', `/users/${user}`, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(403);
    for (const token of [f.tokens.staff, f.tokens.kiosk]) expect((await api('PUT', `/users/${canbo2}`, token, { displayName: 'x' })).statusCode).toBe(403);
    for (const body of [{ role: 'boss' }, { password: 'short' }, { username: 'x' }]) {
      expect((await api('PUT', `/users/${canbo2}`, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await api('PUT', '/users/00000000-0000-4000-8000-000000000000', f.tokens.manager, { displayName: 'x' })).statusCode).toBe(404);
    // an administrator may make an administrator
    expect((await api('PUT', `/users/${f.userIds.tinh1}`, f.tokens.admin, { displayName: 'Cán bộ tỉnh' })).statusCode).toBe(200);

    // membership: an administrator adds an account to another site; a manager removes one from theirs
    expect((await api('PUT', `/sites/${f.otherSiteId}/staff/${canbo2}`, f.tokens.manager)).statusCode).toBe(403);
    expect((await api('PUT', `/sites/${f.otherSiteId}/staff/${canbo2}`, f.tokens.admin)).json().siteIds.sort()).toEqual([f.siteId, f.otherSiteId].sort());
    // now canbo2 also belongs to a site this manager does not manage
    expect((await api('PUT', `/users/${canbo2}`, f.tokens.manager, { displayName: 'x' })).statusCode).toBe(403);
    await expectManagersOnly('DELETE', `/sites/${f.siteId}/staff/${canbo2}`);
    expect((await api('DELETE', `/sites/${f.siteId}/staff/${canbo2}`, f.tokens.manager)).statusCode).toBe(204);
    expect((await api('DELETE', `/sites/${f.siteId}/staff/${canbo2}`, f.tokens.manager)).statusCode).toBe(404);
    expect((await api('DELETE', `/sites/${f.siteId}/staff/${f.userIds.manager}`, f.tokens.manager)).statusCode).toBe(403);
    expect((await api('GET', `/sites/${f.siteId}/staff`, f.tokens.manager)).json().map((u: { id: string }) => u.id)).not.toContain(canbo2);
  });

  it('devices: listed with online, renamed, a new pairing code, revoked', async () => {
    await listen(f.tokens.display);
    const list = (await api('GET', `/sites/${f.siteId}/devices`, f.tokens.manager)).json();
    expect(list.find((d: { id: string }) => d.id === f.deviceIds.display)).toMatchObject({ kind: 'display', online: true, revoked: false });
    expect(list.find((d: { id: string }) => d.id === f.deviceIds.rating)).toMatchObject({ kind: 'rating', online: false, lastSeenAt: null });
    await expectManagersOnly('PUT', `/devices/${f.deviceIds.display}`, { name: 'Màn hình sảnh' });
    expect((await api('PUT', `/devices/${f.deviceIds.display}`, f.tokens.manager, { name: 'Màn hình sảnh' })).statusCode).toBe(204);
    expect((await api('PUT', `/devices/${f.deviceIds.display}`, f.tokens.manager, { name: '' })).statusCode).toBe(400);
    expect((await api('GET', `/sites/${f.siteId}/devices`, f.tokens.manager)).json().find((d: { id: string }) => d.id === f.deviceIds.display).name).toBe('Màn hình sảnh');
    const code = await api('POST', `/devices/${f.deviceIds.display}/pairing-code`, f.tokens.manager);
    expect(code.json().pairingCode).toMatch(/^\d{6}$/);
    expect((await api('DELETE', `/devices/${f.deviceIds.display}`, f.tokens.manager)).statusCode).toBe(204);
    expect((await api('GET', `/sites/${f.siteId}/devices`, f.tokens.manager)).json().find((d: { id: string }) => d.id === f.deviceIds.display)).toMatchObject({ revoked: true, online: false });
  });

  it('documents every new route in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const expected: [string, string][] = [
      ['/api/v1/sites/{siteId}', 'put'], ['/api/v1/sites/{siteId}/opening-hours', 'put'], ['/api/v1/sites/{siteId}/holidays', 'put'],
      ['/api/v1/sites/{siteId}/rating', 'put'], ['/api/v1/sites/{siteId}/announcement', 'put'], ['/api/v1/sites/{siteId}/priority-groups', 'put'],
      ['/api/v1/services/{serviceId}', 'put'], ['/api/v1/services/{serviceId}', 'delete'], ['/api/v1/services/{serviceId}/procedures', 'put'],
      ['/api/v1/counters/{counterId}', 'put'], ['/api/v1/counters/{counterId}', 'delete'], ['/api/v1/sites/{siteId}/staff', 'get'],
      ['/api/v1/users/{userId}', 'put'], ['/api/v1/sites/{siteId}/staff/{userId}', 'delete'], ['/api/v1/devices/{deviceId}', 'put'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });
});
