import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import { createPool, type Database, type Db } from '@qms/db';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { NotificationRelay } from '../../src/notifications/relay.ts';

// The outbox relay reads each site's notification settings, channels, webhooks, recipients and
// templates once per batch, in one statement: at a province's peak it relays a batch every few
// milliseconds, for many sites.

let f: ApiFixture;
beforeAll(async () => {
  f = await apiFixture({ config: { rateLimits: false, notifyPollMs: 0 } });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

/** One relay of what the outbox holds, on a pool of its own that logs every statement (lower case, spaces squeezed). */
async function relayLogged(): Promise<{ relayed: number; statements: string[] }> {
  const statements: string[] = [];
  const db: Db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(f.t.url, { max: 2 }) }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
    log: (event) => void statements.push(event.query.sql.replace(/\s+/g, ' ').toLowerCase()),
  });
  try {
    const relay = new NotificationRelay(db, () => new Date(), { describe: () => { throw new Error('no alert here'); } }, { warn: () => undefined });
    return { relayed: await relay.relay(), statements };
  } finally {
    await db.destroy();
  }
}

describe('the outbox relay', () => {
  it("reads a site's context in one statement per batch, and relays with it", async () => {
    await f.t.db.deleteFrom('openingHours').execute(); // the demo centre is closed at night and on Sundays
    const hook = await f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/webhooks`, headers: bearer(f.tokens.manager),
      payload: { url: 'http://127.0.0.1:9/hook', secret: 'relay-statements-secret', events: ['ticket:issued'] },
    });
    expect(hook.statusCode).toBe(201);
    await f.t.db.updateTable('outbox').set({ relayedAt: new Date() }).where('relayedAt', 'is', null).execute();
    for (let i = 0; i < 3; i++) {
      const issued = await f.app.inject({ method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: bearer(f.tokens.kiosk), payload: { serviceId: f.services.HT } });
      expect(issued.statusCode).toBe(201);
    }

    const { relayed, statements } = await relayLogged();
    expect(relayed).toBe(3);
    // was five: the site, its channels, webhooks, recipients and templates
    const reads = statements.filter((s) => /notification_template|notification_channel|notification_recipient|"webhook"|from "site"/.test(s));
    expect(reads).toHaveLength(1);
    const webhooks = await f.t.db.selectFrom('notification').select(['channel', 'purpose', 'address']).where('channel', '=', 'webhook').execute();
    expect(webhooks).toEqual(Array.from({ length: 3 }, () => ({ channel: 'webhook', purpose: 'ticket:issued', address: 'http://127.0.0.1:9/hook' })));
  });

  it("reads no citizen's contact for the calls of a site without a citizen channel, and a batch's contacts in one statement where there is one", async () => {
    const api = (method: 'POST', url: string, token?: string, payload: object = {}) =>
      f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, payload });
    expect((await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff)).statusCode).toBe(200);
    // the calls and finishes go to the outbox for a webhook (a site nobody listens at writes none)
    expect((await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager,
      { url: 'http://127.0.0.1:9/hook', secret: 'relay-statements-secret', events: ['ticket:called', 'ticket:updated'] })).statusCode).toBe(201);
    /** three tickets, each with a phone number, called and finished; the statements of relaying what that wrote */
    const callThree = async () => {
      await f.t.db.updateTable('ticket').set({ status: 'cancelled' }).where('status', 'in', ['waiting', 'called', 'serving']).execute();
      for (let i = 0; i < 3; i++) {
        const issued = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
        expect(issued.statusCode).toBe(201);
        // as the phone page leaves it (the page itself is citizens.test.ts')
        await f.t.db.insertInto('ticketContact').values({
          ticketId: issued.json().ticket.id, siteId: f.siteId, phone: `8491234500${i}`, channel: 'sms', consentedAt: new Date(), eraseAfter: new Date(Date.now() + 86_400_000),
        }).execute();
      }
      await f.t.db.updateTable('outbox').set({ relayedAt: new Date() }).where('relayedAt', 'is', null).execute();
      for (let i = 0; i < 3; i++) {
        const called = await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
        expect(called.statusCode).toBe(200);
        expect((await api('POST', `/tickets/${called.json().ticket.id}/finish`, f.tokens.staff)).statusCode).toBe(200);
      }
      const { relayed, statements } = await relayLogged();
      expect(relayed).toBe(6); // three calls, three finishes
      // the contacts of calls ("people ahead" reads the waiting tickets' contacts on its own)
      return statements.filter((s) => s.includes('from "ticket_contact"') && !s.includes('ahead_sent'));
    };
    const calledMessages = () => f.t.db.selectFrom('notification').select('address').where('purpose', '=', 'ticket_called').execute();

    expect(await callThree()).toEqual([]);
    expect(await calledMessages()).toEqual([]);

    await f.t.db.insertInto('notificationChannel').values({ siteId: f.siteId, kind: 'sms', enabled: true, settings: JSON.stringify({}) }).execute();
    expect(await callThree()).toHaveLength(1);
    expect((await calledMessages()).map((m) => m.address).sort()).toEqual(['84912345000', '84912345001', '84912345002']);
  });
});
