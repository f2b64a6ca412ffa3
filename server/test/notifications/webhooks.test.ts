import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { signatureValid, webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// Outgoing webhooks to API.md's shape, delivered from the outbox to a real HTTP receiver on
// 127.0.0.1 that checks the signature itself. The worker is not started: the test runs its
// rounds, with the engine's clock moved on for retries.

const SECRET = 'a-long-webhook-secret-42';
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
let receiver: WebhookReceiver;

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 }, logger: { level: 'error' } });
  receiver = await webhookReceiver(SECRET);
});
afterAll(async () => {
  await f?.app.close();
  await receiver?.close();
  await f?.t.drop();
});
beforeEach(async () => {
  receiver.answer = () => 200;
  await f.t.db.deleteFrom('webhook').execute();
});

const api = (method: 'GET' | 'POST' | 'DELETE', url: string, token = f.tokens.manager, payload?: object) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
const round = () => f.app.services.notificationWorker.runOnce();
const subscribe = async (events: string[]) => {
  const res = await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager, { url: receiver.url, secret: SECRET, events });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().webhook as { id: string };
};
const issue = async () => {
  const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().ticket as { id: string; code: string };
};

describe('webhook subscriptions', () => {
  it('are made by a manager of the site, and never give the secret back', async () => {
    const res = await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager, { url: receiver.url, secret: SECRET, events: ['ticket:called'] });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ webhook: { id: expect.any(String), url: receiver.url, events: ['ticket:called'], active: true } });
    const list = await api('GET', `/sites/${f.siteId}/webhooks`);
    expect(list.json().webhooks).toHaveLength(1);
    expect(list.body).not.toContain(SECRET);
    expect(res.body).not.toContain(SECRET);
    // an official, another site's staff: no
    expect((await api('GET', `/sites/${f.siteId}/webhooks`, f.tokens.staff)).statusCode).toBe(403);
    expect((await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.otherStaff, { url: receiver.url, secret: SECRET, events: ['ticket:called'] })).statusCode).toBe(403);
    expect((await api('DELETE', `/webhooks/${res.json().webhook.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/sites/${f.siteId}/webhooks`)).json().webhooks).toEqual([]);
  });

  it('refuse bad input with a 400 and store nothing', async () => {
    const bad = [
      { url: 'ftp://127.0.0.1/x', secret: SECRET, events: ['ticket:called'] },
      { url: receiver.url, secret: 'short', events: ['ticket:called'] },
      { url: receiver.url, secret: SECRET, events: ['ticket:eaten'] },
      { url: receiver.url, secret: SECRET, events: [] },
      { url: receiver.url, secret: SECRET, events: ['ticket:called'], extra: 1 },
    ];
    for (const body of bad) expect((await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager, body)).statusCode, JSON.stringify(body)).toBe(400);
    expect(await f.t.db.selectFrom('webhook').selectAll().execute()).toEqual([]);
  });
});

