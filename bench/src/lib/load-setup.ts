import { randomBytes } from 'node:crypto';
import { seedCentre, type CentreFile, type Db } from '@qms/db';
import type { Insertable } from 'kysely';
import type { DeviceTable } from '@qms/db';

type NewDevice = Insertable<DeviceTable>;
import { tokenHash } from '../../../server/src/auth/tokens.ts';

// Load setup straight into the database: sites, services, counters with their officials
// (sessions with known tokens) and devices with known tokens. Logging 1,000 officials in
// through argon2 would measure password hashing, not the queue.

/** A count for every site, or one per site (sites of different sizes). */
type PerSite = number | readonly number[];
const at = (n: PerSite | undefined, site: number): number => (typeof n === 'number' ? n : n?.[site] ?? 0);

export interface LoadSpec {
  sites: number;
  /** counters per site, each worked by its own official */
  countersPerSite: PerSite;
  displaysPerSite: PerSite;
  kiosksPerSite: PerSite;
  /** counter terminals as devices (kind "counter"), for the device-socket benchmarks */
  counterDevicesPerSite?: PerSite;
  /** rating tablets (kind "rating"), one per counter in turn */
  ratingDevicesPerSite?: PerSite;
  servicesPerSite?: number;
  /** the services of every site (default S0, S1... with prefixes A, B...) */
  services?: readonly { code: string; prefix: string; name: { vi: string; en: string } }[];
  /** the service codes of a site's counter (default two services in turn) */
  counterServices?: (counterIndex: number) => string[];
  /** open every counter (status open, official assigned) */
  openCounters?: boolean;
  /** a network printer for a kiosk: host/port on 127.0.0.1 */
  kioskPrinter?: (site: number, kiosk: number) => { host: string; port: number } | null;
}

export interface LoadCounter {
  id: string;
  number: number;
  serviceIds: string[];
  staffId: string;
  staffToken: string;
}

export interface LoadDevice {
  id: string;
  token: string;
  counterId?: string;
}

export interface LoadSite {
  index: number;
  siteId: string;
  code: string;
  services: string[];
  counters: LoadCounter[];
  displays: LoadDevice[];
  kiosks: LoadDevice[];
  counterDevices: LoadDevice[];
  ratingDevices: LoadDevice[];
}

const PREFIXES = 'ABCDEFGHJK';
const token = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

