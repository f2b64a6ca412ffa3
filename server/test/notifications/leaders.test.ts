import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { smsGateway, type SmsGateway } from '../support/sms-gateway.ts';

// Leaders hear of complaints, long waits and device faults on the channel they chose; a
// complaint becomes a case; channels' secrets never come back; templates and their preview.
// The worker runs as in production (woken by commits, polling every 200 ms); SMS through a real
// HTTP gateway on 127.0.0.1.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
let gateway: SmsGateway;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 200 } });
  gateway = await smsGateway();
  expect((await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager,
    { enabled: true, settings: gateway.settings, secrets: { authorization: 'Bearer gateway-token' } })).statusCode).toBe(200);
  for (const [name, phone, topics] of [['Chủ tịch UBND', '0912 111 111', ['complaint']], ['Phó chủ tịch', '0912 222 222', ['wait', 'device']]] as const) {
    expect((await api('POST', `/sites/${f.siteId}/notification-recipients`, f.tokens.manager, { name, channel: 'sms', address: phone, topics: [...topics] })).statusCode).toBe(201);
  }
});
afterAll(async () => {
  await f?.app.close();
  await gateway?.close();
  await f?.t.drop();
});

function api(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) {
  return f.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
}
const to = (phone: string) => gateway.messages.filter((m) => m.to === phone).map((m) => m.text);
async function until(what: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) await sleep(25);
  return what();
}
const insertAlert = async (kind: string, data: object, extra: object = {}) =>
  (await f.t.db.insertInto('alert').values({ siteId: f.siteId, kind, data: JSON.stringify(data), createdAt: clock.now(), ...extra })
    .returning('id').executeTakeFirstOrThrow()).id;

describe('leaders', () => {
  it('hear of a criticism within a minute, by their topic only', async () => {
    await api('POST', `/counters/${f.counters[3]}/open`, f.tokens.staff);
    const started = Date.now();
    const res = await api('POST', '/alerts/criticism', f.tokens.staff, { comment: 'Chờ lâu, không ai giải thích' });
    expect(res.statusCode).toBe(201);
    expect(await until(() => to('84912111111').length === 1)).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(60_000);
    expect(to('84912111111')[0]).toMatch(/^.+ 09:00: Phản ánh của người dân tại quầy 3 \(Cán bộ canbo1\)\. "Chờ lâu, không ai giải thích"$/);
    await sleep(300);
    expect(to('84912222222')).toEqual([]);
    console.log(`criticism → leader's SMS: ${elapsed} ms`);
  });

  it('hear of a wait only once it is past the target by the threshold, and not if it ended before', async () => {
    const data = (waitSeconds: number) => ({ serviceId: f.services.HT, waitSeconds, targetWaitSeconds: 1800 });
    const lasting = await insertAlert('wait_over_target', data(1801));
    const ended = await insertAlert('wait_over_target', data(1802));
    await sleep(600);
    expect(to('84912222222')).toEqual([]); // not yet: 10 minutes past the target
    await f.t.db.updateTable('alert').set({ data: JSON.stringify({ ...data(1802), clearedAt: clock.now().toISOString() }) }).where('id', '=', ended).execute();
    clock.advance(11 * 60);
    expect(await until(() => to('84912222222').length >= 1)).toBe(true);
    await sleep(400);
    expect(to('84912222222')).toHaveLength(1);
    expect(to('84912222222')[0]).toContain('có người chờ 40 phút (mục tiêu 30 phút)');
    const states = await f.t.db.selectFrom('notification').select(['status', 'params']).where('purpose', '=', 'leader_wait').execute();
    expect(states.map((s) => [s.params.alertId === lasting ? 'lasting' : 'ended', s.status]).sort()).toEqual([['ended', 'cancelled'], ['lasting', 'sent']]);
    clock.set('2026-11-24T02:30:00Z');
  });

  it('hear of a printer out of paper', async () => {
    await insertAlert('printer', { reason: 'paper_out', count: 1 }, { deviceId: f.deviceIds.kiosk });
    expect(await until(() => to('84912222222').some((t) => t.includes('máy in hết giấy')))).toBe(true);
  });
});

describe('a complaint', () => {
  it('takes an owner, goes new → investigating → resolved with a note, and keeps its history', async () => {
    const { alert } = (await api('POST', '/alerts/criticism', f.tokens.staff2, { comment: 'Thái độ không tốt' })).json() as { alert: { id: string; case: unknown } };
    expect(alert.case).toEqual({ status: 'new', owner: null, resolutionNote: null });
    const owner = f.userIds.manager!;
    const taken = await api('PATCH', `/alerts/${alert.id}/case`, f.tokens.manager, { ownerId: owner, status: 'investigating' });
    expect(taken.statusCode).toBe(200);
    expect(taken.json().alert).toMatchObject({ case: { status: 'investigating', owner: { id: owner } }, acknowledgedBy: { id: owner } });
    expect((await api('PATCH', `/alerts/${alert.id}/case`, f.tokens.manager, { status: 'resolved' })).statusCode).toBe(400); // no note
    expect((await api('PATCH', `/alerts/${alert.id}/case`, f.tokens.manager, { ownerId: f.userIds.tinh1 })).statusCode).toBe(400); // not of this site
    expect((await api('PATCH', `/alerts/${alert.id}/case`, f.tokens.staff, { status: 'resolved', note: 'x' })).statusCode).toBe(403);
    const resolved = await api('PATCH', `/alerts/${alert.id}/case`, f.tokens.manager, { status: 'resolved', note: 'Đã gặp công dân và xin lỗi' });
    expect(resolved.json().alert.case).toMatchObject({ status: 'resolved', resolutionNote: 'Đã gặp công dân và xin lỗi' });
    const history = (await api('GET', `/alerts/${alert.id}/case-history`, f.tokens.manager)).json().history as { status: string; note: string | null; by: { id: string } }[];
    expect(history.map((h) => [h.status, h.note])).toEqual([['investigating', null], ['resolved', 'Đã gặp công dân và xin lỗi']]);
    expect(history.every((h) => h.by.id === owner)).toBe(true);
    // resolved: no longer among the open complaints; device alerts kept apart
    const open = (await api('GET', `/sites/${f.siteId}/alerts?unresolved=1`, f.tokens.manager)).json().alerts as { id: string; kind: string }[];
    expect(open.map((a) => a.id)).not.toContain(alert.id);
    expect(open.every((a) => a.kind === 'criticism' || a.kind === 'low_rating')).toBe(true);
    const devices = (await api('GET', `/sites/${f.siteId}/alerts?group=devices`, f.tokens.manager)).json().alerts as { kind: string; id: string }[];
    expect(devices.map((a) => a.kind)).toContain('printer');
    expect((await api('PATCH', `/alerts/${devices[0]!.id}/case`, f.tokens.manager, { status: 'investigating' })).statusCode).toBe(409);
  });
});