describe('webhook deliveries', () => {
  it('POST the event to API.md\'s shape, signed, and log it', async () => {
    const hook = await subscribe(['ticket:issued', 'ticket:called']);
    const ticket = await issue();
    await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
    expect((await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff)).statusCode).toBe(200);
    await round();
    // deliveries of one batch go out together: in any order, each with its occurredAt
    const mine = receiver.events.filter((e) => (e.data.ticket as { id: string }).id === ticket.id).sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    expect(mine.map((e) => e.type)).toEqual(['ticket:issued', 'ticket:called']);
    const called = mine[1]!;
    expect(called).toEqual({
      id: expect.any(String), type: 'ticket:called', occurredAt: expect.stringMatching(/^2026-11-24T09:00:\d\d\.\d{3}\+07:00$/), siteId: f.siteId,
      data: expect.objectContaining({ recall: false, ticket: expect.objectContaining({ code: ticket.code, status: 'called', counter: expect.objectContaining({ number: 1 }) }) }),
    });
    // the id is the event's: the outbox row the call's own statement wrote
    const outbox = await f.t.db.selectFrom('outbox').select(['id', 'type']).where('ticketId', '=', ticket.id).orderBy('seq').execute();
    expect(mine.map((e) => e.id)).toEqual(outbox.map((o) => o.id));
    const log = await api('GET', `/webhooks/${hook.id}/deliveries`);
    expect(log.statusCode).toBe(200);
    const deliveries = log.json().deliveries as { eventId: string; status: string; attempts: number; responseStatus: number; latencyMs: number }[];
    expect(deliveries.find((d) => d.eventId === called.id)).toMatchObject({ status: 'sent', attempts: 1, responseStatus: 200, latencyMs: expect.any(Number) });
  });

  it('are tried again with back-off, with the same id, the first retry within a minute', async () => {
    await subscribe(['ticket:issued']);
    let refusals = 1;
    receiver.answer = () => (refusals-- > 0 ? 503 : 200);
    const ticket = await issue();
    await round();
    const first = receiver.requests.at(-1)!;
    expect(first.status).toBe(503);
    const [row] = await f.t.db.selectFrom('notification').selectAll().where('ticketId', '=', ticket.id).execute();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, responseStatus: 503, lastError: 'answered 503' });
    const retryIn = row!.nextAttemptAt.getTime() - row!.lastAttemptAt!.getTime();
    expect(retryIn).toBeGreaterThan(5_000);
    expect(retryIn).toBeLessThanOrEqual(60_000);
    await round(); // not due yet: nothing sent
    expect(receiver.requests.at(-1)).toBe(first);
    clock.advance(61);
    await round();
    const second = receiver.requests.at(-1)!;
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body).id).toBe(JSON.parse(first.body).id);
    expect(second.body).toBe(first.body);
    expect(await f.t.db.selectFrom('notification').select(['status', 'attempts']).where('id', '=', row!.id).executeTakeFirst()).toEqual({ status: 'sent', attempts: 2 });
  });

  it('give up after a day: failed, an alert for the managers, and "send again" delivers it', async () => {
    const hook = await subscribe(['ticket:issued']);
    receiver.answer = () => 500;
    const ticket = await issue();
    await round();
    // the worker looks every second; the test every quarter of an hour, then every minute
    // around the end of the message's life, where its last try falls
    for (let quarter = 0; quarter < 24 * 4; quarter++) {
      clock.advance(900);
      await round();
    }
    for (let minute = 0; minute < 2 * 60; minute++) {
      clock.advance(60);
      await round();
    }
    const [row] = await f.t.db.selectFrom('notification').selectAll().where('ticketId', '=', ticket.id).where('webhookId', '=', hook.id).execute();
    expect(row!.status).toBe('failed');
    expect(row!.attempts).toBeGreaterThan(10);
    // tried for at least 24 hours
    expect(row!.lastAttemptAt!.getTime() - row!.createdAt.getTime()).toBeGreaterThanOrEqual(24 * 3600_000);
    const alerts = (await api('GET', `/sites/${f.siteId}/alerts?kind=webhook_failed`)).json().alerts as { kind: string; channel: string }[];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'webhook_failed', channel: 'webhook', reason: 'answered 500' });

    receiver.answer = () => 200;
    const again = await api('POST', `/notifications/${row!.id}/resend`);
    expect(again.statusCode).toBe(200);
    expect(again.json().delivery).toMatchObject({ status: 'pending' });
    await round();
    const log = (await api('GET', `/webhooks/${hook.id}/deliveries`)).json().deliveries as { id: string; status: string }[];
    expect(log.find((d) => d.id === row!.id)?.status).toBe('sent');
    expect(receiver.events.filter((e) => (e.data.ticket as { id: string }).id === ticket.id)).toHaveLength(1);
  });

  it('carry a signature a receiver can check and cannot be replayed later', async () => {
    await subscribe(['ticket:issued']);
    await issue();
    await round();
    const { body, signature } = receiver.requests.at(-1)!;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(signatureValid(signature, SECRET, body, Date.now())).toBe(true);
    expect(signatureValid(signature, 'another-secret-000', body, Date.now())).toBe(false);
    expect(signatureValid(signature, SECRET, body.replace('ticket', 'tikcet'), Date.now())).toBe(false);
    // the same request, captured and sent six minutes later
    expect(signatureValid(signature, SECRET, body, Date.now() + 6 * 60_000)).toBe(false);
  });
});
