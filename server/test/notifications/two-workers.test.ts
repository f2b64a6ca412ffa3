import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, http, twoProcesses, type ApiFixture } from '../support/api-fixture.ts';
import { raiseChannelFailing } from '../../src/notifications/worker.ts';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// Two processes of a cluster, each with its delivery worker, on one database: every message is
// claimed by one of them only (SKIP LOCKED and a lease), so a burst reaches the receiver with no
// repeat at all, not merely none it keeps.

const SECRET = 'two-workers-webhook-secret';
let f: ApiFixture;
let receiver: WebhookReceiver;
let cluster: Awaited<ReturnType<typeof twoProcesses>>;

beforeAll(async () => {
  f = await apiFixture({ config: { rateLimits: false, notifyPollMs: 0 } });
  receiver = await webhookReceiver(SECRET);
  receiver.delayMs = 20;
  cluster = await twoProcesses(f, 'two-workers');
});
afterAll(async () => {
  await cluster?.close();
  await f?.app.close();
  await receiver?.close();
  await f?.t.drop();
});

describe('two delivery workers on one database', () => {
  it('send each message once between them', async () => {
    // the demo centre is closed at night and on Sundays: drop its hours for this test
    await f.t.db.deleteFrom('openingHours').execute();
    const hook = await f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/webhooks`, headers: bearer(f.tokens.manager),
      payload: { url: receiver.url, secret: SECRET, events: ['ticket:issued'] },
    });
    expect(hook.statusCode).toBe(201);
    const TICKETS = 40;
    await Promise.all(Array.from({ length: TICKETS }, async (_, i) => {
      const res = await http(i % 2 ? cluster.a : cluster.b, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
      expect(res.status).toBe(201);
    }));
    const deadline = Date.now() + 20_000;
    while (receiver.events.length < TICKETS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(receiver.events).toHaveLength(TICKETS);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests).toHaveLength(TICKETS);
    const rows = await f.t.db.selectFrom('notification').select(['status', 'attempts']).execute();
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
  }, 60_000);

  it('raise one "channel failing" alert between them when deliveries fail at the same instant', async () => {
    // what each failing delivery runs once it has seen the channel fail three times (CI once saw
    // two alerts, when the check and the insert were separate and two deliveries raced between them)
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => raiseChannelFailing(f.t.db, f.siteId, 'sms', `the gateway answered 503 (${i})`, new Date())));
    expect(ids.filter(Boolean)).toHaveLength(1);
    const open = () => f.t.db.selectFrom('alert').select('id').where('siteId', '=', f.siteId).where('kind', '=', 'channel_failing').execute();
    expect(await open()).toHaveLength(1);
    // cleared, the next failure raises a new one; another channel has its own
    await f.t.db.updateTable('alert').set({ data: JSON.stringify({ channel: 'sms', clearedAt: new Date().toISOString() }) }).where('kind', '=', 'channel_failing').execute();
    expect(await raiseChannelFailing(f.t.db, f.siteId, 'sms', 'again', new Date())).not.toBeNull();
    expect(await raiseChannelFailing(f.t.db, f.siteId, 'email', 'smtp down', new Date())).not.toBeNull();
    expect(await raiseChannelFailing(f.t.db, f.siteId, 'email', 'smtp down', new Date())).toBeNull();
    expect(await open()).toHaveLength(3);
  });
});
