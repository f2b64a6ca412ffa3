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

    const statements: string[] = [];
    const db: Db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: createPool(f.t.url, { max: 2 }) }),
      plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
      log: (event) => void statements.push(event.query.sql.replace(/\s+/g, ' ').toLowerCase()),
    });
    try {
      const relay = new NotificationRelay(db, () => new Date(), { describe: () => { throw new Error('no alert here'); } }, { warn: () => undefined });
      expect(await relay.relay()).toBe(3);
      // was five: the site, its channels, webhooks, recipients and templates
      const reads = statements.filter((s) => /notification_template|notification_channel|notification_recipient|"webhook"|from "site"/.test(s));
      expect(reads).toHaveLength(1);
      const webhooks = await f.t.db.selectFrom('notification').select(['channel', 'purpose', 'address']).where('channel', '=', 'webhook').execute();
      expect(webhooks).toEqual(Array.from({ length: 3 }, () => ({ channel: 'webhook', purpose: 'ticket:issued', address: 'http://127.0.0.1:9/hook' })));
    } finally {
      await db.destroy();
    }
  });
});