describe('channel settings', () => {
  it('never answer a secret, keep one left out, and refuse bad settings changing nothing', async () => {
    const list = await api('GET', `/sites/${f.siteId}/notification-channels`, f.tokens.manager);
    expect(list.json().channels).toEqual([expect.objectContaining({ kind: 'sms', enabled: true, secretsSet: ['authorization'] })]);
    expect(list.body).not.toContain('gateway-token');
    // saved again without secrets: the token stays, messages still go
    expect((await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager, { enabled: true, settings: gateway.settings })).json().channel.secretsSet).toEqual(['authorization']);
    const test = await api('POST', `/sites/${f.siteId}/notification-channels/sms/test`, f.tokens.manager, { to: '0912 333 444' });
    expect(test.json()).toMatchObject({ ok: true, latencyMs: expect.any(Number) });
    expect(to('84912333444')).toEqual([expect.stringContaining('Tin nhắn thử')]);
    const before = await f.t.db.selectFrom('notificationChannel').selectAll().execute();
    for (const body of [
      { enabled: true, settings: { provider: 'carrier-pigeon' } },
      { enabled: true, settings: gateway.settings, secrets: { password: 'x' } },
      { enabled: 'yes', settings: gateway.settings },
    ]) expect((await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    expect(await f.t.db.selectFrom('notificationChannel').selectAll().execute()).toEqual(before);
    expect((await api('GET', `/sites/${f.siteId}/notification-channels`, f.tokens.staff)).statusCode).toBe(403);
  });

  it('raise one alert when a channel keeps failing, cleared when it works again', async () => {
    gateway.status = 503;
    for (let i = 0; i < 3; i++) await api('POST', '/alerts/criticism', f.tokens.staff, { comment: `lỗi ${i}` });
    const failing = async () => (await api('GET', `/sites/${f.siteId}/alerts?kind=channel_failing`, f.tokens.manager)).json().alerts as { channel: string; clearedAt?: string }[];
    const end = Date.now() + 10_000;
    while ((await failing()).length === 0 && Date.now() < end) await sleep(50);
    expect(await failing()).toEqual([expect.objectContaining({ kind: 'channel_failing', channel: 'sms', reason: expect.stringContaining('503') })]);
    gateway.status = 200;
    clock.advance(120);
    const end2 = Date.now() + 10_000;
    while (!(await failing())[0]?.clearedAt && Date.now() < end2) await sleep(50);
    expect((await failing())[0]?.clearedAt).toBeDefined();
    expect(await failing()).toHaveLength(1);
  });
});

describe('templates', () => {
  it('are the site\'s own once saved, previewed with their SMS cost, and reset', async () => {
    const body = '{site}: Mời công dân có số {code} tới quầy số {counter}. Xin cảm ơn! {oops}';
    const preview = (await api('POST', `/sites/${f.siteId}/notification-templates/preview`, f.tokens.manager, { purpose: 'ticket_called', lang: 'vi', body })).json();
    expect(preview.unknown).toEqual(['oops']);
    expect(preview.text).toContain('Mời công dân có số A012 tới quầy số 3');
    expect(preview.sms.ucs2).toMatchObject({ encoding: 'ucs2', segments: 2 });
    expect(preview.sms.unaccented).toMatchObject({ encoding: 'gsm7', segments: 1 });
    expect(preview.sms.unaccented.text).toContain('Moi cong dan co so A012 toi quay so 3');
    const saved = await api('PUT', `/sites/${f.siteId}/notification-templates/ticket_called/vi`, f.tokens.manager, { body: '{site}: Số {code} mời tới quầy {counter}.' });
    expect(saved.json().template).toMatchObject({ custom: true, body: '{site}: Số {code} mời tới quầy {counter}.' });
    const reset = await api('DELETE', `/sites/${f.siteId}/notification-templates/ticket_called/vi`, f.tokens.manager);
    expect(reset.json().template).toMatchObject({ custom: false, body: '{site}: Mời số {code} đến quầy {counter}.' });
    expect((await api('PUT', `/sites/${f.siteId}/notification-templates/no_such/vi`, f.tokens.manager, { body: 'x' })).statusCode).toBe(400);
  });
});
