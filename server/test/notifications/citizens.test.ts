import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { smsGateway, type SmsGateway } from '../support/sms-gateway.ts';

// A citizen's phone number, with consent, and the messages it brings: "N people ahead", "go to
// counter X", a reminder on a recall; the dossier system's "result ready"; the number erased
// when the site's retention ends. SMS through a real HTTP gateway on 127.0.0.1.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
let gateway: SmsGateway;
/** every line the server logged */
const logs: string[] = [];

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 }, logger: { level: 'debug', stream: { write: (line: string) => void logs.push(line) } } });
  gateway = await smsGateway();
  const res = await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager,
    { enabled: true, settings: gateway.settings, secrets: { authorization: 'Bearer gateway-token' } });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(async () => {
  await f?.app.close();
  await gateway?.close();
  await f?.t.drop();
});
beforeEach(() => {
  gateway.messages.length = 0;
});

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string, payload?: object) {
  return f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
}
const round = () => f.app.services.notificationWorker.runOnce();
const issue = async (serviceId = f.services.DD!) => {
  const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId });
  expect(res.statusCode).toBe(201);
  return res.json().ticket as { id: string; publicId: string; code: string };
};
const contact = (publicId: string, phone: string) => api('POST', `/public/tickets/${publicId}/contact`, undefined, { phone, consent: true });

describe('a citizen\'s number', () => {
  it('is offered by the site once its SMS channel works, and refused when not a Vietnamese mobile', async () => {
    expect((await api('GET', `/sites/${f.siteId}`, f.tokens.kiosk)).json()).toMatchObject({ offerPhone: true });
    const ticket = await issue();
    for (const phone of ['0212 345 678', '12345', '0912 345 67']) {
      const res = await contact(ticket.publicId, phone);
      expect(res.statusCode, phone).toBe(400);
    }
    expect((await api('POST', `/public/tickets/${ticket.publicId}/contact`, undefined, { phone: '0912345678' })).statusCode).toBe(400); // no consent
    expect(await f.t.db.selectFrom('ticketContact').selectAll().where('ticketId', '=', ticket.id).execute()).toEqual([]);
    const ok = await contact(ticket.publicId, '+84 912.345.678');
    expect(ok.statusCode).toBe(201);
    // masked in the answer; erased at the end of the demo centre's day (17:00 and the grace, Hà Nội)
    expect(ok.json()).toEqual({ phone: '0912***678', channel: 'sms', eraseAfter: expect.stringMatching(/^2026-11-24T(17|18):\d\d:00\.000\+07:00$/) });
    expect((await f.t.db.selectFrom('ticketContact').select('phone').where('ticketId', '=', ticket.id).executeTakeFirst())?.phone).toBe('84912345678');
  });

  it('hears "go to counter N" when called, and a reminder on a recall', async () => {
    const ticket = await issue(f.services.CT);
    expect((await contact(ticket.publicId, '0987 654 321')).statusCode).toBe(201);
    await api('POST', `/counters/${f.counters[2]}/open`, f.tokens.staff2);
    expect((await api('POST', `/tickets/${ticket.id}/call`, f.tokens.staff2)).statusCode).toBe(200);
    await round();
    const mine = () => gateway.messages.filter((m) => m.to === '84987654321');
    expect(mine().map((m) => m.text)).toEqual([expect.stringContaining(`Mời số ${ticket.code} đến quầy 2.`)]);
    expect((await api('POST', `/tickets/${ticket.id}/recall`, f.tokens.staff2)).statusCode).toBe(200);
    await round();
    expect(mine()).toHaveLength(2);
    expect(mine()[1]!.text).toContain(`Số ${ticket.code} đã được gọi lại, mời đến ngay quầy 2`);
    expect((await api('POST', `/tickets/${ticket.id}/no-show`, f.tokens.staff2)).statusCode).toBe(200);
  });

  it('hears "N people ahead" once, when within the site\'s threshold', async () => {
    const threshold = 2;
    const put = await api('PUT', `/sites/${f.siteId}/notification-settings`, f.tokens.manager,
      { offerPhone: true, citizenChannel: 'sms', aheadThreshold: threshold, retentionHours: null, leaderWaitOverMinutes: 10 });
    expect(put.statusCode).toBe(200);
    await f.t.db.updateTable('ticket').set({ status: 'cancelled' }).where('status', 'in', ['waiting', 'called']).execute();
    const queue = [];
    for (let i = 0; i < 5; i++) queue.push(await issue(f.services.HT));
    const last = queue.at(-1)!;
    expect((await contact(last.publicId, '0903 111 222')).statusCode).toBe(201);
    await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
    const texts = () => gateway.messages.filter((m) => m.to === '84903111222').map((m) => m.text);
    // 4 ahead, 3 ahead: nothing; 2 ahead: the message; 1 ahead: nothing more
    for (let called = 1; called <= 3; called++) {
      const res = await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
      await api('POST', `/tickets/${res.json().ticket.id}/no-show`, f.tokens.staff);
      await round();
      expect(texts(), `after ${called} called`).toHaveLength(called >= 2 ? 1 : 0);
    }
    const site = await f.t.db.selectFrom('site').select('name').where('id', '=', f.siteId).executeTakeFirstOrThrow();
    expect(texts()[0]).toBe(`${site.name}: Số ${last.code} còn 2 người phía trước. Mời ông/bà quay lại khu chờ.`);
  });

  it('is erased when the site\'s retention ends, from contacts and from the messages', async () => {
    const ticket = await issue(f.services.CT);
    expect((await contact(ticket.publicId, '0977 000 111')).statusCode).toBe(201);
    await api('POST', `/counters/${f.counters[2]}/open`, f.tokens.staff2);
    expect((await api('POST', `/tickets/${ticket.id}/call`, f.tokens.staff2)).statusCode).toBe(200);
    await round();
    const [sent] = await f.t.db.selectFrom('notification').select(['id', 'status']).where('address', '=', '84977000111').execute();
    expect(sent?.status).toBe('sent');
    expect((await api('POST', `/tickets/${ticket.id}/no-show`, f.tokens.staff2)).statusCode).toBe(200);
    await f.app.services.notificationWorker.upkeep();
    expect(await f.t.db.selectFrom('ticketContact').select('ticketId').where('ticketId', '=', ticket.id).execute()).toHaveLength(1); // not yet
    clock.advance(12 * 3600); // past 17:00 and the grace
    await f.app.services.notificationWorker.upkeep();
    expect(await f.t.db.selectFrom('ticketContact').selectAll().where('ticketId', '=', ticket.id).execute()).toEqual([]);
    expect(await f.t.db.selectFrom('notification').select(['address', 'status']).where('id', '=', sent!.id).executeTakeFirst()).toEqual({ address: null, status: 'sent' });
    const log = (await api('GET', `/sites/${f.siteId}/notifications?channel=sms`, f.tokens.manager)).json().deliveries as { id: string; to: string | null }[];
    expect(log.find((d) => d.id === sent!.id)?.to).toBeNull();
    clock.set('2026-11-24T02:30:00Z');
  });

  it('can be withdrawn by the citizen at once', async () => {
    const ticket = await issue();
    expect((await contact(ticket.publicId, '0911 222 333')).statusCode).toBe(201);
    expect((await api('DELETE', `/public/tickets/${ticket.publicId}/contact`)).statusCode).toBe(204);
    expect(await f.t.db.selectFrom('ticketContact').selectAll().where('ticketId', '=', ticket.id).execute()).toEqual([]);
  });
});

