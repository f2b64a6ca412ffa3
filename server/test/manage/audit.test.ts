import { createCanvas } from '@napi-rs/canvas';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '@qms/protocol';
import { AuthService } from '../../src/auth/auth.service.ts';
import { CHANGED, scrub } from '../../src/audit/audit.service.ts';
import { EMAIL_SECRET_FIELDS } from '../../src/notifications/channels/email.ts';
import { SMS_SECRET_FIELDS } from '../../src/notifications/channels/sms/index.ts';
import { ZALO_SECRET_FIELDS } from '../../src/notifications/channels/zalo.ts';
import { ADMIN_PASSWORD, apiFixture, bearer, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// The audit log (docs/audit.md): each configuration, account, role and sign-in change writes
// exactly one entry, with who, where, what and what changed, and never a password, a secret, a
// token or a leader's address; queue work writes none. The table refuses to be rewritten. A
// manager reads their sites' entries only; filters, pages, bad queries, the CSV export.

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Ho Chi Minh City
/** the other site's manager */
let otherManager: string;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const api = (method: Method, url: string, token?: string, payload?: unknown) => f.app.inject({
  method, url: `/api/v1${url}`, ...(token ? { headers: bearer(token) } : {}),
  ...(payload !== undefined ? { payload: payload as object } : method === 'POST' || method === 'PUT' ? { payload: {} } : {}),
});
const ok = async (method: Method, url: string, token: string, payload?: unknown) => {
  const res = await api(method, url, token, payload);
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.statusCode === 204 ? null : res.json();
};

/** Secrets and personal data the requests below send: none may ever be in the log. */
const NEVER = [PASSWORD, ADMIN_PASSWORD, 'wrong-password-typed', 'new-secret-pass-1', 'reset-pass-2222', 'webhook-secret-0123456789',
  'Bearer gateway-token-xyz', 'smtp-password-77', '0912 111 111', '84912111111', '0912111111', '0987 654 321', '84987654321', 'token=abc123', 'user:pw@'];

let mark = '0';
/** The entries written since the last call. */
async function fresh() {
  const rows = await f.t.db.selectFrom('auditLog').selectAll().where('id', '>', mark).orderBy('id').execute();
  if (rows.length) mark = rows[rows.length - 1]!.id;
  return rows;
}
/** Exactly one new entry, and it is this one. */
async function one(expected: Record<string, unknown>) {
  const rows = await fresh();
  expect(rows.map((r) => r.action), JSON.stringify(expected)).toEqual([expected.action]);
  expect(rows[0]).toMatchObject(expected);
  return rows[0]!;
}

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  const auth = new AuthService(f.t.db);
  await auth.createUser({ username: 'quanly-tinh', password: PASSWORD, displayName: 'Quản lý tỉnh', role: 'manager', siteIds: [f.otherSiteId] });
  otherManager = (await auth.login('quanly-tinh', PASSWORD)).token;
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

describe('what is recorded', () => {
  it('starts empty: the fixture made its accounts without the app', async () => {
    expect(await fresh()).toEqual([]);
  });

  it('queue work is not configuration: tickets, calls and counters write nothing', async () => {
    const ticket = await ok('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    expect(ticket.ticket.code).toBeTruthy();
    const counter = f.counters[1]!;
    await ok('POST', `/counters/${counter}/open`, f.tokens.staff);
    const called = await ok('POST', `/counters/${counter}/call-next`, f.tokens.staff);
    await ok('POST', `/tickets/${called.ticket.id}/no-show`, f.tokens.staff);
    await ok('POST', `/counters/${counter}/close`, f.tokens.staff);
    expect(await fresh()).toEqual([]);
  });

  it('sign-ins, failed sign-ins (the username, never the password) and sign-outs', async () => {
    const manager = { actorId: f.userIds.manager, actorName: 'manager', actorKind: 'user', siteId: f.siteId, targetType: 'user', targetId: f.userIds.manager };
    const login = await api('POST', '/auth/login', undefined, { username: 'manager', password: PASSWORD });
    expect(login.statusCode).toBe(200);
    const before = clock.now().getTime();
    const entry = await one({ action: 'login', ...manager, ip: '127.0.0.1' });
    // the app's clock (it ticks a millisecond a reading)
    expect(before - entry.at.getTime()).toBeGreaterThan(0);
    expect(before - entry.at.getTime()).toBeLessThan(1000);

    expect((await api('POST', '/auth/login', undefined, { username: 'manager', password: 'wrong-password-typed' })).statusCode).toBe(401);
    await one({ action: 'login_failed', actorId: null, actorName: 'manager', siteId: f.siteId, targetId: f.userIds.manager, changes: { username: 'manager', reason: 'wrong_password' } });
    expect((await api('POST', '/auth/login', undefined, { username: 'nobody-here', password: 'wrong-password-typed' })).statusCode).toBe(401);
    await one({ action: 'login_failed', actorName: 'nobody-here', siteId: null, targetId: null, changes: { username: 'nobody-here', reason: 'unknown_or_disabled_account' } });

    expect((await api('POST', '/auth/logout', login.json().token)).statusCode).toBe(204);
    await one({ action: 'logout', ...manager });
  });

  it('the site and its settings: {field: {from, to}}, one entry per change, none for a change that changes nothing', async () => {
    await ok('PUT', `/sites/${f.siteId}`, f.tokens.manager, { name: 'Trung tâm Đồng Cam', serviceOrder: 'strict' });
    await one({
      action: 'site.update', actorName: 'manager', actorKind: 'user', siteId: f.siteId, targetType: 'site', targetId: f.siteId,
      changes: { name: { from: expect.any(String), to: 'Trung tâm Đồng Cam' }, serviceOrder: { from: 'longest_wait', to: 'strict' } },
    });
    await ok('PUT', `/sites/${f.siteId}`, f.tokens.manager, { name: 'Trung tâm Đồng Cam' });
    expect(await fresh()).toEqual([]);

    await ok('PUT', `/sites/${f.siteId}/opening-hours`, f.tokens.manager, { openingHours: [{ weekday: 1, opens: '07:30', closes: '11:30' }] });
    const hours = await one({ action: 'opening_hours.update', siteId: f.siteId });
    expect(hours.changes.openingHours).toMatchObject({ to: [{ weekday: 1, opens: '07:30', closes: '11:30' }] });
    expect((hours.changes.openingHours as { from: unknown[] }).from.length).toBeGreaterThan(1);

    await ok('PUT', `/sites/${f.siteId}/holidays`, f.tokens.manager, { holidays: [{ date: '2027-01-01', name: 'Tết Dương lịch' }] });
    await one({ action: 'holidays.update', changes: { holidays: { to: [{ date: '2027-01-01', name: 'Tết Dương lịch' }] } } });

    const scale = [{ score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } }, { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' }, asksReason: true }];
    await ok('PUT', `/sites/${f.siteId}/rating`, f.tokens.manager, { ratingScale: scale, ratingReasons: [] });
    await one({ action: 'rating.update', changes: { ratingScale: { to: scale } } });

    await ok('PUT', `/sites/${f.siteId}/announcement`, f.tokens.manager, { announcement: { vi: 'Mời số {code} đến quầy {counter}', en: '' } });
    await one({ action: 'announcement.update', changes: { announcement: { to: { vi: 'Mời số {code} đến quầy {counter}', en: '' } } } });

    await ok('PUT', `/sites/${f.siteId}/priority-groups`, f.tokens.manager, { priorityGroups: [{ code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 }] });
    await one({ action: 'priority_groups.update', changes: { priorityGroups: { to: [{ code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 }] } } });

    const site = await ok('POST', '/sites', f.tokens.admin, { code: 'XA-MOI', name: 'UBND xã Mới' });
    await one({ action: 'site.create', actorName: 'admin', actorId: f.userIds.admin ?? expect.any(String), siteId: site.id, targetId: site.id, changes: { code: 'XA-MOI', name: 'UBND xã Mới' } });
  });

  it('services, their procedures, counters', async () => {
    const service = await ok('POST', `/sites/${f.siteId}/services`, f.tokens.manager, { code: 'TN', name: { vi: 'Tài nguyên', en: 'Resources' }, prefix: 'T' });
    await one({ action: 'service.create', siteId: f.siteId, targetType: 'service', targetId: service.id, changes: { code: 'TN', prefix: 'T', name: { vi: 'Tài nguyên', en: 'Resources' } } });
    await ok('PUT', `/services/${service.id}`, f.tokens.manager, { name: { vi: 'Tài nguyên – Môi trường', en: 'Environment' }, targetWaitSeconds: 600 });
    await one({
      action: 'service.update', targetId: service.id,
      changes: { name: { from: { vi: 'Tài nguyên', en: 'Resources' }, to: { vi: 'Tài nguyên – Môi trường', en: 'Environment' } }, targetWaitSeconds: { from: 900, to: 600 } },
    });
    const procedures = [{ code: '1.001193', name: { vi: 'Đăng ký khai sinh', en: 'Birth registration' }, processingDays: 1 }];
    await ok('PUT', `/services/${service.id}/procedures`, f.tokens.manager, { procedures });
    await one({ action: 'service.procedures', changes: { procedures: { from: [], to: procedures } } });

    const counter = await ok('POST', `/sites/${f.siteId}/counters`, f.tokens.manager, { number: 42, name: 'Quầy 42', serviceIds: [service.id] });
    await one({ action: 'counter.create', targetType: 'counter', targetId: counter.id, changes: { number: 42, serviceIds: [service.id] } });
    await ok('PUT', `/counters/${counter.id}`, f.tokens.manager, { name: 'Quầy bốn hai', serviceIds: [] });
    await one({ action: 'counter.update', changes: { name: { from: 'Quầy 42', to: 'Quầy bốn hai' }, serviceIds: { from: [service.id], to: [] } } });
    await ok('DELETE', `/counters/${counter.id}`, f.tokens.manager);
    await one({ action: 'counter.deactivate', targetId: counter.id, changes: { active: { from: true, to: false } } });
    await ok('DELETE', `/services/${service.id}`, f.tokens.manager);
    await one({ action: 'service.deactivate', targetId: service.id, changes: { code: 'TN', active: { from: true, to: false } } });
  });

  it('accounts: creation, name, role, password (never itself), active flag, sites, photo', async () => {
    const user = await ok('POST', `/sites/${f.siteId}/staff`, f.tokens.manager, { username: 'canbo9', password: 'new-secret-pass-1', displayName: 'Cán bộ 9', role: 'staff' });
    await one({ action: 'staff.create', siteId: f.siteId, targetType: 'user', targetId: user.id, changes: { username: 'canbo9', role: 'staff', password: { changed: true } } });
    await ok('PUT', `/users/${user.id}`, f.tokens.manager, { role: 'manager' });
    await one({ action: 'user.role', targetId: user.id, siteId: f.siteId, changes: { role: { from: 'staff', to: 'manager' } } });
    await ok('PUT', `/users/${user.id}`, f.tokens.manager, { displayName: 'Cán bộ Chín' });
    await one({ action: 'user.update', changes: { displayName: { from: 'Cán bộ 9', to: 'Cán bộ Chín' } } });

    // a session of the account, ended by the new password
    expect((await api('POST', '/auth/login', undefined, { username: 'canbo9', password: 'new-secret-pass-1' })).statusCode).toBe(200);
    await one({ action: 'login', actorName: 'canbo9' });
    await ok('PUT', `/users/${user.id}`, f.tokens.manager, { password: 'reset-pass-2222' });
    await one({ action: 'user.password', changes: { password: { changed: true }, sessionsEnded: 1 } });
    await ok('PUT', `/users/${user.id}`, f.tokens.manager, { active: false });
    await one({ action: 'user.active', changes: { active: { from: true, to: false } } });
    // two aspects at once: one entry each
    await ok('PUT', `/users/${user.id}`, f.tokens.admin, { active: true, role: 'staff' });
    expect((await fresh()).map((r) => r.action)).toEqual(['user.role', 'user.active']);

    await ok('PUT', `/sites/${f.otherSiteId}/staff/${user.id}`, f.tokens.admin);
    await one({ action: 'membership.add', siteId: f.otherSiteId, targetId: user.id, actorName: 'admin' });
    await ok('DELETE', `/sites/${f.otherSiteId}/staff/${user.id}`, f.tokens.admin);
    await one({ action: 'membership.remove', siteId: f.otherSiteId, targetId: user.id });

    const canvas = createCanvas(64, 64);
    canvas.getContext('2d').fillRect(0, 0, 32, 32);
    const photo = await f.app.inject({ method: 'PUT', url: `/api/v1/users/${user.id}/photo`, headers: { ...bearer(f.tokens.manager), 'content-type': 'image/png' }, payload: await canvas.encode('png') });
    expect(photo.statusCode, photo.body).toBe(200);
    await one({ action: 'user.photo.update', targetId: user.id, changes: { photo: { width: 64, height: 64 } } });
    await ok('DELETE', `/users/${user.id}/photo`, f.tokens.manager);
    await one({ action: 'user.photo.remove', targetId: user.id });
  });

  it('devices: registration, pairing (the device is the actor), name, zone, printer, revocation; never a code or a token', async () => {
    const made = await ok('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk tầng 2' });
    await one({ action: 'device.create', targetType: 'device', targetId: made.device.id, changes: { kind: 'kiosk', name: 'Kiosk tầng 2' } });
    const code = await ok('POST', `/devices/${made.device.id}/pairing-code`, f.tokens.manager);
    await one({ action: 'device.pairing_code', targetId: made.device.id, changes: { pairingCode: { changed: true } } });
    const paired = await api('POST', '/devices/pair', undefined, { code: code.pairingCode });
    expect(paired.statusCode).toBe(200);
    await one({ action: 'device.paired', actorKind: 'device', actorName: 'Kiosk tầng 2', actorId: null, siteId: f.siteId, changes: { token: { changed: true } } });
    await ok('PUT', `/devices/${made.device.id}`, f.tokens.manager, { name: 'Kiosk sảnh 2' });
    await one({ action: 'device.update', changes: { name: { from: 'Kiosk tầng 2', to: 'Kiosk sảnh 2' } } });
    await ok('PUT', `/devices/${f.deviceIds.display}/zone`, f.tokens.manager, { counterIds: [f.counters[1]] });
    await one({ action: 'device.zone', targetId: f.deviceIds.display, changes: { zone: { from: null, to: { counterIds: [f.counters[1]] } } } });
    await ok('PUT', `/devices/${made.device.id}/printer`, f.tokens.manager, { kind: 'agent' });
    await one({ action: 'printer.update', targetId: made.device.id, changes: { printer: { from: null, to: { kind: 'agent' } } } });
    await ok('DELETE', `/devices/${made.device.id}`, f.tokens.manager);
    await one({ action: 'device.revoke', targetId: made.device.id, changes: { name: 'Kiosk sảnh 2' } });
    const text = JSON.stringify(await f.t.db.selectFrom('auditLog').selectAll().execute());
    for (const secret of [code.pairingCode, made.token, made.pairingCode, paired.json().token]) expect(text).not.toContain(secret);
  });

  it('notifications: settings, channels (which secrets changed, never their values), webhooks, leaders (never their address), templates, integration keys', async () => {
    await ok('PUT', `/sites/${f.siteId}/notification-settings`, f.tokens.manager, { offerPhone: true, citizenChannel: 'sms', aheadThreshold: 3, retentionHours: null, leaderWaitOverMinutes: 15 });
    await one({ action: 'notification_settings.update', changes: { leaderWaitOverMinutes: { from: 10, to: 15 } } });

    const settings = { provider: 'http', url: 'https://sms-gateway.example.vn/send', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":{{to}},"text":{{text}}}', encoding: 'ucs2' };
    await ok('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager, { enabled: true, settings, secrets: { authorization: 'Bearer gateway-token-xyz' } });
    await one({ action: 'notification_channel.update', targetType: 'notification_channel', targetId: 'sms', changes: { enabled: { from: null, to: true }, 'settings.url': { from: null, to: settings.url }, secrets: { authorization: { changed: true } } } });
    // the secret kept (left out): no secret in the entry; a setting changed
    await ok('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager, { enabled: true, settings: { ...settings, encoding: 'unaccented' } });
    const kept = await one({ action: 'notification_channel.update', changes: { 'settings.encoding': { from: 'ucs2', to: 'unaccented' } } });
    expect(kept.changes).not.toHaveProperty('secrets');

    const webhook = await ok('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager, { url: 'https://user:pw@hooks.example.vn/qms?token=abc123', secret: 'webhook-secret-0123456789', events: ['ticket:called'] });
    await one({ action: 'webhook.create', targetId: webhook.webhook.id, changes: { url: 'https://hooks.example.vn/qms', events: ['ticket:called'], secret: { changed: true } } });
    await ok('DELETE', `/webhooks/${webhook.webhook.id}`, f.tokens.manager);
    await one({ action: 'webhook.delete', targetId: webhook.webhook.id });

    const leader = await ok('POST', `/sites/${f.siteId}/notification-recipients`, f.tokens.manager, { name: 'Chủ tịch UBND', channel: 'sms', address: '0912 111 111', topics: ['complaint'] });
    await one({ action: 'recipient.create', changes: { name: 'Chủ tịch UBND', channel: 'sms', topics: ['complaint'], address: { changed: true } } });
    await ok('PUT', `/notification-recipients/${leader.recipient.id}`, f.tokens.manager, { name: 'Chủ tịch UBND', channel: 'sms', address: '0987 654 321', topics: ['complaint', 'wait'] });
    await one({ action: 'recipient.update', changes: { topics: { from: ['complaint'], to: ['complaint', 'wait'] }, address: { changed: true } } });
    await ok('DELETE', `/notification-recipients/${leader.recipient.id}`, f.tokens.manager);
    await one({ action: 'recipient.delete', changes: { name: 'Chủ tịch UBND' } });

    await ok('PUT', `/sites/${f.siteId}/notification-templates/ticket_called/vi`, f.tokens.manager, { body: 'Mời {code} đến quầy {counter}' });
    await one({ action: 'template.update', targetId: 'ticket_called/vi', changes: { body: { to: 'Mời {code} đến quầy {counter}' } } });
    await ok('DELETE', `/sites/${f.siteId}/notification-templates/ticket_called/vi`, f.tokens.manager);
    await one({ action: 'template.reset', targetId: 'ticket_called/vi' });

    const key = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Hệ thống một cửa' });
    expect(key.statusCode).toBe(201);
    await one({ action: 'integration_key.create', targetId: key.json().id, changes: { name: 'Hệ thống một cửa', key: { changed: true } } });
    await ok('DELETE', `/sites/${f.siteId}/integration-keys/${key.json().id}`, f.tokens.manager);
    await one({ action: 'integration_key.delete', targetId: key.json().id });
    expect(JSON.stringify(await f.t.db.selectFrom('auditLog').selectAll().execute())).not.toContain(key.json().key);
  });

  it('records only the actions the protocol lists (AUDIT_ACTIONS: the console names each)', async () => {
    const recorded = (await f.t.db.selectFrom('auditLog').select('action').distinct().execute()).map((r) => r.action);
    expect(recorded.length).toBeGreaterThan(40);
    const listed: string[] = Object.values(AUDIT_ACTIONS).flat();
    for (const action of recorded) expect(listed, action).toContain(action);
  });

  it('never holds a password, a secret, a token or a leader\'s number, anywhere in any entry', async () => {
    const text = JSON.stringify(await f.t.db.selectFrom('auditLog').selectAll().execute());
    for (const secret of NEVER) expect(text, secret).not.toContain(secret);
    const tokens = Object.values(f.tokens);
    for (const token of tokens) expect(text).not.toContain(token);
  });
});

describe('the net under the commands (scrub)', () => {
  it('writes every channel secret\'s name, and a password or an address anywhere, as {changed: true}', () => {
    const names = [...new Set([...Object.values(SMS_SECRET_FIELDS).flat(), ...EMAIL_SECRET_FIELDS, ...ZALO_SECRET_FIELDS, 'password', 'token', 'address', 'phone'])];
    for (const name of names) {
      expect(scrub({ [name]: 'the-value' }), name).toEqual({ [name]: CHANGED });
      expect(scrub({ 'settings.headers': { from: null, to: { [name]: 'the-value', accept: 'json' } } }), name)
        .toEqual({ 'settings.headers': { from: null, to: { [name]: CHANGED, accept: 'json' } } });
    }
    // which secrets changed stays: names only
    expect(scrub({ secrets: { authorization: CHANGED } })).toEqual({ secrets: { authorization: CHANGED } });
    expect(scrub({ secrets: { authorization: 'Bearer x' } })).toEqual({ secrets: CHANGED });
    expect(scrub({ name: { from: 'a', to: 'b' }, events: ['ticket:called'] })).toEqual({ name: { from: 'a', to: 'b' }, events: ['ticket:called'] });
  });
});

describe('the table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, whoever asks', async () => {
    const [first] = await f.t.db.selectFrom('auditLog').select('id').orderBy('id').limit(1).execute();
    await expect(sql`UPDATE audit_log SET action = 'nothing' WHERE id = ${first!.id}`.execute(f.t.db)).rejects.toThrow(/append-only/);
    await expect(sql`UPDATE audit_log SET actor_id = NULL WHERE id = ${first!.id}`.execute(f.t.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_log WHERE id = ${first!.id}`.execute(f.t.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log`.execute(f.t.db)).rejects.toThrow(/append-only/);
    expect((await f.t.db.selectFrom('auditLog').select('action').where('id', '=', first!.id).executeTakeFirstOrThrow()).action).toBe('login');
  });

  it('keeps the name of an account that is deleted (its id becomes null)', async () => {
    const auth = new AuthService(f.t.db);
    const gone = await auth.createUser({ username: 'tam-thoi', password: PASSWORD, displayName: 'Tạm thời', role: 'staff', siteIds: [f.siteId] });
    expect((await api('POST', '/auth/login', undefined, { username: 'tam-thoi', password: PASSWORD })).statusCode).toBe(200);
    const entry = await one({ action: 'login', actorId: gone.id });
    await sql`DELETE FROM user_session WHERE user_id = ${gone.id}`.execute(f.t.db);
    await sql`DELETE FROM site_membership WHERE user_id = ${gone.id}`.execute(f.t.db);
    await sql`DELETE FROM app_user WHERE id = ${gone.id}`.execute(f.t.db);
    expect(await f.t.db.selectFrom('auditLog').selectAll().where('id', '=', entry.id).executeTakeFirstOrThrow())
      .toMatchObject({ actorId: null, actorName: 'tam-thoi', action: 'login', targetId: gone.id });
  });
});

describe('reading it', () => {
  it('a manager reads their sites\' entries, with the site\'s offset, most recent first; 403 elsewhere; the whole log is the admins\'', async () => {
    const page = (await api('GET', `/sites/${f.siteId}/audit?limit=200`, f.tokens.manager)).json();
    expect(page.entries.length).toBeGreaterThan(30);
    expect(page.entries.every((e: { siteId?: string }) => e.siteId === f.siteId)).toBe(true);
    expect(page.entries[0].at).toMatch(/^2026-11-24T09:00:\d\d\.\d{3}\+07:00$/);
    const ids = page.entries.map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(page.entries.findLast((e: { action: string }) => e.action === 'login')).toMatchObject({ actor: { id: f.userIds.manager, name: 'manager', kind: 'user' }, ip: '127.0.0.1' });
    // the other site's manager, staff and devices: refused
    for (const token of [otherManager, f.tokens.staff, f.tokens.kiosk]) {
      const res = await api('GET', `/sites/${f.siteId}/audit`, token);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await api('GET', `/sites/${f.siteId}/audit`)).statusCode).toBe(401);
    // theirs holds the membership of canbo9 there, and none of this site's
    const theirs = (await api('GET', `/sites/${f.otherSiteId}/audit`, otherManager)).json();
    expect(theirs.entries.map((e: { action: string }) => e.action).sort()).toEqual(['membership.add', 'membership.remove']);
    expect((await api('GET', '/audit', f.tokens.manager)).statusCode).toBe(403);
    const all = (await api('GET', '/audit?limit=200', f.tokens.admin)).json();
    expect(all.entries.some((e: { siteId?: string; action: string }) => e.siteId === undefined && e.action === 'login_failed')).toBe(true);
    expect(all.entries.length).toBeGreaterThan(page.entries.length);
    expect((await api('GET', `/sites/00000000-0000-4000-8000-000000000000/audit`, f.tokens.admin)).statusCode).toBe(404);
  });

  it('filters: who, action (one, several, a family), free text, dates; pages with before', async () => {
    const get = async (q: string) => (await api('GET', `/sites/${f.siteId}/audit?${q}`, f.tokens.admin)).json();
    const actions = (page: { entries: { action: string }[] }) => page.entries.map((e) => e.action);
    expect(new Set(actions(await get('actor=admin&limit=200')))).toEqual(new Set(['user.role', 'user.active']));
    expect(actions(await get('action=service.update'))).toEqual(['service.update']);
    expect(new Set(actions(await get('action=login,logout&limit=200')))).toEqual(new Set(['login', 'logout']));
    expect(new Set(actions(await get('action=user.*&limit=200')))).toEqual(new Set(['user.role', 'user.update', 'user.password', 'user.active', 'user.photo.update', 'user.photo.remove']));
    expect(actions(await get(`q=${encodeURIComponent('Môi trường')}`))).toEqual(['service.deactivate', 'service.update']);
    expect(actions(await get('q=1.001193'))).toEqual(['service.procedures']);
    expect((await get('from=2026-11-25T00:00:00%2B07:00')).entries).toEqual([]);
    expect((await get('to=2026-11-24T00:00:00%2B07:00')).entries).toEqual([]);
    expect((await get('from=2026-11-24T00:00:00%2B07:00&to=2026-11-25T00:00:00%2B07:00&limit=200')).entries.length).toBeGreaterThan(30);

    const seen: string[] = [];
    let page = await get('limit=7');
    for (;;) {
      seen.push(...page.entries.map((e: { id: string }) => e.id));
      if (!page.next) break;
      expect(page.entries).toHaveLength(7);
      page = await get(`limit=7&before=${page.next}`);
    }
    const everything = (await get('limit=200')).entries.map((e: { id: string }) => e.id);
    expect(seen).toEqual(everything);
  });

  it('answers bad queries with 400, never 500', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=ten', 'before=abc', 'before=-1', 'from=yesterday', 'to=2026-13-01', 'action=DROP%20TABLE',
      'action=user.*.*', 'q=', 'actor=', 'sort=id', `q=${'x'.repeat(201)}`]) {
      const res = await api('GET', `/sites/${f.siteId}/audit?${q}`, f.tokens.manager);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code, q).toBe('VALIDATION_FAILED');
    }
    const backwards = await api('GET', `/sites/${f.siteId}/audit?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z`, f.tokens.manager);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.code).toBe('INVALID_RANGE');
    expect((await api('GET', `/sites/${f.siteId}/audit?from=1900-01-01T00:00:00Z`, f.tokens.manager)).statusCode).toBe(400);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(doc.paths['/api/v1/sites/{siteId}/audit'].get.parameters.map((p: { name: string }) => p.name))
      .toEqual(expect.arrayContaining(['siteId', 'from', 'to', 'actor', 'action', 'q', 'limit', 'before']));
    expect(doc.paths['/api/v1/audit'].get).toBeTruthy();
    expect(doc.paths['/api/v1/sites/{siteId}/reports/audit.csv'].get).toBeTruthy();
  });
});

