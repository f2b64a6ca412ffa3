import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { seedCentre, type CentreFile, type Db } from '@qms/db';
import { QueueService } from '../../src/queue/queue.service.ts';

/** A clock tests move by hand; every read advances it 1 ms so no two events share an instant. */
export class TestClock {
  private ms: number;
  constructor(start: string | Date) {
    this.ms = new Date(start).getTime();
  }
  now = (): Date => new Date(this.ms++);
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  set(instant: string | Date): void {
    this.ms = new Date(instant).getTime();
  }
}

export interface SiteSpec {
  hours?: Record<string, [string, string][]>;
  services?: { code: string; prefix: string }[];
  counters?: { number: number; services: string[] }[];
  priorityRatio?: number | null;
  serviceOrder?: 'longest_wait' | 'strict';
  transferToFront?: boolean;
}

export interface SiteFixture {
  siteId: string;
  service: Record<string, string>;
  counter: Record<number, string>;
  staff: string[];
}

const DEFAULT_SERVICES = [{ code: 'HT', prefix: 'A' }, { code: 'CT', prefix: 'B' }, { code: 'DD', prefix: 'C' }];
const DEFAULT_COUNTERS = [
  { number: 1, services: ['HT'] },
  { number: 2, services: ['HT', 'CT'] },
  { number: 3, services: ['CT'] },
  { number: 4, services: ['DD'] },
];

/** Seeds one site (random code) with services, counters, priority groups and one official per counter. */
export async function createSite(db: Db, spec: SiteSpec = {}): Promise<SiteFixture> {
  const code = `T-${randomBytes(4).toString('hex')}`;
  const services = spec.services ?? DEFAULT_SERVICES;
  const counters = spec.counters ?? DEFAULT_COUNTERS;
  const centre: CentreFile = {
    priorityGroups: [
      { code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 },
      { code: 'child_under_6', name: { vi: 'Trẻ em dưới 6 tuổi', en: 'Child under 6' }, rank: 2 },
    ],
    ratingScale: [], ratingReasons: [], announcement: { vi: '', en: '' },
    sites: [{
      code, level: 'commune', name: `Test ${code}`, timezone: 'Asia/Ho_Chi_Minh', openingHours: spec.hours ?? {},
      services: services.map((s) => ({ ...s, name: { vi: s.code, en: s.code } })),
      counters: counters.map((c) => ({ ...c, name: `Quầy ${c.number}` })),
    }],
  };
  const [siteId] = await seedCentre(db, centre);
  await db.updateTable('site').set({
    priorityRatio: spec.priorityRatio ?? null,
    serviceOrder: spec.serviceOrder ?? 'longest_wait',
    transferToFront: spec.transferToFront ?? false,
  }).where('id', '=', siteId!).execute();

  const serviceRows = await db.selectFrom('service').select(['id', 'code']).where('siteId', '=', siteId!).execute();
  const counterRows = await db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', siteId!).execute();
  const staff: string[] = [];
  for (const c of counterRows.sort((a, b) => a.number - b.number)) {
    const user = await db.insertInto('appUser')
      .values({ username: `${code}-cb${c.number}`, passwordHash: 'x', displayName: `Cán bộ ${c.number}`, role: 'staff' })
      .returning('id').executeTakeFirstOrThrow();
    await db.insertInto('siteMembership').values({ siteId: siteId!, userId: user.id }).execute();
    staff.push(user.id);
  }
  return {
    siteId: siteId!,
    service: Object.fromEntries(serviceRows.map((s) => [s.code, s.id])),
    counter: Object.fromEntries(counterRows.map((c) => [c.number, c.id])),
    staff,
  };
}

/** Opens counter n with its official (staff[n-1]). */
export async function openCounter(queue: QueueService, site: SiteFixture, n: number) {
  return queue.openCounter({ counterId: site.counter[n]!, staffId: site.staff[n - 1]! });
}

export const at = (site: SiteFixture, n: number) => ({ counterId: site.counter[n]!, staffId: site.staff[n - 1]! });

/**
 * A busy morning behind `now`, straight into the table: `count` tickets of these services in
 * turn, finished one every 240 ms up to `now` in the order they were written, a third served and
 * the rest cancelled, numbered from 10,001 (a day's issues stay below). For plans: the planner
 * chooses by the table's size and statistics, which a few tickets issued by a test do not give.
 */
export async function busyMorning(db: Db, services: string[], now: Date, count = 30_000): Promise<void> {
  await sql`INSERT INTO ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, issued_at, queued_at, called_at, finished_at)
    SELECT ${randomBytes(6).toString('hex')} || '-' || g, v.site_id, v.id, v.id, (${now}::timestamptz AT TIME ZONE s.timezone)::date, 10000 + g, 'S' || g,
      CASE WHEN g % 3 = 0 THEN 'done' ELSE 'cancelled' END, f - interval '20 minutes', f - interval '20 minutes', f - interval '5 minutes', f
    FROM generate_series(1, ${count}::int) g,
      LATERAL (SELECT (${services}::uuid[])[1 + g % ${services.length}] AS id, ${now}::timestamptz - (${count}::int - g) * interval '240 ms' AS f) x
      JOIN service v ON v.id = x.id JOIN site s ON s.id = v.site_id`.execute(db);
}
