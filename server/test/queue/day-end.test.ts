import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { dayEndsAt } from '../../src/queue/day-end.ts';
import { QueueService } from '../../src/queue/queue.service.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// A site's day ends (queue/day-end.ts): what is still waiting, called or served then is
// `expired`, and no ticket is ever called on a later day than it was issued.

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;

const TZ = 'Asia/Ho_Chi_Minh';
// Friday 4 Dec 2026, 23:58:50 in Hà Nội (UTC+7)
const BEFORE_MIDNIGHT = '2026-12-04T16:58:50.000Z';
const AFTER_MIDNIGHT = '2026-12-04T17:00:10.000Z';

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

beforeEach(async () => {
  clock = new TestClock(BEFORE_MIDNIGHT);
  queue = new QueueService({ db: t.db, clock: clock.now, dayEndGraceSeconds: 30 * 60 });
  site = await createSite(t.db, { services: [{ code: 'HT', prefix: 'M' }], counters: [{ number: 1, services: ['HT'] }, { number: 2, services: ['HT'] }] });
});

const issue = async () => (await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! })).value;

async function ticketsByCode(): Promise<Record<string, string[]>> {
  const rows = await t.db.selectFrom('ticket').select(['code', 'status', 'localDate']).where('siteId', '=', site.siteId)
    .orderBy('localDate').orderBy('number').execute();
  const result: Record<string, string[]> = {};
  for (const r of rows) (result[r.localDate] ??= []).push(`${r.code} ${r.status}`);
  return result;
}

describe('the day of a site without opening hours ends at local midnight', () => {
  it('calls today\'s tickets first the next morning, and ends yesterday\'s with an event of the system', async () => {
    const yesterday = [await issue(), await issue(), await issue()];
    expect(yesterday.map((x) => x.code)).toEqual(['M001', 'M002', 'M003']);
    await openCounter(queue, site, 1);
    await openCounter(queue, site, 2);
    const m001 = (await queue.callNext(at(site, 1))).value!;
    await queue.finish({ ...at(site, 1), ticketId: m001.id });
    // M002 is at counter 2 when midnight comes
    expect((await queue.callNext(at(site, 2))).value!.code).toBe('M002');

    clock.set(AFTER_MIDNIGHT);
    // nothing has swept yet (a server down at midnight): today's numbers are still issued
    const today = [await issue(), await issue(), await issue()];
    expect(today.map((x) => x.code)).toEqual(['M001', 'M002', 'M003']);
    expect(await ticketsByCode()).toEqual({
      '2026-12-04': ['M001 done', 'M002 expired', 'M003 expired'],
      '2026-12-05': ['M001 waiting', 'M002 waiting', 'M003 waiting'],
    });
    // the waiting figures are today's only
    expect((await queue.serviceStats(site.siteId))[0]).toMatchObject({ waiting: 3 });
    // the first call of the new day
    expect((await queue.callNext(at(site, 1))).value).toMatchObject({ code: 'M001', issuedAt: expect.stringMatching(/^2026-12-05T00:00/) });

    const events = await t.db.selectFrom('ticketEvent').selectAll().where('ticketId', 'in', [yesterday[1]!.id, yesterday[2]!.id]).where('type', '=', 'expired').orderBy('id').execute();
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.staffId, e.deviceId])).toEqual([['called', 'expired', null, null], ['waiting', 'expired', null, null]]);
    expect(events.map((e) => e.data)).toEqual([{ reason: 'day_end' }, { reason: 'day_end' }]);
  });

  it('is swept at midnight, with an update for every screen and the waiting figures counted again', async () => {
    await issue();
    await issue();
    expect((await queue.endDays()).value).toEqual([]); // 23:58:50: not over yet
    clock.set('2026-12-04T16:59:59.500Z');
    expect((await queue.endDays(site.siteId)).value).toEqual([]);
    clock.set(AFTER_MIDNIGHT);
    const { value, events } = await queue.endDays();
    expect(value.map((x) => [x.code, x.status, x.finishedAt])).toEqual([
      ['M001', 'expired', expect.stringMatching(/^2026-12-05T00:00:10/)], ['M002', 'expired', expect.stringMatching(/^2026-12-05T00:00:10/)],
    ]);
    expect(events.map((e) => e.name)).toEqual(['ticket:updated', 'ticket:updated', 'queue:stats-due', 'queue:snapshot']);
    expect(events.at(-1)).toMatchObject({ payload: { recentCalls: [], services: [{ waiting: 0 }] } });
    expect((await queue.serviceStats(site.siteId))[0]).toMatchObject({ waiting: 0 });
    // once: a second sweep (another process of a cluster) finds nothing
    expect((await queue.endDays()).value).toEqual([]);
  });

  it('never calls a ticket of an earlier day, by call-next or by choosing it', async () => {
    const old = await issue();
    await openCounter(queue, site, 1);
    clock.set(AFTER_MIDNIGHT);
    expect((await queue.callNext(at(site, 1))).value).toBeNull();
    await expect(queue.callTicket({ ...at(site, 1), ticketId: old.id })).rejects.toMatchObject({ code: 'TICKET_OF_EARLIER_DAY', status: 409 });
    expect((await queue.getTicket(old.id)).status).toBe('waiting'); // until the sweep ends it
  });
});

