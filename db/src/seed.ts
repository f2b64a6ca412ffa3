import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from './connection.ts';
import { projectRoot } from './project-root.ts';
import type { Localized, SiteLevel } from './types.ts';

export interface CentreFile {
  priorityGroups: { code: string; name: Localized; rank: number }[];
  ratingScale: { score: number; label: Localized; asksReason?: boolean }[];
  ratingReasons: { code: string; label: Localized }[];
  announcement: Localized;
  sites: {
    code: string;
    level: SiteLevel;
    name: string;
    timezone?: string;
    openingHours?: Record<string, [string, string][]>;
    services: {
      code: string;
      prefix: string;
      name: Localized;
      targetWaitSeconds?: number;
      procedures?: { code: string; name: Localized; days?: number }[];
    }[];
    counters: { number: number; name: string; services: string[] }[];
  }[];
}

export function loadDemoCentre(): CentreFile {
  return JSON.parse(readFileSync(path.join(projectRoot, 'db/seed/demo-centre.json'), 'utf8')) as CentreFile;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** 'mon-fri' -> [1..5], 'sat' -> [6] (ISO weekdays, Monday = 1) */
export function parseWeekdays(key: string): number[] {
  const [from, to = from] = key.toLowerCase().split('-');
  const start = WEEKDAYS.indexOf(from ?? '');
  const end = WEEKDAYS.indexOf(to ?? '');
  if (start < 0 || end < 0 || end < start) throw new Error(`unknown weekday range "${key}"`);
  return WEEKDAYS.slice(start, end + 1).map((_, i) => start + i + 1);
}

/** Inserts every site of the file with its services, counters and settings. One transaction. */
export async function seedCentre(db: Db, centre: CentreFile): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const siteIds: string[] = [];
    for (const site of centre.sites) {
      const { id: siteId } = await trx
        .insertInto('site')
        .values({
          code: site.code,
          name: site.name,
          level: site.level,
          timezone: site.timezone ?? 'Asia/Ho_Chi_Minh',
          priorityRatio: null,
          settings: JSON.stringify({
            ratingScale: centre.ratingScale,
            ratingReasons: centre.ratingReasons,
            announcement: centre.announcement,
          }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      siteIds.push(siteId);

      const hours = Object.entries(site.openingHours ?? {}).flatMap(([days, sessions]) =>
        parseWeekdays(days).flatMap((weekday) => sessions.map(([opens, closes]) => ({ siteId, weekday, opens, closes }))),
      );
      if (hours.length) await trx.insertInto('openingHours').values(hours).execute();

      await trx
        .insertInto('priorityGroup')
        .values(centre.priorityGroups.map((g) => ({ siteId, code: g.code, name: JSON.stringify(g.name), rank: g.rank })))
        .execute();

      const serviceIds = new Map<string, string>();
      for (const [position, service] of site.services.entries()) {
        const { id } = await trx
          .insertInto('service')
          .values({
            siteId,
            code: service.code,
            prefix: service.prefix,
            name: JSON.stringify(service.name),
            targetWaitSeconds: service.targetWaitSeconds ?? 900,
            position,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        serviceIds.set(service.code, id);
        if (service.procedures?.length) {
          await trx
            .insertInto('procedure')
            .values(service.procedures.map((p) => ({
              serviceId: id, code: p.code, name: JSON.stringify(p.name), processingDays: p.days ?? null,
            })))
            .execute();
        }
      }

      for (const counter of site.counters) {
        const { id } = await trx
          .insertInto('counter')
          .values({ siteId, number: counter.number, name: counter.name, staffId: null, pauseReason: null })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('counterService')
          .values(counter.services.map((code, position) => {
            const serviceId = serviceIds.get(code);
            if (!serviceId) throw new Error(`counter ${counter.number} of ${site.code} names unknown service ${code}`);
            return { counterId: id, serviceId, position };
          }))
          .execute();
      }
    }
    return siteIds;
  });
}

/** Seeds the demo centre when the database holds no site yet. Returns whether it seeded. */
export async function seedDemoIfEmpty(db: Db): Promise<boolean> {
  const any = await db.selectFrom('site').select('id').limit(1).executeTakeFirst();
  if (any) return false;
  await seedCentre(db, loadDemoCentre());
  return true;
}