async function inChunks<T>(rows: T[], size: number, insert: (chunk: T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

export async function seedLoad(db: Db, spec: LoadSpec): Promise<LoadSite[]> {
  const servicesPerSite = spec.services?.length ?? Math.min(spec.servicesPerSite ?? 5, PREFIXES.length);
  const run = randomBytes(3).toString('hex');
  const services = spec.services ?? Array.from({ length: servicesPerSite }, (_, i) => ({ code: `S${i}`, prefix: PREFIXES[i]!, name: { vi: `Lĩnh vực ${i + 1}`, en: `Field ${i + 1}` } }));
  const codes = services.map((x) => x.code);
  const counterServices = spec.counterServices
    ?? ((c: number) => (servicesPerSite > 1 ? [codes[c % servicesPerSite]!, codes[(c + 1) % servicesPerSite]!] : [codes[0]!]));
  const centre: CentreFile = {
    priorityGroups: [{ code: 'elderly', name: { vi: 'Người cao tuổi', en: 'Elderly' }, rank: 1 }],
    ratingScale: [], ratingReasons: [], announcement: { vi: '', en: '' },
    sites: Array.from({ length: spec.sites }, (_, s) => ({
      code: `BENCH-${run}-${s}`,
      level: 'commune' as const,
      name: `Trung tâm thử tải ${s + 1}`,
      timezone: 'Asia/Ho_Chi_Minh',
      openingHours: {}, // open at all times: the bench runs whenever it is started
      services: services.map((x) => ({ ...x })),
      counters: Array.from({ length: at(spec.countersPerSite, s) }, (_, c) => ({ number: c + 1, name: `Quầy ${c + 1}`, services: counterServices(c) })),
    })),
  };
  const siteIds = await seedCentre(db, centre);

  const serviceRows = await db.selectFrom('service').select(['id', 'siteId', 'code']).where('siteId', 'in', siteIds).execute();
  const counterRows = await db.selectFrom('counter').select(['id', 'siteId', 'number']).where('siteId', 'in', siteIds).execute();
  const links = await db.selectFrom('counterService').innerJoin('counter', 'counter.id', 'counterService.counterId')
    .select(['counterService.counterId', 'counterService.serviceId']).where('counter.siteId', 'in', siteIds)
    .orderBy('counterService.counterId').orderBy('counterService.position').execute();
  const servicesOfCounter = new Map<string, string[]>();
  for (const l of links) servicesOfCounter.set(l.counterId, [...(servicesOfCounter.get(l.counterId) ?? []), l.serviceId]);

  const sites: LoadSite[] = siteIds.map((siteId, index) => ({
    index, siteId, code: centre.sites[index]!.code,
    services: serviceRows.filter((r) => r.siteId === siteId).sort((a, b) => a.code.localeCompare(b.code)).map((r) => r.id),
    counters: [], displays: [], kiosks: [], counterDevices: [], ratingDevices: [],
  }));
  const siteIndex = new Map(sites.map((s) => [s.siteId, s]));

  // one official per counter, with a session whose token we know
  const users = counterRows.map((c) => ({
    username: `${run}-${siteIndex.get(c.siteId)!.index}-cb${c.number}`,
    passwordHash: 'not-a-password-hash',
    displayName: `Cán bộ ${c.number}`,
    role: 'staff' as const,
  }));
  const userIds: string[] = [];
  await inChunks(users, 500, async (chunk) => {
    const rows = await db.insertInto('appUser').values(chunk).returning('id').execute();
    userIds.push(...rows.map((r) => r.id));
  });
  const expiresAt = new Date(Date.now() + 24 * 3_600_000);
  const memberships: { siteId: string; userId: string }[] = [];
  const sessions: { userId: string; tokenHash: string; expiresAt: Date }[] = [];
  counterRows.forEach((c, i) => {
    const staffId = userIds[i]!;
    const staffToken = token('qs_');
    memberships.push({ siteId: c.siteId, userId: staffId });
    sessions.push({ userId: staffId, tokenHash: tokenHash(staffToken), expiresAt });
    siteIndex.get(c.siteId)!.counters.push({ id: c.id, number: c.number, serviceIds: servicesOfCounter.get(c.id) ?? [], staffId, staffToken });
  });
  await inChunks(memberships, 1000, (chunk) => db.insertInto('siteMembership').values(chunk).execute());
  await inChunks(sessions, 1000, (chunk) => db.insertInto('userSession').values(chunk).execute());
  for (const site of sites) site.counters.sort((a, b) => a.number - b.number);

  if (spec.openCounters) {
    const now = new Date();
    for (const site of sites) {
      for (const c of site.counters) {
        await db.updateTable('counter').set({ status: 'open', staffId: c.staffId, statusChangedAt: now }).where('id', '=', c.id).execute();
      }
      await db.insertInto('counterEvent')
        .values(site.counters.map((c) => ({ counterId: c.id, type: 'opened' as const, staffId: c.staffId, reason: null, at: now })))
        .execute();
    }
  }

  // devices with known tokens
  const devices: { row: NewDevice; token: string; counterId: string | null; list: LoadDevice[] }[] = [];
  for (const site of sites) {
    const add = (kind: 'display' | 'kiosk' | 'counter' | 'rating', n: number, list: LoadDevice[]) => {
      for (let i = 0; i < n; i++) {
        const t = token('qd_');
        const counterId = kind === 'counter' || kind === 'rating' ? site.counters[i % site.counters.length]!.id : null;
        const printer = kind === 'kiosk' ? spec.kioskPrinter?.(site.index, i) ?? null : null;
        devices.push({
          token: t, counterId, list,
          row: {
            siteId: site.siteId, kind, name: `${kind} ${i + 1}`, counterId, tokenHash: tokenHash(t),
            pairingCodeHash: null, pairingExpiresAt: null, lastSeenAt: null, revokedAt: null,
            settings: JSON.stringify(printer ? { printer: { kind: 'tcp', ...printer } } : {}),
          },
        });
      }
    };
    add('display', at(spec.displaysPerSite, site.index), site.displays);
    add('kiosk', at(spec.kiosksPerSite, site.index), site.kiosks);
    add('counter', at(spec.counterDevicesPerSite, site.index), site.counterDevices);
    add('rating', at(spec.ratingDevicesPerSite, site.index), site.ratingDevices);
  }
  await inChunks(devices, 500, async (chunk) => {
    const rows = await db.insertInto('device').values(chunk.map((d) => d.row)).returning('id').execute();
    rows.forEach((r, i) => {
      const d = chunk[i]!;
      d.list.push({ id: r.id, token: d.token, ...(d.counterId ? { counterId: d.counterId } : {}) });
    });
  });
  return sites;
}

/**
 * An admin with a session whose token we know, for the API calls a manager would make (the
 * server creates its own admin only in an empty database, and seedLoad's officials come first).
 */
export async function seedAdmin(db: Db): Promise<string> {
  const adminToken = token('qs_');
  const { id } = await db.insertInto('appUser')
    .values({ username: `bench-admin-${randomBytes(3).toString('hex')}`, passwordHash: 'not-a-password-hash', displayName: 'Bench admin', role: 'admin' })
    .returning('id').executeTakeFirstOrThrow();
  await db.insertInto('userSession').values({ userId: id, tokenHash: tokenHash(adminToken), expiresAt: new Date(Date.now() + 24 * 3_600_000) }).execute();
  return adminToken;
}