describe('personal data', () => {
  it('never reaches the logs, even when a message fails', async () => {
    const ticket = await issue(f.services.CT);
    expect((await contact(ticket.publicId, '0966 123 987')).statusCode).toBe(201);
    expect((await contact(ticket.publicId, '0266 123 987')).statusCode).toBe(400);
    await api('POST', `/counters/${f.counters[2]}/open`, f.tokens.staff2);
    gateway.status = 503;
    try {
      expect((await api('POST', `/tickets/${ticket.id}/call`, f.tokens.staff2)).statusCode).toBe(200);
      await round();
    } finally {
      gateway.status = 200;
    }
    expect(logs.some((l) => l.includes('a message was not delivered'))).toBe(true);
    for (const number of ['966123987', '266123987', '912345678', '987654321']) expect(logs.filter((l) => l.includes(number))).toEqual([]);
    await api('POST', `/tickets/${ticket.id}/no-show`, f.tokens.staff2);
  });
});

describe('the dossier system', () => {
  it('sends "your result is ready" with its integration key, once per dossier code', async () => {
    const made = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Hệ thống một cửa điện tử' });
    expect(made.statusCode).toBe(201);
    const { key } = made.json() as { key: string };
    expect((await api('GET', `/sites/${f.siteId}/integration-keys`, f.tokens.manager)).body).not.toContain(key);
    const body = { dossierCode: '000.00.12.H47-261124-0042', phone: '0912 000 999' };
    expect((await api('POST', `/sites/${f.siteId}/dossier-results`, 'qmsk_not-the-key', body)).statusCode).toBe(401);
    expect((await api('POST', `/sites/${f.otherSiteId}/dossier-results`, key, body)).statusCode).toBe(401);
    expect((await api('POST', `/sites/${f.siteId}/dossier-results`, key, { dossierCode: 'x' })).statusCode).toBe(400);
    const first = await api('POST', `/sites/${f.siteId}/dossier-results`, key, body);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ dossierCode: body.dossierCode, messages: 1, replayed: false });
    const again = await api('POST', `/sites/${f.siteId}/dossier-results`, key, body);
    expect(again.json()).toMatchObject({ id: first.json().id, messages: 0, replayed: true });
    await round();
    const mine = gateway.messages.filter((m) => m.to === '84912000999');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.text).toContain(`Hồ sơ ${body.dossierCode} đã có kết quả`);
  });
});
