import { randomBytes } from 'node:crypto';
import type { Db } from '@qms/db';
import type { DeviceKind } from '@qms/protocol';
import { hashPassword } from './tokens.ts';

/**
 * First start on an empty database: create user `admin` (API.md "Bootstrap"). Returns the
 * password when it was generated, so main can print it once.
 */
export async function ensureAdmin(db: Db, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
  const any = await db.selectFrom('appUser').select('id').limit(1).executeTakeFirst();
  if (any) return { created: false };
  const chosen = password ?? randomBytes(9).toString('base64url');
  await db.insertInto('appUser')
    .values({ username: 'admin', passwordHash: await hashPassword(chosen), displayName: 'Quản trị viên', role: 'admin' })
    .onConflict((oc) => oc.column('username').doNothing())
    .execute();
  return password ? { created: true } : { created: true, generatedPassword: chosen };
}

export interface DemoAccess {
  siteCode: string;
  /** screen path -> pairing code, fresh on every start */
  pairing: { screen: DeviceKind; name: string; code: string }[];
  /** set on the first start only: the officials' shared password */
  staffPassword?: string;
  /** the demo officials who can sign in now (an account, active, of the site), by counter number */
  staffUsernames: string[];
}

/**
 * Demo mode: officials for every counter of the first demo site (created once), and a kiosk,
 * a display and a rating tablet whose fresh pairing codes are printed on each start, so the
 * printed URLs open working screens.
 */
export async function ensureDemoAccess(db: Db, auth: import('./auth.service.ts').AuthService, password: string | undefined): Promise<DemoAccess | undefined> {
  const site = await db.selectFrom('site').select(['id', 'code']).orderBy('createdAt').orderBy('code').limit(1).executeTakeFirst();
  if (!site) return undefined;
  const counters = await db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', site.id).orderBy('number').execute();
  const usernames = counters.map((c) => `canbo${c.number}`);
  const existing = await db.selectFrom('appUser').select('username').where('username', 'in', usernames.length ? usernames : ['-']).execute();
  let staffPassword: string | undefined;
  if (existing.length === 0 && counters.length) {
    staffPassword = password ?? randomBytes(6).toString('base64url');
    for (const c of counters) {
      await auth.createUser({ username: `canbo${c.number}`, password: staffPassword, displayName: `Cán bộ quầy ${c.number}`, role: 'staff', siteIds: [site.id] });
    }
  }
  const wanted = [
    { screen: 'kiosk' as const, kind: 'kiosk' as const, name: 'Kiosk sảnh chính', counterId: null },
    { screen: 'display' as const, kind: 'display' as const, name: 'Màn hình sảnh chính', counterId: null },
    { screen: 'rating' as const, kind: 'rating' as const, name: 'Máy đánh giá quầy 1', counterId: counters[0]?.id ?? null },
  ];
  const pairing: DemoAccess['pairing'] = [];
  for (const w of wanted) {
    if (w.kind === 'rating' && !w.counterId) continue;
    const device = await db.selectFrom('device').select('id').where('siteId', '=', site.id).where('name', '=', w.name)
      .where('revokedAt', 'is', null).executeTakeFirst();
    if (device) {
      pairing.push({ screen: w.screen, name: w.name, code: (await auth.newPairingCode(device.id)).code });
    } else {
      const created = await auth.registerDevice({ siteId: site.id, kind: w.kind, name: w.name, counterId: w.counterId });
      pairing.push({ screen: w.screen, name: w.name, code: created.pairingCode });
    }
  }
  // Only the accounts that exist: the officials are made once, for the counters of that first
  // start, so a counter added later in the console has no "canbo<n>" (the message once named
  // canbo7, who did not exist), and one a manager disabled or removed cannot sign in.
  const accounts = await db.selectFrom('appUser').innerJoin('siteMembership', 'siteMembership.userId', 'appUser.id')
    .select('appUser.username').where('appUser.username', 'in', usernames.length ? usernames : ['-'])
    .where('appUser.active', '=', true).where('siteMembership.siteId', '=', site.id).execute();
  const staffUsernames = usernames.filter((u) => accounts.some((a) => a.username === u));
  return { siteCode: site.code, pairing, staffUsernames, ...(staffPassword ? { staffPassword } : {}) };
}

/** The startup line about the demo officials, or none when there are none to sign in with. */
export function officialsLine(demo: DemoAccess): string | undefined {
  if (!demo.staffUsernames.length) return undefined;
  const password = demo.staffPassword ? ` with password: ${demo.staffPassword} (shown once)` : '.';
  return `Officials ${demo.staffUsernames.join(', ')} sign in at /counter/${password}`;
}