describe('a site with opening hours', () => {
  it('ends the day when the grace after its last session is over', async () => {
    const hours: Record<string, [string, string][]> = { 'mon-fri': [['07:30', '11:30'], ['13:30', '17:00']], sat: [['07:30', '11:30']] };
    site = await createSite(t.db, { hours, services: [{ code: 'HT', prefix: 'M' }], counters: [{ number: 1, services: ['HT'] }] });
    clock.set('2026-12-04T09:50:00.000Z'); // Friday 16:50
    await issue();
    clock.set('2026-12-04T10:29:00.000Z'); // 17:29: officials may still call it
    expect((await queue.endDays()).value).toEqual([]);
    clock.set('2026-12-04T10:30:00.000Z'); // 17:30
    expect((await queue.endDays()).value.map((x) => x.status)).toEqual(['expired']);
  });

  it('knows when each day ends', () => {
    const calendar = { timezone: TZ, hours: [{ weekday: 5, opens: '07:30', closes: '11:30' }, { weekday: 5, opens: '13:30', closes: '17:00' }, { weekday: 6, opens: '07:30', closes: '11:30' }], holidays: ['2026-12-07'] };
    const iso = (d: Date) => d.toISOString();
    expect(iso(dayEndsAt(calendar, '2026-12-04', 1800))).toBe('2026-12-04T10:30:00.000Z'); // Friday 17:30
    expect(iso(dayEndsAt(calendar, '2026-12-05', 0))).toBe('2026-12-05T04:30:00.000Z'); // Saturday 11:30
    expect(iso(dayEndsAt(calendar, '2026-12-06', 1800))).toBe('2026-12-06T17:00:00.000Z'); // Sunday: closed, midnight
    expect(iso(dayEndsAt(calendar, '2026-12-07', 1800))).toBe('2026-12-07T17:00:00.000Z'); // a holiday
    expect(iso(dayEndsAt(calendar, '2026-12-04', 12 * 3600))).toBe('2026-12-04T17:00:00.000Z'); // midnight at the latest
    expect(iso(dayEndsAt({ timezone: TZ, hours: [], holidays: [] }, '2026-12-31', 1800))).toBe('2026-12-31T17:00:00.000Z');
  });
});

describe('the database', () => {
  it('refuses two live tickets of a site with one printed code', async () => {
    const first = await issue();
    const row = await t.db.selectFrom('ticket').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    const copy = { ...row, id: crypto.randomUUID(), publicId: 'x' + row.publicId, number: 99, localDate: '2026-12-03', issueKey: null };
    await expect(t.db.insertInto('ticket').values(copy).execute()).rejects.toMatchObject({ code: '23505', constraint: 'ticket_live_code_idx' });
    // an ended one may share it
    await t.db.insertInto('ticket').values({ ...copy, status: 'expired' }).execute();
  });
});
