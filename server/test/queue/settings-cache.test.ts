import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { localDate } from '@qms/protocol/calendar';
import { QueueService } from '../../src/queue/queue.service.ts';
import { SiteSettingsCache } from '../../src/queue/site-settings.cache.ts';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { createSite } from '../support/queue-fixture.ts';

// An issue's settings (site, service, priority group, hours, holidays, procedure) are kept for a
// few seconds (queue/site-settings.cache.ts): a change through the API takes effect at the next
// ticket, any other within the cache's time.

describe('SiteSettingsCache', () => {
  let clock = 0;
  const cache = () => new SiteSettingsCache<string>(1000, 3, () => clock);
  const reader = () => {
    let reads = 0;
    return { read: async () => `v${++reads}`, get reads() { return reads; } };
  };
  const always = () => true;

  it('keeps a value for ttlMs, however often it is used, then reads it again', async () => {
    clock = 0;
    const c = cache();
    const r = reader();
    expect(await c.get('s1', 'a', r.read, always)).toBe('v1');
    for (clock = 0; clock < 1000; clock += 100) expect(await c.get('s1', 'a', r.read, always)).toBe('v1');
    expect(await c.get('s1', 'a', r.read, always)).toBe('v2');
    expect(r.reads).toBe(2);
  });

  it('forgets one site at once, the others stay', async () => {
    clock = 0;
    const c = cache();
    const r = reader();
    await c.get('s1', 'a', r.read, always);
    await c.get('s2', 'a', r.read, always);
    c.forget('s1');
    expect(await c.get('s1', 'a', r.read, always)).toBe('v3');
    expect(await c.get('s2', 'a', r.read, always)).toBe('v2');
  });

  it('does not keep a read that was in flight when something was forgotten, nor what the caller refuses to keep', async () => {
    clock = 0;
    const c = cache();
    let release!: () => void;
    const slow = () => new Promise<string>((resolve) => { release = () => resolve('old'); });
    const pending = c.get('s1', 'a', slow, always);
    c.forget('s1');
    release();
    expect(await pending).toBe('old');
    expect(await c.get('s1', 'a', async () => 'new', always)).toBe('new');
    expect(await c.get('s1', 'b', async () => 'refused', () => false)).toBe('refused');
    expect(await c.get('s1', 'b', async () => 'read again', always)).toBe('read again');
  });

  it('holds at most max entries', async () => {
    clock = 0;
    const c = cache();
    const r = reader();
    for (const key of ['a', 'b', 'c']) await c.get('s1', key, r.read, always);
    expect(await c.get('s1', 'a', r.read, always)).toBe('v1');
    await c.get('s1', 'd', r.read, always); // the fourth: all out, then d in
    expect(await c.get('s1', 'a', r.read, always)).toBe('v5');
  });

  it('ttlMs 0 reads every time', async () => {
    const c = new SiteSettingsCache<string>(0);
    const r = reader();
    await c.get('s1', 'a', r.read, always);
    await c.get('s1', 'a', r.read, always);
    expect(r.reads).toBe(2);
  });
});

describe('an issue\'s settings', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture();
    await f.t.db.deleteFrom('openingHours').execute();
  });
  afterAll(async () => {
    await f?.app.close();
    await f?.t.drop();
  });
  const api = (method: 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: unknown) => f.app.inject({
    method, url: `/api/v1${url}`, headers: { ...bearer(token), ...(payload ? { 'content-type': 'application/json' } : {}) },
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });
  const issue = (serviceId = f.services.HT!) => api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId });

  it('a change through the API applies to the next ticket: a holiday declared, then withdrawn; a priority group withdrawn', async () => {
    expect((await issue()).statusCode).toBe(201);
    const today = localDate(new Date(), 'Asia/Ho_Chi_Minh');
    expect((await api('PUT', `/sites/${f.siteId}/holidays`, f.tokens.manager, { holidays: [{ date: today, name: 'Nghỉ' }] })).statusCode).toBe(200);
    const closed = await issue();
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error.code).toBe('SITE_CLOSED');
    expect((await api('PUT', `/sites/${f.siteId}/holidays`, f.tokens.manager, { holidays: [] })).statusCode).toBe(200);
    expect((await issue()).statusCode).toBe(201);
    const elderly = () => api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT!, priority: 'elderly' });
    expect((await elderly()).statusCode).toBe(201);
    const groups = (await f.t.db.selectFrom('priorityGroup').select(['code', 'name', 'rank']).where('siteId', '=', f.siteId).where('active', '=', true).execute())
      .filter((g) => g.code !== 'elderly');
    expect((await api('PUT', `/sites/${f.siteId}/priority-groups`, f.tokens.manager, { priorityGroups: groups })).statusCode).toBe(200);
    const unknown = await elderly();
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('UNKNOWN_PRIORITY');
  });
});

describe('a change nobody announced', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t?.drop());

  it('is seen within settingsCacheMs', async () => {
    const site = await createSite(t.db);
    const queue = new QueueService({ db: t.db, settingsCacheMs: 300 });
    const serviceId = site.service.HT!;
    await queue.issue({ siteId: site.siteId, serviceId });
    await t.db.updateTable('service').set({ active: false }).where('id', '=', serviceId).execute(); // by hand: no event
    await expect(queue.issue({ siteId: site.siteId, serviceId })).resolves.toBeTruthy(); // still kept
    await new Promise((r) => setTimeout(r, 350));
    await expect(queue.issue({ siteId: site.siteId, serviceId })).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    await t.db.updateTable('service').set({ active: true }).where('id', '=', serviceId).execute();
    await expect(queue.issue({ siteId: site.siteId, serviceId })).resolves.toBeTruthy(); // a refusal is never kept
  });
});
