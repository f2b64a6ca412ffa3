import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/queue/queue.events.ts';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// Committed events reach every subscriber (app/dispatcher.ts), in commit order, whatever one of
// them does; a command that fails dispatches nothing. Over real HTTP commands on PostgreSQL.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
let f: ApiFixture;
const heard: DomainEvent[] = [];

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  // a subscriber that fails on everything, registered before the one that listens
  f.app.events.subscribe({ name: 'broken', handle: () => { throw new Error('broken subscriber'); } });
  f.app.events.subscribe({ name: 'test', handle: (events) => void heard.push(...events) });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const post = (url: string, token: string, payload: object = {}) =>
  f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
const names = () => heard.map((e) => e.name);

describe('the event dispatcher', () => {
  it('hands every committed command\'s events to each subscriber in order, though another subscriber throws', async () => {
    const issued = await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    expect(issued.statusCode).toBe(201);
    expect(names()).toEqual(['ticket:issued', 'queue:stats-due']);
    expect(heard[0]).toMatchObject({ siteId: f.siteId, payload: { ticket: { id: issued.json().ticket.id } } });

    expect((await post(`/counters/${f.counters[1]}/open`, f.tokens.staff)).statusCode).toBe(200);
    const called = await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    expect(called.statusCode).toBe(200);
    const afterCall = names().slice(names().indexOf('counter:updated'));
    expect(afterCall[0]).toBe('counter:updated');
    expect(afterCall).toContain('ticket:called');
    expect(names().indexOf('ticket:called')).toBeGreaterThan(names().indexOf('counter:updated'));
    // the stats subscriber counts after the commit, and dispatches queue:stats like any event
    await expect.poll(() => names().includes('queue:stats')).toBe(true);
  });

  it('dispatches nothing for a command that is refused', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last queue:stats is out
    heard.length = 0;
    // counter 2 is closed: it cannot call
    const refused = await post(`/counters/${f.counters[2]}/call-next`, f.tokens.staff2);
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    expect(heard).toEqual([]);
  });

  it('waits for its subscribers to finish on close', async () => {
    let closed = false;
    f.app.events.subscribe({ name: 'closing', handle: () => {}, close: async () => { closed = true; } });
    await f.app.events.close();
    expect(closed).toBe(true);
  });
});
