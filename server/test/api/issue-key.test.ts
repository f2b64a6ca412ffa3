import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, count, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// One press, one ticket: a kiosk sends a key with each press (Idempotency-Key) and retries with
// it when the answer is lost; the retry gets the ticket the first request made.

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const issue = (token: string, body: object, key?: string) => f.app.inject({
  method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`,
  headers: { ...bearer(token), ...(key ? { 'idempotency-key': key } : {}) }, payload: body,
});

describe('issuing with a key per press', () => {
  it('a press sent twice makes one ticket, and the retry answers with it', async () => {
    const before = await count(f.t.db, 'ticket');
    const first = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0001-aaaa');
    expect(first.statusCode).toBe(201);
    const again = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0001-aaaa');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().ticket).toMatchObject({ id: first.json().ticket.id, code: first.json().ticket.code, publicId: first.json().ticket.publicId, status: 'waiting' });
    expect(await count(f.t.db, 'ticket')).toBe(before + 1);
    // one issued event: the retry is not a second arrival
    const events = await f.t.db.selectFrom('ticketEvent').select('type').where('ticketId', '=', first.json().ticket.id).execute();
    expect(events.map((e) => e.type)).toEqual(['issued']);
  });

  it('ten retries of one press at the same instant make one ticket, and the numbering goes on without a gap', async () => {
    const before = await count(f.t.db, 'ticket');
    const replies = await Promise.all(Array.from({ length: 10 }, () => issue(f.tokens.kiosk, { serviceId: f.services.CT }, 'press-0002-bbbb')));
    expect(replies.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    const ids = new Set(replies.map((r) => r.json().ticket.id));
    expect(ids.size).toBe(1);
    expect(await count(f.t.db, 'ticket')).toBe(before + 1);
    const next = await issue(f.tokens.kiosk, { serviceId: f.services.CT });
    expect(next.json().ticket.number).toBe(replies[0]!.json().ticket.number + 1);
  });

  it('the same key for another service or priority is refused, and changes nothing', async () => {
    await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0003-cccc');
    const before = await count(f.t.db, 'ticket');
    const other = await issue(f.tokens.kiosk, { serviceId: f.services.CT }, 'press-0003-cccc');
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('ISSUE_KEY_REUSED');
    const priority = await issue(f.tokens.kiosk, { serviceId: f.services.HT, priority: 'elderly' }, 'press-0003-cccc');
    expect(priority.json().error.code).toBe('ISSUE_KEY_REUSED');
    expect(await count(f.t.db, 'ticket')).toBe(before);
  });

  it('a key belongs to its kiosk: another kiosk or an official with the same key gets a ticket of its own', async () => {
    const mine = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0004-dddd');
    const official = await issue(f.tokens.staff, { serviceId: f.services.HT }, 'press-0004-dddd');
    expect(official.statusCode).toBe(201);
    expect(official.json().ticket.id).not.toBe(mine.json().ticket.id);
    expect(official.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a retry after closing time still gets its ticket, while a new press is refused', async () => {
    const first = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0005-eeee');
    expect(first.statusCode).toBe(201);
    const at = clock.now();
    clock.set(new Date('2026-11-24T13:00:00Z')); // 20:00 in Hà Nội: closed
    try {
      const retry = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0005-eeee');
      expect(retry.statusCode).toBe(201);
      expect(retry.json().ticket.id).toBe(first.json().ticket.id);
      const fresh = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, 'press-0006-ffff');
      expect(fresh.json().error.code).toBe('SITE_CLOSED');
    } finally {
      clock.set(at);
    }
  });

  it('refuses a malformed key with 400', async () => {
    const before = await count(f.t.db, 'ticket');
    for (const key of ['short', 'x'.repeat(101), 'has spaces in it', 'quote"inside-key']) {
      const r = await issue(f.tokens.kiosk, { serviceId: f.services.HT }, key);
      expect(r.statusCode, key).toBe(400);
    }
    expect(await count(f.t.db, 'ticket')).toBe(before);
  });
});
