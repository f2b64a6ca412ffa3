import type { DeviceKind } from '@qms/protocol';
import { createPool, seedDemoIfEmpty, type Db } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { buildApp, type App, type AppOptions } from '../../src/app.ts';
import { AuthService } from '../../src/auth/auth.service.ts';
import { ensureAdmin } from '../../src/auth/bootstrap.ts';

export const ADMIN_PASSWORD = 'admin-password-1';
export const PASSWORD = 'secret-password-1';

export interface ApiFixture {
  t: TestDatabase;
  app: App;
  siteId: string;
  otherSiteId: string;
  services: Record<string, string>;
  counters: Record<number, string>;
  tokens: {
    admin: string;
    manager: string;
    staff: string;
    staff2: string;
    otherStaff: string;
    kiosk: string;
    display: string;
    counterDevice: string;
    rating: string;
    otherKiosk: string;
  };
  deviceIds: Record<string, string>;
  userIds: Record<string, string>;
}

/** The demo centre with one of every kind of credential, on a fresh database. */
export async function apiFixture(options: Partial<AppOptions> = {}): Promise<ApiFixture> {
  const t = await createTestDatabase();
  await seedDemoIfEmpty(t.db);
  await ensureAdmin(t.db, ADMIN_PASSWORD);
  const sites = await t.db.selectFrom('site').select(['id', 'code']).orderBy('code').execute();
  const siteId = sites.find((s) => s.code === 'PHUONG-DONG-CAM')!.id;
  const otherSiteId = sites.find((s) => s.code === 'TINH-TTPVHCC')!.id;
  const services = Object.fromEntries((await t.db.selectFrom('service').select(['id', 'code']).where('siteId', '=', siteId).execute()).map((s) => [s.code, s.id]));
  const counters = Object.fromEntries((await t.db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', siteId).execute()).map((c) => [c.number, c.id]));

  const auth = new AuthService(t.db);
  const userIds: Record<string, string> = {};
  const login = async (username: string, role: 'manager' | 'staff', site: string) => {
    const user = await auth.createUser({ username, password: PASSWORD, displayName: `Cán bộ ${username}`, role, siteIds: [site] });
    userIds[username] = user.id;
    return (await auth.login(username, PASSWORD)).token;
  };
  const device = async (kind: DeviceKind, site: string, counterId?: string) => {
    const { device: d, token } = await auth.registerDevice({ siteId: site, kind, name: `${kind} test`, counterId: counterId ?? null });
    return { id: d.id, token };
  };
  const kiosk = await device('kiosk', siteId);
  const display = await device('display', siteId);
  const counterDevice = await device('counter', siteId, counters[1]);
  const rating = await device('rating', siteId, counters[1]);
  const otherKiosk = await device('kiosk', otherSiteId);
  const tokens = {
    admin: (await auth.login('admin', ADMIN_PASSWORD)).token,
    manager: await login('manager', 'manager', siteId),
    staff: await login('canbo1', 'staff', siteId),
    staff2: await login('canbo2', 'staff', siteId),
    otherStaff: await login('tinh1', 'staff', otherSiteId),
    kiosk: kiosk.token,
    display: display.token,
    counterDevice: counterDevice.token,
    rating: rating.token,
    otherKiosk: otherKiosk.token,
  };
  const app = await buildApp({ db: t.db, serveUi: false, config: { rateLimits: false }, ...options });
  return {
    t, app, siteId, otherSiteId, services, counters, tokens, userIds,
    deviceIds: { kiosk: kiosk.id, display: display.id, counterDevice: counterDevice.id, rating: rating.id, otherKiosk: otherKiosk.id },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function count(db: Db, table: 'ticket' | 'ticketEvent' | 'rating' | 'appUser' | 'site' | 'device' | 'service' | 'counter') {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Starts the app on a free port of 127.0.0.1 (for real socket.io and HTTP clients); returns its base URL. */
export async function listenLocally(app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

/** A JSON request over real HTTP to an app listening at `url` (see listenLocally). */
export async function http(url: string, method: string, path: string, token?: string, body?: object) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Two processes of a cluster on the fixture's database, as far as a test can tell: two apps,
 * each with its own pool for the socket.io adapter and its own LISTEN (named for pg_stat_activity).
 */
export async function twoProcesses(f: ApiFixture, name: string) {
  const apps: App[] = [];
  const pools: ReturnType<typeof createPool>[] = [];
  for (const process of ['a', 'b']) {
    const pool = createPool(f.t.url, { max: 2, applicationName: `${name}-${process}` });
    pools.push(pool);
    const app = await buildApp({ db: f.t.db, serveUi: false, clusterPool: pool, config: { rateLimits: false } });
    apps.push(app);
  }
  const [a, b] = await Promise.all(apps.map((app) => listenLocally(app))) as [string, string];
  return {
    a, b, appB: apps[1]!,
    async close() {
      for (const app of apps) await app.close();
      for (const pool of pools) await pool.end();
    },
  };
}
