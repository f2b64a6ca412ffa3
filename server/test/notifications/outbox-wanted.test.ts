import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// A fact goes to the outbox only when someone at its site would hear of it
// (db/src/functions/qms_outbox.ts, qms_outbox_wanted): a webhook subscribed to its type, a
// citizen channel for a ticket's changes, a leader for an alert. Most commune centres have none,
// and each fact written cost three index entries, an update when relayed and a delete later.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 } });
  expect((await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff)).statusCode).toBe(200);
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const SMS = { provider: 'http', url: 'http://127.0.0.1:9/sms', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":{{to}},"text":{{text}}}', encoding: 'ucs2' };

function api(method: 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: object) {
  return f.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
}

/** A ticket issued, called and finished, and a criticism raised; the types of the facts that wrote, in order. */
async function aVisit(): Promise<string[]> {
  await f.t.db.deleteFrom('outbox').execute();
  const issued = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
  expect(issued.statusCode).toBe(201);
  const called = await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
  expect(called.json().ticket.id).toBe(issued.json().ticket.id);
  expect((await api('POST', `/tickets/${issued.json().ticket.id}/finish`, f.tokens.staff)).statusCode).toBe(200);
  expect((await api('POST', '/alerts/criticism', f.tokens.staff, { comment: 'Chờ lâu' })).statusCode).toBe(201);
  const rows = await f.t.db.selectFrom('outbox').select(['type', 'siteId']).orderBy('seq').execute();
  expect(rows.every((r) => r.siteId === f.siteId)).toBe(true);
  return rows.map((r) => r.type);
}

describe('the outbox', () => {
  it('holds the facts someone at the site hears of, and none at a site where nobody listens', async () => {
    // the demo centre as seeded: no webhook, no citizen channel, no leader
    expect(await aVisit()).toEqual([]);

    // a webhook on calls and criticisms: those two facts only
    const hook = await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager,
      { url: 'http://127.0.0.1:9/hook', secret: 'outbox-wanted-secret', events: ['ticket:called', 'criticism:created'] });
    expect(hook.statusCode).toBe(201);
    expect(await aVisit()).toEqual(['ticket:called', 'criticism:created']);

    // a leader to tell: the alert too
    const leader = await api('POST', `/sites/${f.siteId}/notification-recipients`, f.tokens.manager,
      { name: 'Phó giám đốc', channel: 'sms', address: '84912345678', lang: 'vi', topics: ['complaint'], active: true });
    expect(leader.statusCode, leader.body).toBe(201);
    expect(await aVisit()).toEqual(['ticket:called', 'alert:raised', 'criticism:created']);

    // a citizen channel: every change of a ticket (the call's message, "N people ahead")
    const sms = await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager,
      { enabled: true, settings: SMS });
    expect(sms.statusCode, sms.body).toBe(200);
    expect(await aVisit()).toEqual(['ticket:issued', 'ticket:called', 'ticket:updated', 'alert:raised', 'criticism:created']);

    // all of them off again: nothing
    expect((await api('DELETE', `/webhooks/${hook.json().webhook.id}`, f.tokens.manager)).statusCode).toBe(204);
    expect((await api('DELETE', `/notification-recipients/${leader.json().recipient.id}`, f.tokens.manager)).statusCode).toBe(204);
    expect((await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager,
      { enabled: false, settings: SMS })).statusCode).toBe(200);
    expect(await aVisit()).toEqual([]);
  });
});
