import { sql } from 'kysely';
import type { Db } from '@qms/db';
import type { BookingSettings, CapacityProposal, CapacityReply, ProcedureInfo } from '@qms/protocol';
import { secondsOfDay } from '@qms/protocol/calendar';
import type { Committed } from '../app/after-commit.ts';
import { diff, type AuditActor, type AuditService } from '../audit/audit.service.ts';
import { siteUpdated } from '../queue/queue.events.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { serviceLoads } from '../queue/queue.repository.ts';
import { bookingSettings } from './settings.ts';

// What a manager keeps for appointments (docs/appointments.md, docs/manager.md): a site's booking
// rules, each field's capacity per block of a weekday, and what the public page shows of a
// procedure. Every change is in the audit log, written in the change's transaction; the site's
// screens (and the public page) hear `site:updated` ['bookings'].
//
// Weekdays: booking_capacity counts ISO weekdays, 1 = Monday … 7 = Sunday, as opening_hours.
//
// A block lies inside the opening hours when it starts and ends within one session of its weekday,
// and it is aligned when it starts a whole number of blocks after that session opens (a centre
// opening at 07:30 with 60-minute blocks has 07:30, 08:30 …). A site with no opening hours is
// open at all times: blocks are then aligned on midnight.

/** With no history, a field's service time is taken as its target wait, or this. */
export const FALLBACK_SERVICE_SECONDS = 600;

const hhmm = (seconds: number) => `${String(Math.floor(seconds / 3600)).padStart(2, '0')}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}`;

interface Session { opens: number; closes: number }

export interface CapacityProblem {
  serviceId: string;
  weekday: number;
  starts: string;
  reason: 'unknown_service' | 'outside_hours' | 'not_aligned' | 'duplicate';
}

const invalidCapacity = (problems: CapacityProblem[]) => new QueueError(
  'INVALID_CAPACITY',
  `${problems.length} block(s) cannot be offered: ${problems.slice(0, 5).map((p) => `${p.serviceId} ${p.weekday} ${p.starts} ${p.reason}`).join('; ')}`,
  400,
  { problems },
);

export class BookingConfigService {
  constructor(private readonly db: Db, private readonly audit: AuditService, private readonly now: () => Date) {}

  async settings(siteId: string): Promise<BookingSettings> {
    return bookingSettings(await this.site(siteId));
  }

  /** The whole object replaces the site's rules (the schema checked each field). */
  async setSettings(siteId: string, settings: BookingSettings, by: AuditActor): Promise<Committed<BookingSettings>> {
    await this.db.transaction().execute(async (trx) => {
      const site = await trx.selectFrom('site').select('settings').where('id', '=', siteId).forNoKeyUpdate().executeTakeFirst();
      if (!site) throw notFoundSite(siteId);
      const changes = diff(bookingSettings(site), settings);
      await trx.updateTable('site').set({ settings: sql`settings || jsonb_build_object('bookings', ${JSON.stringify(settings)}::jsonb)` })
        .where('id', '=', siteId).execute();
      if (Object.keys(changes).length) {
        await this.audit.record({ actor: by, siteId, action: 'booking_settings.update', target: { type: 'site', id: siteId }, changes }, trx);
      }
    });
    return { value: settings, events: [siteUpdated(siteId, ['bookings'])] };
  }

  async capacity(siteId: string): Promise<CapacityReply> {
    await this.site(siteId);
    const rows = await this.db.selectFrom('bookingCapacity').innerJoin('service', 'service.id', 'bookingCapacity.serviceId')
      .select(['bookingCapacity.serviceId', 'bookingCapacity.weekday', 'bookingCapacity.starts', 'bookingCapacity.capacity'])
      .where('bookingCapacity.siteId', '=', siteId)
      .orderBy('service.position').orderBy('service.code').orderBy('bookingCapacity.weekday').orderBy('bookingCapacity.starts')
      .execute();
    return { blocks: rows.map((r) => ({ serviceId: r.serviceId, weekday: r.weekday, starts: r.starts.slice(0, 5), capacity: r.capacity })) };
  }

