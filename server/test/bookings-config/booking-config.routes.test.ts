import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOOKING_SETTINGS, type BookingSettings, type CapacityBlock } from '@qms/protocol';
import { AuthService } from '../../src/auth/auth.service.ts';
import { apiFixture, bearer, listenLocally, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { SocketClients } from '../support/sockets.ts';

// The manager's appointment settings (routes/booking-config.routes.ts): who may read and change
// them, what is refused (and then nothing changes), what is stored, the audit entries, the
// site:updated the screens hear, and the capacity proposal's arithmetic.
//
// The demo site PHUONG-DONG-CAM opens Mon–Fri 07:30–11:30 and 13:30–17:00, Sat 07:30–11:30.
// Counters 1 [HT], 2 [HT, CT], 3 [CT], 4 [DD], 5 [KD, XH], 6 [CA].

let f: ApiFixture;
let base: string;
let otherManager: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Ho Chi Minh City
const sockets = new SocketClients(() => base);

type Method = 'GET' | 'PUT';
const api = (method: Method, url: string, token?: string, payload?: unknown) => f.app.inject({
  method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}), ...(payload !== undefined ? { payload: payload as object } : {}),
});
const audit = async (action: string) => f.t.db.selectFrom('auditLog').selectAll().where('action', '=', action).orderBy('id').execute();
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};


beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  const auth = new AuthService(f.t.db);
  await auth.createUser({ username: 'quanly-tinh', password: PASSWORD, displayName: 'Quản lý tỉnh', role: 'manager', siteIds: [f.otherSiteId] });
  otherManager = (await auth.login('quanly-tinh', PASSWORD)).token;
  base = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

/** Everyone but the site's managers and administrators is refused, and nothing is written. */
async function expectManagersOnly(method: Method, url: string, payload?: unknown) {
  const before = (await f.t.db.selectFrom('auditLog').select('id').execute()).length;
  expect((await api(method, url, undefined, payload)).statusCode, `${method} ${url} anonymous`).toBe(401);
  for (const [who, token] of Object.entries({ staff: f.tokens.staff, otherManager, kiosk: f.tokens.kiosk, display: f.tokens.display })) {
    const res = await api(method, url, token, payload);
    expect(res.statusCode, `${method} ${url} as ${who}`).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  }
  expect((await f.t.db.selectFrom('auditLog').select('id').execute()).length).toBe(before);
}

const settingsOf = async () => (await f.t.db.selectFrom('site').select('settings').where('id', '=', f.siteId).executeTakeFirstOrThrow()).settings;
const capacityRows = async () => f.t.db.selectFrom('bookingCapacity').selectAll().orderBy('serviceId').orderBy('weekday').orderBy('starts').execute();

describe('booking settings', () => {
  const mine: BookingSettings = { ...DEFAULT_BOOKING_SETTINGS, enabled: true, remoteEnabled: true, blockMinutes: 60, lateMinutes: 20, bookingShare: 0.4 };

  it('reads the defaults until a manager sets them; managers of the site and admins only', async () => {
    await expectManagersOnly('GET', `/sites/${f.siteId}/booking-settings`);
    await expectManagersOnly('PUT', `/sites/${f.siteId}/booking-settings`, mine);
    const res = await api('GET', `/sites/${f.siteId}/booking-settings`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ settings: DEFAULT_BOOKING_SETTINGS });
    expect((await api('GET', `/sites/${f.siteId}/booking-settings`, f.tokens.admin)).statusCode).toBe(200);
    expect((await settingsOf()).bookings).toBeUndefined();
  });

  it('refuses a partial or invalid object, and nothing changes', async () => {
    const before = await settingsOf();
    for (const body of [
      { enabled: true },
      { ...mine, blockMinutes: 25 },
      { ...mine, bookingShare: 0 },
      { ...mine, daysAhead: 61 },
      { ...mine, lateMinutes: -1 },
      { ...mine, surprise: 1 },
    ]) {
      const res = await api('PUT', `/sites/${f.siteId}/booking-settings`, f.tokens.manager, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await settingsOf()).toEqual(before);
    expect(await audit('booking_settings.update')).toHaveLength(0);
  });

  it('stores the whole object in site.settings.bookings, writes its changes to the audit log, tells the screens', async () => {
    const { events: display } = await sockets.listen({ token: f.tokens.display });
    const res = await api('PUT', `/sites/${f.siteId}/booking-settings`, f.tokens.manager, mine);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ settings: mine });
    expect((await settingsOf()).bookings).toEqual(mine);
    expect((await api('GET', `/sites/${f.siteId}/booking-settings`, f.tokens.manager)).json()).toEqual({ settings: mine });
    const [entry, ...more] = await audit('booking_settings.update');
    expect(more).toHaveLength(0);
    expect(entry).toMatchObject({ siteId: f.siteId, actorName: 'manager', targetType: 'site', targetId: f.siteId });
    expect(entry!.changes).toEqual({
      enabled: { from: false, to: true }, remoteEnabled: { from: false, to: true }, blockMinutes: { from: 30, to: 60 },
      lateMinutes: { from: 15, to: 20 }, bookingShare: { from: 0.5, to: 0.4 },
    });
    await until(() => display.some((e) => e.name === 'site:updated'));
    expect(display.find((e) => e.name === 'site:updated')!.payload).toEqual({ siteId: f.siteId, parts: ['bookings'] });
    // the same again: no entry
    await api('PUT', `/sites/${f.siteId}/booking-settings`, f.tokens.manager, mine);
    expect(await audit('booking_settings.update')).toHaveLength(1);
    // back to 30-minute blocks for what follows
    expect((await api('PUT', `/sites/${f.siteId}/booking-settings`, f.tokens.admin, { ...mine, blockMinutes: 30, bookingShare: 0.5 })).statusCode).toBe(200);
  });
});

