import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { reportBounds, summaryReport, type ReportGroupBy, type SummaryQuery } from '../../src/reports/report.service.ts';
import { createSite, type SiteFixture } from '../support/queue-fixture.ts';
import { expectFigures } from './expect-figures.ts';
import { loadHistory, referenceReport } from './report.reference.ts';

// The report reads the events of ended tickets with one range scan of the period they lived in
// (reportBounds), and the events of open tickets ticket by ticket. These tickets sit on the edges
// of that rule: served two days after their issue, still waiting after a transfer, cancelled in
// the last second of the range; and another site's ticket stamped in the same instants. Every
// figure must still equal the reference computed from the raw rows.

let t: TestDatabase;
let a: SiteFixture;
let b: SiteFixture;
const DAY = new Date('2026-06-10T00:00:00+07:00');
const NEXT_DAY = new Date('2026-06-11T00:00:00+07:00');
const h = (hours: number) => new Date(DAY.getTime() + hours * 3_600_000);

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createSite(t.db);
  b = await createSite(t.db);
  let n = 0;
  const ticket = async (site: SiteFixture, issuedAt: Date, status: string, finishedAt: Date | null, serviceCode = 'HT') => {
    n++;
    const row = await t.db.insertInto('ticket').values({
      publicId: `bounds${n}xxxxxxxx`, siteId: site.siteId, issuedServiceId: site.service[serviceCode]!, serviceId: site.service[serviceCode]!,
      localDate: '2026-06-10', number: n, code: `A${n}`, status: status as 'done', issuedAt, queuedAt: issuedAt, finishedAt,
      estimatedWaitSeconds: 600,
    }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  };
  const event = (site: SiteFixture, ticketId: string, type: string, at: Date, serviceCode = 'HT', counter: number | null = null, staff: string | null = null) =>
    t.db.insertInto('ticketEvent').values({
      ticketId, siteId: site.siteId, type: type as 'issued', fromStatus: null, toStatus: 'waiting', serviceId: site.service[serviceCode]!,
      counterId: counter ? site.counter[counter]! : null, staffId: staff, at,
    }).execute();

  // served two days after its issue: its call and end lie far past the range's end
  const late = await ticket(a, h(9), 'done', h(58.2));
  await event(a, late, 'issued', h(9));
  await event(a, late, 'called', h(58), 'HT', 1, a.staff[0]!);
  await event(a, late, 'finished', h(58.2), 'HT', 1, a.staff[0]!);
  await t.db.insertInto('rating').values({ ticketId: late, siteId: a.siteId, score: 1 }).execute();
  // called, transferred to CT, still waiting there days later (open: read ticket by ticket)
  const open = await ticket(a, h(10), 'waiting', null, 'CT');
  await event(a, open, 'issued', h(10));
  await event(a, open, 'called', h(10.5), 'HT', 2, a.staff[1]!);
  await event(a, open, 'transferred', h(30), 'CT', 2, a.staff[1]!);
  // a no-show whose call came from the counter device: the official is the one who opened counter 3
  await t.db.insertInto('counterEvent').values({ counterId: a.counter[3]!, type: 'opened', staffId: a.staff[2]!, at: h(7) }).execute();
  const noShow = await ticket(a, h(11), 'no_show', h(11.2), 'CT');
  await event(a, noShow, 'issued', h(11), 'CT');
  await event(a, noShow, 'called', h(11.1), 'CT', 3);
  await event(a, noShow, 'no_show', h(11.2), 'CT', 3);
  // cancelled in the range's last millisecond, ended after it
  const last = await ticket(a, new Date(NEXT_DAY.getTime() - 1), 'cancelled', h(24.5));
  await event(a, last, 'issued', new Date(NEXT_DAY.getTime() - 1));
  await event(a, last, 'cancelled', h(24.5));
  // the other site, same instants: never in site A's figures
  const other = await ticket(b, h(9), 'done', h(9.5));
  await event(b, other, 'issued', h(9));
  await event(b, other, 'called', h(9.2), 'HT', 1, b.staff[0]!);
  await event(b, other, 'finished', h(9.5), 'HT', 1, b.staff[0]!);
  // a ticket of the day before, served during the range: not in it
  const before = await ticket(a, h(-2), 'done', h(9.4));
  await event(a, before, 'issued', h(-2));
  await event(a, before, 'called', h(9.1), 'HT', 1, a.staff[0]!);
  await event(a, before, 'finished', h(9.4), 'HT', 1, a.staff[0]!);
}, 60_000);
afterAll(() => t?.drop());

describe('tickets on the edges of the event scan', () => {
  it('bounds the scan from a day before the first issue to a day after the last end', async () => {
    const bounds = await reportBounds(t.db, { siteId: a.siteId, from: DAY, to: NEXT_DAY, groupBy: 'service' });
    expect(bounds.lo).toEqual(h(9 - 24));
    expect(bounds.hi).toEqual(h(58.2 + 24));
    const none = await reportBounds(t.db, { siteId: a.siteId, from: h(100), to: h(200), groupBy: 'service' });
    expect(none).toEqual({ lo: null, hi: null });
  });

  it('counts a late call, an open transfer and a device call exactly (site A)', async () => {
    const got = await summaryReport(t.db, { siteId: a.siteId, from: DAY, to: NEXT_DAY, groupBy: 'service' });
    expect(got.totals).toMatchObject({ issued: 4, served: 1, noShow: 1, cancelled: 1, transferred: 1, waits: 3, ratings: 1, notSatisfiedShare: 1 });
    // waits: 49 h (late), 30 min (open, before its transfer), 6 min (no-show)
    expect(got.totals.waitP50Seconds).toBeCloseTo(1800, 6);
    expect(got.totals.waitAvgSeconds).toBeCloseTo((49 * 3600 + 1800 + 360) / 3, 6);
    const staff = await summaryReport(t.db, { siteId: a.siteId, from: DAY, to: NEXT_DAY, groupBy: 'staff' });
    expect(staff.rows.map((r) => r.waits)).toEqual([1, 1, 1]);
    expect(new Set(staff.rows.map((r) => r.key))).toEqual(new Set([a.staff[0]!, a.staff[1]!, a.staff[2]!]));
  });

  const GROUPS: ReportGroupBy[] = ['service', 'counter', 'staff', 'day', 'hour', 'procedure'];
  for (const groupBy of GROUPS) {
    it(`by ${groupBy}: every figure equals the reference, one site and all sites`, async () => {
      const history = await loadHistory(t.db);
      for (const [from, to] of [[DAY, NEXT_DAY], [h(-48), h(96)], [h(9.5), h(23)]] as const) {
        for (const siteId of [a.siteId, b.siteId, null]) {
          const q: SummaryQuery = { siteId, groupBy, from, to };
          const where = `${groupBy} ${from.toISOString()} site ${siteId ?? 'all'}:`;
          const got = await summaryReport(t.db, q);
          const want = referenceReport(history, q);
          expect(got.rows.map((r) => [r.key, r.label]), `${where} rows`).toEqual(want.rows.map((r) => [r.key, r.label]));
          want.rows.forEach((row, i) => expectFigures(got.rows[i]!, row, `${where} ${row.label}`));
          expectFigures(got.totals, want.totals, `${where} totals`);
        }
      }
    });
  }
});