  /**
   * Replaces the site's blocks, all of them, in one transaction. Refused as a whole (400
   * INVALID_CAPACITY, details.problems) when a block is of another site's field, outside the
   * opening hours of its weekday, not aligned on the block length, or listed twice.
   */
  async setCapacity(siteId: string, { blocks }: CapacityReply, by: AuditActor): Promise<Committed<CapacityReply>> {
    await this.db.transaction().execute(async (trx) => {
      const site = await trx.selectFrom('site').select('settings').where('id', '=', siteId).forNoKeyUpdate().executeTakeFirst();
      if (!site) throw notFoundSite(siteId);
      const { blockMinutes } = bookingSettings(site);
      const services = new Set((await trx.selectFrom('service').select('id').where('siteId', '=', siteId).execute()).map((s) => s.id));
      const hours = await this.hours(siteId, trx);
      const problems: CapacityProblem[] = [];
      const seen = new Set<string>();
      for (const b of blocks) {
        const key = `${b.serviceId} ${b.weekday} ${b.starts}`;
        const reason = !services.has(b.serviceId) ? 'unknown_service'
          : seen.has(key) ? 'duplicate'
            : blockProblem(hours, b.weekday, secondsOfDay(b.starts), blockMinutes);
        seen.add(key);
        if (reason) problems.push({ serviceId: b.serviceId, weekday: b.weekday, starts: b.starts, reason });
      }
      if (problems.length) throw invalidCapacity(problems);

      const block = (b: { serviceId: string; weekday: number; starts: string; capacity: number }) => `${b.serviceId} ${b.weekday} ${b.starts.slice(0, 5)}`;
      const before = new Map((await trx.selectFrom('bookingCapacity').select(['serviceId', 'weekday', 'starts', 'capacity']).where('siteId', '=', siteId).execute())
        .map((r) => [block(r), r.capacity]));
      const after = new Map(blocks.map((b) => [block(b), b.capacity]));
      await trx.deleteFrom('bookingCapacity').where('siteId', '=', siteId).execute();
      if (blocks.length) {
        await trx.insertInto('bookingCapacity')
          .values(blocks.map((b) => ({ siteId, serviceId: b.serviceId, weekday: b.weekday, starts: b.starts, capacity: b.capacity }))).execute();
      }
      // the blocks that changed, each {from, to} (null: none), rather than two lists of hundreds
      const changes = Object.fromEntries([...new Set([...before.keys(), ...after.keys()])].sort()
        .filter((k) => before.get(k) !== after.get(k))
        .map((k) => [k, { from: before.get(k) ?? null, to: after.get(k) ?? null }]));
      if (Object.keys(changes).length) {
        await this.audit.record({ actor: by, siteId, action: 'booking_capacity.update', target: { type: 'site', id: siteId }, changes }, trx);
      }
    });
    return { value: await this.capacity(siteId), events: [siteUpdated(siteId, ['bookings'])] };
  }

  /**
   * A capacity for each active field, weekday and block inside the opening hours:
   * floor(blockMinutes·60 / serviceSeconds × counters × bookingShare), where serviceSeconds is the
   * mean of the field's last served tickets (the estimate's: queue.repository.ts serviceLoads), or
   * its target wait, or 600 s, and counters are the active counters serving the field.
   */
  async proposal(siteId: string): Promise<CapacityProposal> {
    const site = await this.site(siteId);
    const { blockMinutes, bookingShare } = bookingSettings(site);
    const hours = await this.hours(siteId, this.db);
    const loads = await serviceLoads(this.db, siteId, this.now());
    const blocks: CapacityProposal['blocks'] = [];
    for (const load of loads) {
      // a mean of 0 s (tickets finished as they were called) says nothing: the fallbacks then
      const recent = load.recentServiceSeconds !== null && load.recentServiceSeconds >= 1 ? load.recentServiceSeconds : null;
      const serviceSeconds = recent ?? (load.targetWaitSeconds > 0 ? load.targetWaitSeconds : FALLBACK_SERVICE_SECONDS);
      const capacity = Math.min(1000, Math.floor(((blockMinutes * 60) / serviceSeconds) * load.counters * bookingShare + 1e-9));
      for (let weekday = 1; weekday <= 7; weekday++) {
        for (const starts of blockStarts(hours, weekday, blockMinutes)) {
          blocks.push({ serviceId: load.serviceId, weekday, starts: hhmm(starts), capacity, counters: load.counters, serviceSeconds });
        }
      }
    }
    return { blocks };
  }