describe('booking capacity', () => {
  const block = (code: string, weekday: number, starts: string, capacity: number): CapacityBlock => ({ serviceId: f.services[code]!, weekday, starts, capacity });

  it('managers of the site only', async () => {
    await expectManagersOnly('GET', `/sites/${f.siteId}/booking-capacity`);
    await expectManagersOnly('PUT', `/sites/${f.siteId}/booking-capacity`, { blocks: [] });
    await expectManagersOnly('GET', `/sites/${f.siteId}/booking-capacity/proposal`);
  });

  it('refuses blocks outside the opening hours, not aligned, of another site or twice, as a whole: nothing changes', async () => {
    const good = [block('HT', 1, '07:30', 3), block('HT', 1, '08:00', 2)];
    expect((await api('PUT', `/sites/${f.siteId}/booking-capacity`, f.tokens.manager, { blocks: good })).statusCode).toBe(200);
    const before = await capacityRows();
    const entries = (await audit('booking_capacity.update')).length;
    const otherService = (await f.t.db.selectFrom('service').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow()).id;
    const cases: [CapacityBlock, string][] = [
      [block('HT', 7, '08:00', 1), 'outside_hours'], // Sunday: closed
      [block('HT', 6, '13:30', 1), 'outside_hours'], // Saturday afternoon: closed
      [block('HT', 1, '11:30', 1), 'outside_hours'], // the lunch break
      [block('HT', 1, '11:15', 1), 'outside_hours'], // ends after 11:30
      [block('HT', 1, '07:00', 1), 'outside_hours'], // before opening
      [block('HT', 1, '16:45', 1), 'outside_hours'], // 16:45 + 30 > 17:00
      [block('HT', 1, '08:15', 1), 'not_aligned'],
      [block('HT', 2, '13:45', 1), 'not_aligned'],
      [{ serviceId: otherService, weekday: 1, starts: '08:00', capacity: 1 }, 'unknown_service'],
      [block('HT', 1, '07:30', 1), 'duplicate'],
    ];
    for (const [bad, reason] of cases) {
      const res = await api('PUT', `/sites/${f.siteId}/booking-capacity`, f.tokens.manager, { blocks: [...good, bad] });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_CAPACITY');
      expect(res.json().error.details.problems).toEqual([{ serviceId: bad.serviceId, weekday: bad.weekday, starts: bad.starts, reason }]);
    }
    for (const payload of [{ blocks: [{ ...block('HT', 0, '08:00', 1) }] }, { blocks: [block('HT', 1, '8:00', 1)] }, { blocks: [block('HT', 1, '08:00', -1)] }]) {
      expect((await api('PUT', `/sites/${f.siteId}/booking-capacity`, f.tokens.manager, payload)).statusCode).toBe(400);
    }
    expect(await capacityRows()).toEqual(before);
    expect(await audit('booking_capacity.update')).toHaveLength(entries);
  });

  it('replaces every block of the site at once; the audit entry lists the blocks that changed', async () => {
    const blocks = [block('HT', 1, '07:30', 4), block('CT', 6, '11:00', 1), block('DD', 5, '16:30', 0)];
    const res = await api('PUT', `/sites/${f.siteId}/booking-capacity`, f.tokens.manager, { blocks });
    expect(res.statusCode).toBe(200);
    const sorted = (b: CapacityBlock[]) => [...b].sort((x, y) => `${x.serviceId}${x.weekday}${x.starts}`.localeCompare(`${y.serviceId}${y.weekday}${y.starts}`));
    expect(sorted(res.json().blocks)).toEqual(sorted(blocks));
    expect(sorted((await api('GET', `/sites/${f.siteId}/booking-capacity`, f.tokens.manager)).json().blocks)).toEqual(sorted(blocks));
    expect(await capacityRows()).toHaveLength(3);
    const last = (await audit('booking_capacity.update')).at(-1)!;
    expect(last.changes).toEqual({
      [`${f.services.HT} 1 07:30`]: { from: 3, to: 4 },
      [`${f.services.HT} 1 08:00`]: { from: 2, to: null },
      [`${f.services.CT} 6 11:00`]: { from: null, to: 1 },
      [`${f.services.DD} 5 16:30`]: { from: null, to: 0 },
    });
    // an empty list clears them
    expect((await api('PUT', `/sites/${f.siteId}/booking-capacity`, f.tokens.admin, { blocks: [] })).json()).toEqual({ blocks: [] });
    expect(await capacityRows()).toHaveLength(0);
  });

  it('proposes floor(blockMinutes·60 / mean service time × counters × bookingShare) for each block inside the opening hours', async () => {
    // CT: three served tickets, 300 s, 600 s and 900 s from call to finish (mean 600 s); HT none (its target wait)
    const ct = f.services.CT!;
    const issued = new Date('2026-11-23T02:00:00Z');
    for (const [i, seconds] of [300, 600, 900].entries()) {
      const calledAt = new Date(issued.getTime() + (i + 1) * 3_600_000);
      await f.t.db.insertInto('ticket').values({
        siteId: f.siteId, serviceId: ct, issuedServiceId: ct, localDate: '2026-11-23', number: 900 + i, code: `B${900 + i}`, status: 'done',
        issuedAt: issued, queuedAt: issued, calledAt, finishedAt: new Date(calledAt.getTime() + seconds * 1000),
        publicId: `proposal-${i}`, priorityRank: null, deviceId: null, counterId: null, staffId: null, startedAt: calledAt,
        estimatedWaitSeconds: null, positionAtIssue: null,
      }).execute();
    }
    await f.t.db.updateTable('service').set({ targetWaitSeconds: 900 }).where('id', '=', f.services.HT!).execute();
    const res = await api('GET', `/sites/${f.siteId}/booking-capacity/proposal`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    const blocks: (CapacityBlock & { counters: number; serviceSeconds: number })[] = res.json().blocks;
    const of = (code: string) => blocks.filter((b) => b.serviceId === f.services[code]);
    // 30-minute blocks: Mon–Fri 8 in the morning + 7 in the afternoon, Saturday 8, Sunday none
    expect(of('HT')).toHaveLength(5 * 15 + 8);
    expect(of('HT').filter((b) => b.weekday === 7)).toHaveLength(0);
    expect(of('HT').filter((b) => b.weekday === 6).map((b) => b.starts)).toEqual(['07:30', '08:00', '08:30', '09:00', '09:30', '10:00', '10:30', '11:00']);
    expect(of('HT').filter((b) => b.weekday === 2).map((b) => b.starts).slice(8)).toEqual(['13:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30']);
    // HT: 1800 / 900 × 2 counters × 0.5 = 2; CT: 1800 / 600 × 2 × 0.5 = 3; DD (target 1200 in the demo): 1800 / 1200 × 1 × 0.5 = 0.75 → 0
    expect(new Set(of('HT').map((b) => `${b.capacity} ${b.counters} ${b.serviceSeconds}`))).toEqual(new Set(['2 2 900']));
    expect(new Set(of('CT').map((b) => `${b.capacity} ${b.counters} ${b.serviceSeconds}`))).toEqual(new Set(['3 2 600']));
    const dd = of('DD')[0]!;
    expect(dd.capacity).toBe(Math.floor((1800 / dd.serviceSeconds) * 1 * 0.5));
    // nothing was saved
    expect(await capacityRows()).toHaveLength(0);
  });
});

describe('procedure information', () => {
  const info = {
    steps: [{ vi: 'Nộp tờ khai', en: 'Hand in the form' }, { vi: 'Nhận giấy hẹn', en: 'Take the receipt' }],
    documents: [{ vi: 'Giấy chứng sinh', en: 'Birth certificate from the hospital' }],
    processingTime: { vi: 'Trong ngày', en: 'Same day' },
    fees: { vi: 'Miễn phí', en: 'Free' },
    url: 'https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193',
  };

  it('managers of the site only; 404 for a procedure the site does not list; 400 for a bad body, and nothing changes', async () => {
    await expectManagersOnly('PUT', `/sites/${f.siteId}/procedures/1.001193/info`, info);
    const res = await api('PUT', `/sites/${f.siteId}/procedures/9.999999/info`, f.tokens.manager, info);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('UNKNOWN_PROCEDURE');
    for (const body of [{ ...info, url: 'javascript:alert(1)' }, { ...info, steps: [{ vi: 'x' }] }, { ...info, other: 1 }]) {
      expect((await api('PUT', `/sites/${f.siteId}/procedures/1.001193/info`, f.tokens.manager, body)).statusCode).toBe(400);
    }
    const row = await f.t.db.selectFrom('procedure').select('info').where('code', '=', '1.001193').executeTakeFirstOrThrow();
    expect(row.info).toEqual({});
    expect(await audit('procedure.info')).toHaveLength(0);
  });

  it('is stored, shown with the procedure in the site configuration, and in the audit log', async () => {
    const res = await api('PUT', `/sites/${f.siteId}/procedures/1.001193/info`, f.tokens.manager, info);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ info });
    const site = (await api('GET', `/sites/${f.siteId}`, f.tokens.manager)).json();
    const listed = site.services.flatMap((s: { procedures: { code: string; info?: unknown }[] }) => s.procedures).find((p: { code: string }) => p.code === '1.001193');
    expect(listed.info).toEqual(info);
    const [entry] = await audit('procedure.info');
    expect(entry).toMatchObject({ siteId: f.siteId, targetType: 'procedure', targetId: '1.001193' });
    expect(Object.keys(entry!.changes as object).sort()).toEqual(['documents', 'fees', 'processingTime', 'steps', 'url']);
    // a field left out is cleared
    const { fees: _fees, ...less } = info;
    await api('PUT', `/sites/${f.siteId}/procedures/1.001193/info`, f.tokens.manager, less);
    expect((await audit('procedure.info'))[1]!.changes).toEqual({ fees: { from: info.fees, to: null } });
    // another site's manager cannot touch it, even by a code the other site also lists
    expect((await api('PUT', `/sites/${f.otherSiteId}/procedures/1.001193/info`, otherManager, info)).statusCode).toBe(404);
  });

  it('survives a save of the field\'s procedure list, which renames one and drops another', async () => {
    await api('PUT', `/sites/${f.siteId}/procedures/1.000894/info`, f.tokens.manager, info);
    const service = (await api('GET', `/sites/${f.siteId}`, f.tokens.manager)).json().services.find((s: { code: string }) => s.code === 'HT');
    const procedures = service.procedures
      .filter((p: { code: string }) => p.code !== '1.000656')
      .map((p: { code: string; name: { vi: string; en: string }; processingDays: number | null }) => ({
        code: p.code, name: p.code === '1.000894' ? { vi: 'Đăng ký kết hôn (mới)', en: 'Marriage registration (new)' } : p.name, processingDays: p.processingDays,
      }));
    expect((await api('PUT', `/services/${service.id}/procedures`, f.tokens.manager, { procedures })).statusCode).toBe(200);
    const after = (await api('GET', `/sites/${f.siteId}`, f.tokens.manager)).json().services.find((s: { code: string }) => s.code === 'HT').procedures;
    const married = after.find((p: { code: string }) => p.code === '1.000894');
    expect(married).toMatchObject({ name: { vi: 'Đăng ký kết hôn (mới)' }, info });
    expect(after.some((p: { code: string }) => p.code === '1.000656')).toBe(false);
  });
});
