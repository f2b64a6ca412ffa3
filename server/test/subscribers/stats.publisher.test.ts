import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import type { ServiceQueue } from '@qms/protocol';
import { QueueService } from '../../src/queue/queue.service.ts';
import { StatsPublisher } from '../../src/subscribers/stats.publisher.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// queue:stats is counted after the commit, once per site for a burst of changes.

let t: TestDatabase;
let queue: QueueService;
let site: SiteFixture;

beforeAll(async () => {
  t = await createTestDatabase();
  queue = new QueueService({ db: t.db, clock: new TestClock('2026-11-24T02:00:00Z').now });
  site = await createSite(t.db);
});
afterAll(() => t?.drop());

function publisher(delayMs = 10, minIntervalMs = 100) {
  const counts: { siteId: string; serviceIds: string[] }[] = [];
  const sent: { siteId: string; services: ServiceQueue[] }[] = [];
  const p = new StatsPublisher({
    delayMs,
    minIntervalMs,
    compute: async (siteId, serviceIds, at) => {
      counts.push({ siteId, serviceIds: [...serviceIds].sort() });
      return queue.serviceStats(siteId, serviceIds, at);
    },
    emit: (siteId, services) => sent.push({ siteId, services }),
  });
  return { p, counts, sent };
}

const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));

describe('StatsPublisher', () => {
  it('counts a site changing all the time about ten times a second, not once per change, and sends the latest figures', async () => {
    const { p, counts, sent } = publisher();
    const busy = await createSite(t.db);
    const started = Date.now();
    let marked = 0;
    while (Date.now() - started < 500) {
      const r = await queue.issue({ siteId: busy.siteId, serviceId: busy.service.HT! });
      for (const e of r.events) if (e.name === 'queue:stats-due') p.mark(e.siteId, e.serviceIds, e.at);
      marked++;
      await settle(5);
    }
    await settle(250);
    const elapsed = Date.now() - started;
    expect(marked).toBeGreaterThan(20);
    // counts start at least 100 ms apart: at most one per 100 ms of the run, plus the first
    expect(counts.length).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 1);
    expect(counts.length).toBeGreaterThanOrEqual(2);
    const waitingNow = await queue.serviceStats(busy.siteId, [busy.service.HT!], new Date());
    expect(sent.at(-1)!.services.find((s) => s.serviceId === busy.service.HT)!.waiting).toBe(waitingNow[0]!.waiting);
    await p.close();
  });


  it('counts a burst of changes of one site once, with every service it touched, after they committed', async () => {
    const { p, counts, sent } = publisher();
    const issued = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      queue.issue({ siteId: site.siteId, serviceId: i % 3 ? site.service.HT! : site.service.CT! })));
    for (const r of issued) for (const e of r.events) if (e.name === 'queue:stats-due') p.mark(e.siteId, e.serviceIds, e.at);
    expect(counts).toEqual([]); // nothing counted inside anyone's request
    await settle();
    expect(counts).toEqual([{ siteId: site.siteId, serviceIds: [site.service.HT!, site.service.CT!].sort() }]);
    expect(sent).toHaveLength(1);
    const waiting = Object.fromEntries(sent[0]!.services.map((s) => [s.serviceId, s.waiting]));
    expect(waiting).toEqual({ [site.service.HT!]: 8, [site.service.CT!]: 4 });
    await p.close();
  });

  it('counts again for changes made while a count ran, so the last figures sent are the latest', async () => {
    const { p, counts, sent } = publisher(1);
    await openCounter(queue, site, 1);
    const marks = async () => {
      const r = await queue.callNext(at(site, 1));
      for (const e of r.events) if (e.name === 'queue:stats-due') p.mark(e.siteId, e.serviceIds, e.at);
      if (r.value) await queue.finish({ ...at(site, 1), ticketId: r.value.id });
    };
    for (let i = 0; i < 5; i++) await marks();
    // the changes made during the first count are counted minIntervalMs (100) after it started:
    // five calls and finishes can be done well within that, so wait past it
    await settle(100 + 80);
    expect(counts.length).toBeGreaterThanOrEqual(1);
    expect(counts.length).toBeLessThanOrEqual(5);
    const [fresh] = await queue.serviceStats(site.siteId, [site.service.HT!]);
    expect(sent.at(-1)!.services.find((s) => s.serviceId === site.service.HT)!.waiting).toBe(fresh!.waiting);
    expect(fresh!.waiting).toBe(3);
    await p.close();
  });

  it('sends nothing once closed', async () => {
    const { p, counts, sent } = publisher(20);
    p.mark(site.siteId, [site.service.HT!], new Date());
    await p.close();
    await settle(50);
    expect(counts).toEqual([]);
    expect(sent).toEqual([]);
  });
});