  /** What the public page shows of a procedure: every listing of its code in the site's fields. */
  async setProcedureInfo(siteId: string, code: string, info: ProcedureInfo, by: AuditActor): Promise<Committed<ProcedureInfo>> {
    await this.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
        .select(['procedure.id', 'procedure.info']).where('service.siteId', '=', siteId).where('procedure.code', '=', code)
        .forNoKeyUpdate('procedure').execute();
      if (!rows.length) throw new QueueError('UNKNOWN_PROCEDURE', `No procedure ${code} in this site's fields`, 404);
      await trx.updateTable('procedure').set({ info: JSON.stringify(info) }).where('id', 'in', rows.map((r) => r.id)).execute();
      // jsonb keeps keys in its own order: compare with sorted keys
      const changes = diff(canonical({ ...rows[0]!.info }), canonical({ ...info }));
      // a field cleared: `to` null
      for (const field of ['steps', 'documents', 'processingTime', 'fees', 'url'] as const) {
        if (rows[0]!.info[field] !== undefined && info[field] === undefined) changes[field] = { from: rows[0]!.info[field], to: null };
      }
      if (Object.keys(changes).length) {
        await this.audit.record({ actor: by, siteId, action: 'procedure.info', target: { type: 'procedure', id: code }, changes }, trx);
      }
    });
    return { value: info, events: [siteUpdated(siteId, ['services'])] };
  }

  private async site(siteId: string) {
    const site = await this.db.selectFrom('site').select(['id', 'settings']).where('id', '=', siteId).executeTakeFirst();
    if (!site) throw notFoundSite(siteId);
    return site;
  }

  /** The sessions of each ISO weekday, in seconds of the day; none at all: open at all times. */
  private async hours(siteId: string, db: Pick<Db, 'selectFrom'>): Promise<Map<number, Session[]> | null> {
    const rows = await db.selectFrom('openingHours').select(['weekday', 'opens', 'closes']).where('siteId', '=', siteId).orderBy('opens').execute();
    if (!rows.length) return null;
    const byDay = new Map<number, Session[]>();
    for (const r of rows) byDay.set(r.weekday, [...(byDay.get(r.weekday) ?? []), { opens: secondsOfDay(r.opens), closes: secondsOfDay(r.closes) }]);
    return byDay;
  }
}

const ALL_DAY: Session[] = [{ opens: 0, closes: 24 * 3600 }];
const sessionsOf = (hours: Map<number, Session[]> | null, weekday: number) => (hours ? hours.get(weekday) ?? [] : ALL_DAY);

/** Why a block of `weekday` (ISO, 7 = Sunday) starting at `starts` (seconds of the day) cannot be offered; null when it can. */
export function blockProblem(hours: Map<number, Session[]> | null, weekday: number, starts: number, blockMinutes: number): 'outside_hours' | 'not_aligned' | null {
  const length = blockMinutes * 60;
  const session = sessionsOf(hours, weekday).find((s) => starts >= s.opens && starts + length <= s.closes);
  if (!session) return 'outside_hours';
  return (starts - session.opens) % length === 0 ? null : 'not_aligned';
}

/** The starts (seconds of the day) of the whole blocks inside the sessions of `weekday`. */
export function blockStarts(hours: Map<number, Session[]> | null, weekday: number, blockMinutes: number): number[] {
  const length = blockMinutes * 60;
  const starts: number[] = [];
  for (const s of sessionsOf(hours, weekday)) {
    for (let t = s.opens; t + length <= s.closes; t += length) starts.push(t);
  }
  return starts.sort((a, b) => a - b);
}

/** The value with every object's keys sorted (the audit's diff compares JSON text). */
function canonical<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonical) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])])) as T;
}

const notFoundSite = (siteId: string) => new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
