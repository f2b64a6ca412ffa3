import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { QueueError } from '../../src/queue/queue.errors.ts';
import { at, createSite, openCounter, type SiteFixture } from '../support/queue-fixture.ts';

// 20 counters calling and 10 kiosks issuing at once against one PostgreSQL, real clock.
const KIOSKS = 10;
const TICKETS_PER_KIOSK = 200;
const COUNTERS = 20;
const SERVICES = ['HT', 'CT', 'DD', 'KD'];

let t: TestDatabase;
let site: SiteFixture;
let queue: QueueService;

beforeAll(async () => {
  t = await createTestDatabase();
  queue = new QueueService({ db: t.db });
  site = await createSite(t.db, {
    services: SERVICES.map((code, i) => ({ code, prefix: 'ABCD'[i]! })),
    // each counter serves one to three services, every service has several counters
    counters: Array.from({ length: COUNTERS }, (_, i) => ({
      number: i + 1,
      services: SERVICES.filter((_, s) => s === i % 4 || (i % 3 === 0 && s === (i + 1) % 4) || (i % 5 === 0 && s === (i + 2) % 4)),
    })),
  });
  for (let n = 1; n <= COUNTERS; n++) await openCounter(queue, site, n);
}, 60_000);
afterAll(() => t?.drop());

function pseudoRandom(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('under concurrency', () => {
  it('issues without gaps or duplicates and calls every ticket exactly once per stint', async () => {
    const issued: string[] = [];
    let kiosksDone = 0;

    const kiosk = async (k: number) => {
      const random = pseudoRandom(k + 1);
      try {
        for (let i = 0; i < TICKETS_PER_KIOSK; i++) {
          const service = SERVICES[Math.floor(random() * SERVICES.length)]!;
          const priority = random() < 0.1 ? 'elderly' : undefined;
          const { value } = await queue.issue({ siteId: site.siteId, serviceId: site.service[service]!, priority });
          issued.push(value.id);
        }
      } finally {
        // a kiosk that failed still ends, so the counters stop and the failure is reported
        kiosksDone++;
      }
    };

    const calledBy = new Map<string, number[]>();
    const errors: unknown[] = [];
    const counter = async (n: number) => {
      const random = pseudoRandom(100 + n);
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline && errors.length === 0) {
        const { value: ticket } = await queue.callNext(at(site, n));
        if (!ticket) {
          if (kiosksDone === KIOSKS) {
            const waiting = await t.db.selectFrom('ticket').select('id').where('siteId', '=', site.siteId).where('status', '=', 'waiting').limit(1).execute();
            if (waiting.length === 0) return;
          }
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        calledBy.set(ticket.id, [...(calledBy.get(ticket.id) ?? []), n]);
        const action = { ...at(site, n), ticketId: ticket.id };
        const roll = random();
        if (roll < 0.05 && ticket.transferCount === 0) {
          const target = SERVICES[Math.floor(random() * SERVICES.length)]!;
          await queue.transfer({ ...action, serviceId: site.service[target]! });
        } else if (roll < 0.1) {
          await queue.noShow(action);
        } else {
          await queue.start(action);
          await queue.finish(action);
        }
      }
    };

    await Promise.all([
      ...Array.from({ length: KIOSKS }, (_, k) => kiosk(k).catch((e) => errors.push(e))),
      ...Array.from({ length: COUNTERS }, (_, n) => counter(n + 1).catch((e) => errors.push(e))),
    ]);
    expect(errors.map((e) => (e instanceof QueueError ? e.code : String(e)))).toEqual([]);

    const total = KIOSKS * TICKETS_PER_KIOSK;
    expect(new Set(issued).size).toBe(total);

    // numbers per service and day are exactly 1..N
    const numbering = await sql<{ service: string; n: number; min: number; max: number; distinct: number }>`
      SELECT issued_service_id AS service, count(*)::int AS n, min(number) AS min, max(number) AS max,
             count(DISTINCT number)::int AS distinct
      FROM ticket WHERE site_id = ${site.siteId} GROUP BY issued_service_id, local_date`.execute(t.db);
    expect(numbering.rows.reduce((sum, r) => sum + r.n, 0)).toBe(total);
    for (const r of numbering.rows) expect(r).toMatchObject({ min: 1, max: r.n, distinct: r.n });

    // nothing left behind: every ticket ended served or no-show
    const statuses = await t.db.selectFrom('ticket').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('siteId', '=', site.siteId).groupBy('status').execute();
    expect(statuses.every((s) => s.status === 'done' || s.status === 'no_show')).toBe(true);

    // every stint called exactly once: one call per ticket, plus one per transfer
    const stints = await sql<{ id: string; calls: number; transfers: number }>`
      SELECT t.id, count(*) FILTER (WHERE e.type = 'called')::int AS calls, t.transfer_count AS transfers
      FROM ticket t JOIN ticket_event e ON e.ticket_id = t.id
      WHERE t.site_id = ${site.siteId} GROUP BY t.id`.execute(t.db);
    expect(stints.rows).toHaveLength(total);
    const wrong = stints.rows.filter((r) => r.calls !== r.transfers + 1);
    expect(wrong).toEqual([]);
    // and the counters saw the same thing the database recorded
    expect([...calledBy.values()].reduce((sum, c) => sum + c.length, 0)).toBe(stints.rows.reduce((sum, r) => sum + r.calls, 0));
  }, 240_000);
});