describe('exported with the reports', () => {
  const range = 'from=2026-11-24T00:00:00%2B07:00&to=2026-11-25T00:00:00%2B07:00';

  it('audit.csv: every entry of the site, oldest first; no address, no secret', async () => {
    const res = await api('GET', `/sites/${f.siteId}/reports/audit.csv?${range}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/nhat-ky-PHUONG-DONG-CAM-2026-11-24\.csv/);
    const lines = res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,site_code,actor_kind,actor_name,action,target_type,target_id,changes');
    const entries = (await api('GET', `/sites/${f.siteId}/audit?limit=200`, f.tokens.manager)).json().entries;
    expect(lines.length - 1).toBe(entries.length);
    expect(Number(res.headers['x-total-rows'])).toBe(entries.length);
    expect(lines[1]).toMatch(/^2026-11-24T09:00:\d\d\.\d{3}\+07:00,PHUONG-DONG-CAM,user,manager,login,user,/);
    expect(res.body).toContain('service.update');
    expect(res.body).toContain('""vi"":""Tài nguyên – Môi trường""');
    expect(res.body).not.toContain('127.0.0.1');
    for (const secret of NEVER) expect(res.body, secret).not.toContain(secret);
    expect((await api('GET', `/sites/${f.siteId}/reports/audit.csv?${range}`, otherManager)).statusCode).toBe(403);
  });

  it('every site of the caller: a manager\'s own sites, an administrator\'s also the entries of no site', async () => {
    const all = await api('GET', `/reports/audit.csv?${range}`, f.tokens.admin);
    expect(all.statusCode).toBe(200);
    expect(all.body).toMatch(/\r\n[^,]+,,user,nobody-here,login_failed,/);
    const theirs = await api('GET', `/reports/audit.csv?${range}`, otherManager);
    expect(theirs.body.trimEnd().split('\r\n').slice(1).map((l) => l.split(',')[4])).toEqual(['membership.add', 'membership.remove']);
    expect((await api('GET', `/reports/audit.csv?${range}`, f.tokens.staff)).statusCode).toBe(403);
  });

  it('audit.xlsx: the same entries on a sheet "Nhật ký thay đổi"', async () => {
    const res = await api('GET', `/sites/${f.siteId}/reports/audit.xlsx?${range}`, f.tokens.manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/spreadsheetml/);
    expect(Number(res.headers['x-total-rows'])).toBeGreaterThan(30);
    const { readXlsx } = await import('./xlsx-reader.ts');
    const book = readXlsx(res.rawPayload);
    expect(book.sheets.map((s) => s.name)).toEqual(['Nhật ký thay đổi']);
  });
});
