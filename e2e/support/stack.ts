import { seedDemoIfEmpty } from '@qms/db';
import type { DeviceKind } from '@qms/protocol';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { buildApp, type App } from '../../server/src/app.ts';
import { AuthService } from '../../server/src/auth/auth.service.ts';
import { ensureAdmin } from '../../server/src/auth/bootstrap.ts';

export const ADMIN_PASSWORD = 'admin-e2e-password';
export const STAFF_PASSWORD = 'staff-e2e-password';

export interface Stack {
  t: TestDatabase;
  app: App;
  baseUrl: string;
  siteId: string;
  services: Record<string, string>;
  counters: Record<number, string>;
  auth: AuthService;
  /** the server's time now (its clock) */
  now(): Date;
  /** a JSON request to the API as `token`'s holder: its status, raw text and parsed body */
  api<T = any>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token: string, body?: object): Promise<{ status: number; text: string; body: T }>;
  /** an official's or manager's bearer token (STAFF_PASSWORD) */
  login(username: string): Promise<string>;
  /** a new device of the demo site and its pairing code (what an admin would hand out) */
  device(kind: DeviceKind, counterNumber?: number): Promise<{ id: string; token: string; pairingCode: string }>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** the server's clock (the screens take theirs from the server's snapshots) */
  clock?: () => Date;
  /** how often the server looks for a day that is over (ms) */
  dayEndCheckMs?: number;
}

/**
 * The server's clock unless a test gives one: today (the real local date in Hà Nội, so the
 * console, which dates by the browser, agrees) from 09:00, running. A test file takes minutes:
 * it never crosses midnight, whatever the hour it runs at (npm run test:any-day).
 */
function morningClock(): () => Date {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  const start = Date.parse(`${today}T09:00:00+07:00`);
  const t0 = performance.now();
  return () => new Date(start + Math.floor(performance.now() - t0));
}

/**
 * The real server with the built screens, on 127.0.0.1 and a fresh database seeded with the
 * demo centre; officials canbo1..canbo6 (STAFF_PASSWORD) work the counters of PHUONG-DONG-CAM.
 * Opening hours are removed so the centre is open whenever the test runs (and its day ends at
 * local midnight).
 */
export async function startStack({ clock = morningClock(), dayEndCheckMs }: StackOptions = {}): Promise<Stack> {
  const t = await createTestDatabase();
  await seedDemoIfEmpty(t.db);
  await ensureAdmin(t.db, ADMIN_PASSWORD);
  await t.db.deleteFrom('openingHours').execute();
  const site = await t.db.selectFrom('site').select('id').where('code', '=', 'PHUONG-DONG-CAM').executeTakeFirstOrThrow();
  const services = Object.fromEntries((await t.db.selectFrom('service').select(['id', 'code']).where('siteId', '=', site.id).execute()).map((s) => [s.code, s.id]));
  const counterRows = await t.db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', site.id).execute();
  const counters = Object.fromEntries(counterRows.map((c) => [c.number, c.id]));
  const auth = new AuthService(t.db);
  for (const c of counterRows) {
    await auth.createUser({ username: `canbo${c.number}`, password: STAFF_PASSWORD, displayName: `Nguyễn Văn ${c.number}`, role: 'staff', siteIds: [site.id] });
  }
  await auth.createUser({ username: 'quanly', password: STAFF_PASSWORD, displayName: 'Trần Thị Quản Lý', role: 'manager', siteIds: [site.id] });
  // the kiosk tests' pretend printer listens on 127.0.0.1
  const app = await buildApp({ db: t.db, serveUi: true, config: { rateLimits: false }, allowLoopbackPrinters: true, clock, dayEndCheckMs });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const api: Stack['api'] = async (method, url, token, body) => {
    const res = await fetch(`${baseUrl}/api/v1${url}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };
  return {
    t, app, baseUrl, siteId: site.id, services, counters, auth, now: clock, api,
    login: async (username) => (await api('POST', '/auth/login', '', { username, password: STAFF_PASSWORD })).body.token as string,
    async device(kind, counterNumber) {
      const { device, token, pairingCode } = await auth.registerDevice({
        siteId: site.id, kind, name: `${kind} e2e`, counterId: counterNumber ? counters[counterNumber]! : null,
      });
      return { id: device.id, token, pairingCode };
    },
    async close() {
      await app.close();
      await t.drop();
    },
  };
}
