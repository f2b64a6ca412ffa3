import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CamelCasePlugin, Kysely, PostgresDialect, sql } from 'kysely';
import { createPool, type Database, type Db } from '@qms/db';
import { buildApp, type App } from '../../src/app.ts';
import { AUTH_CHANNEL } from '../../src/http/auth.plugin.ts';
import { AuthService, PrincipalCache } from '../../src/auth/auth.service.ts';
import { newToken, STAFF_TOKEN_PREFIX, tokenHash } from '../../src/auth/tokens.ts';
import { apiFixture, http, PASSWORD, twoProcesses, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { SocketClients } from '../support/sockets.ts';

// The token cache (AuthService.cache), and call-next checking the counter's site in its own
// statement: a call-next looks up neither, and every change to what a token stands for still takes
// effect at once, here over real HTTP and real sockets, in this process and in another process
// of a cluster (NOTIFY/LISTEN).

let f: ApiFixture;
let base: string;
const sockets = new SocketClients(() => base);

beforeAll(async () => {
  f = await apiFixture();
  // the demo centre is closed at night and on Sundays: drop its hours for these tests
  await f.t.db.deleteFrom('openingHours').execute();
  base = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

const me = (token: string, url = base) => http(url, 'GET', '/auth/me', token);
/**
 * A request's own statements: without a queue:stats count (its services' loads, and the calendar
 * when one has nobody serving it), which runs after a change, later than planned on a busy machine.
 */
const ownStatements = (list: string[]) => list.filter((s) => !/qms_service_load\(|from "opening_hours"|from "holiday"/.test(s));
const login = async (username: string, password = PASSWORD, url = base) => {
  const r = await http(url, 'POST', '/auth/login', undefined, { username, password });
  expect(r.status).toBe(200);
  return r.body.token as string;
};

/** A staff member of the site with a session of their own. */
let serial = 0;
async function newOfficial(url = base): Promise<{ id: string; token: string; username: string }> {
  const username = `cache${++serial}`;
  const created = await http(url, 'POST', `/sites/${f.siteId}/staff`, f.tokens.admin, { username, password: PASSWORD, displayName: `Cán bộ ${serial}`, role: 'staff' });
  expect(created.status).toBe(201);
  return { id: created.body.user?.id ?? created.body.id, token: await login(username, PASSWORD, url), username };
}

/** A session row written by hand, so a test can choose when it ends. */
async function sessionEndingIn(userId: string, ms: number): Promise<string> {
  const token = newToken(STAFF_TOKEN_PREFIX);
  await f.t.db.insertInto('userSession').values({ userId, tokenHash: tokenHash(token), expiresAt: new Date(Date.now() + ms) }).execute();
  return token;
}

/** Deletes a session behind the server's back (no announcement): only a lookup would see it. */
const deleteSessionBySql = (token: string) => f.t.db.deleteFrom('userSession').where('tokenHash', '=', tokenHash(token)).execute();

async function socketError(token: string, url = base): Promise<string | undefined> {
  const socket = sockets.open({ token }, url);
  return new Promise((resolve) => {
    socket.once('connect_error', (e) => resolve(e.message));
    socket.once('queue:snapshot', () => resolve(undefined));
  });
}

describe('token cache, one process', () => {
  it('serves a resolved token from memory (a session deleted by hand still works until announced)', async () => {
    const { token } = await newOfficial();
    expect((await me(token)).status).toBe(200);
    await deleteSessionBySql(token);
    // nobody announced it: this is what the cache saves, and why every change must be announced
    expect((await me(token)).status).toBe(200);
    expect(f.app.auth.cache.size).toBeGreaterThan(0);
  });

  it('logout: the token is refused at once, over HTTP and on a new socket', async () => {
    const { token } = await newOfficial();
    expect((await me(token)).status).toBe(200);
    expect(await socketError(token)).toBeUndefined();
    expect((await http(base, 'POST', '/auth/logout', token)).status).toBe(204);
    expect((await me(token)).status).toBe(401);
    expect((await http(base, 'POST', `/counters/${f.counters[6]}/call-next`, token)).status).toBe(401);
    expect(await socketError(token)).toBe('UNAUTHENTICATED');
  });

  it('session expiry: a cached session ends at its expiry, not at the cache entry\'s', async () => {
    const official = await newOfficial();
    const token = await sessionEndingIn(official.id, 1_500);
    expect((await me(token)).status).toBe(200);
    expect(await socketError(token)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await me(token)).status).toBe(401);
    expect(await socketError(token)).toBe('UNAUTHENTICATED');
  });

  it('device revoke: the kiosk\'s token is refused at once', async () => {
    const created = await http(base, 'POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk cache' });
    expect(created.status).toBe(201);
    const paired = await http(base, 'POST', '/devices/pair', undefined, { code: created.body.pairingCode });
    expect(paired.status).toBe(200);
    const kiosk = paired.body.token as string;
    const issue = () => http(base, 'POST', `/sites/${f.siteId}/tickets`, kiosk, { serviceId: f.services.HT });
    expect((await issue()).status).toBe(201);
    expect(await socketError(kiosk)).toBeUndefined();
    const tickets = await f.t.db.selectFrom('ticket').select('id').execute();

    expect((await http(base, 'DELETE', `/devices/${paired.body.device.id}`, f.tokens.manager)).status).toBe(204);
    expect((await issue()).status).toBe(401);
    expect((await me(kiosk)).status).toBe(401);
    expect(await socketError(kiosk)).toBe('UNAUTHENTICATED');
    expect(await f.t.db.selectFrom('ticket').select('id').execute()).toHaveLength(tickets.length);
  });

  it('pairing a device again: its previous token is refused at once, the new one works', async () => {
    const created = await http(base, 'POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'Display cache' });
    const first = await http(base, 'POST', '/devices/pair', undefined, { code: created.body.pairingCode });
    const old = first.body.token as string;
    expect((await me(old)).status).toBe(200);
    const code = await http(base, 'POST', `/devices/${first.body.device.id}/pairing-code`, f.tokens.manager);
    expect(code.status).toBe(200);
    const second = await http(base, 'POST', '/devices/pair', undefined, { code: code.body.pairingCode });
    expect(second.status).toBe(200);
    expect((await me(old)).status).toBe(401);
    expect((await me(second.body.token)).status).toBe(200);
  });

  it('device rename: the device sees its new name at once', async () => {
    expect((await me(f.tokens.display)).body.device.name).toBe('display test');
    expect((await http(base, 'PUT', `/devices/${f.deviceIds.display}`, f.tokens.manager, { name: 'Màn hình sảnh' })).status).toBe(204);
    expect((await me(f.tokens.display)).body.device.name).toBe('Màn hình sảnh');
  });

  it('role change: the new role applies to the next request', async () => {
    const official = await newOfficial();
    expect((await me(official.token)).body.user.role).toBe('staff');
    // a manager may list the site's devices, an official may not
    expect((await http(base, 'GET', `/sites/${f.siteId}/devices`, official.token)).status).toBe(403);
    expect((await http(base, 'PUT', `/users/${official.id}`, f.tokens.admin, { role: 'manager' })).status).toBe(200);
    expect((await me(official.token)).body.user.role).toBe('manager');
    expect((await http(base, 'GET', `/sites/${f.siteId}/devices`, official.token)).status).toBe(200);
    expect((await http(base, 'PUT', `/users/${official.id}`, f.tokens.admin, { role: 'staff' })).status).toBe(200);
    expect((await http(base, 'GET', `/sites/${f.siteId}/devices`, official.token)).status).toBe(403);
  });

  it('account disabled: refused at once', async () => {
    const official = await newOfficial();
    expect((await me(official.token)).status).toBe(200);
    expect((await http(base, 'PUT', `/users/${official.id}`, f.tokens.manager, { active: false })).status).toBe(200);
    expect((await me(official.token)).status).toBe(401);
    expect(await socketError(official.token)).toBe('UNAUTHENTICATED');
  });

  it('site membership: removed from a site, the official can no longer call there; added, can at once', async () => {
    const official = await newOfficial();
    const counter = f.counters[5]!;
    expect((await http(base, 'POST', `/counters/${counter}/open`, official.token)).status).toBe(200);
    expect((await http(base, 'POST', `/counters/${counter}/close`, official.token)).status).toBe(200);
    expect((await http(base, 'DELETE', `/sites/${f.siteId}/staff/${official.id}`, f.tokens.manager)).status).toBe(204);
    const refused = await http(base, 'POST', `/counters/${counter}/open`, official.token);
    expect(refused.status).toBe(403);
    expect((await me(official.token)).body.siteIds).toEqual([]);
    expect((await http(base, 'PUT', `/sites/${f.siteId}/staff/${official.id}`, f.tokens.admin)).status).toBe(200);
    expect((await me(official.token)).body.siteIds).toEqual([f.siteId]);
    expect((await http(base, 'POST', `/counters/${counter}/open`, official.token)).status).toBe(200);
    expect((await http(base, 'POST', `/counters/${counter}/close`, official.token)).status).toBe(200);
  });

  it('an unknown counter stays a 404 every time (unknown ids are not cached)', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (let i = 0; i < 2; i++) expect((await http(base, 'POST', `/counters/${missing}/call-next`, f.tokens.staff)).status).toBe(404);
  });
});

/** An app on a database handle that logs every statement it sends (lower case, one line each). */
async function withLoggedApp(work: (x: { db: Db; url: string; statements: string[] }) => Promise<void>): Promise<void> {
  const statements: string[] = [];
  const db: Db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(f.t.url, { max: 8 }) }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
    log: (event) => void statements.push(event.query.sql.replace(/\s+/g, ' ').toLowerCase()),
  });
  // no notification worker: its relaying would be statements of its own among the request's
  const app = await buildApp({ db, serveUi: false, config: { rateLimits: false, notifyPollMs: 0 } });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    await work({ db, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, statements });
  } finally {
    await app.close();
    await db.destroy();
  }
}

describe('statements per call-next', () => {
  it('a warm call-next reads neither the session nor the counter\'s site: one statement, no transaction', async () => {
    await withLoggedApp(async ({ db, url, statements }) => {
      const official = await newOfficial(url);
      const counter = f.counters[3]!;
      const { serviceId } = await f.t.db.selectFrom('counterService').select('serviceId').where('counterId', '=', counter)
        .orderBy('position').executeTakeFirstOrThrow();
      const lookups = (list: string[]) => list.filter((s) => s.includes('"user_session"') || (/from "counter"/.test(s) && !s.includes('for update')));
      const run = async (path: string, token: string, body?: object) => {
        statements.length = 0;
        const r = await http(url, 'POST', path, token, body);
        return { status: r.status, body: r.body, statements: ownStatements(statements) };
      };
      // the first request of a token looks it up, and the first action at a counter reads its site
      const opened = await run(`/counters/${counter}/open`, official.token);
      expect(opened.status).toBe(200);
      expect(lookups(opened.statements).length).toBeGreaterThanOrEqual(1);
      const perCall: number[] = [];
      for (let i = 0; i < 3; i++) {
        expect((await run(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId })).status).toBe(201);
        await new Promise((r) => setTimeout(r, 50)); // the issue's queue:stats count runs 10 ms after it
        const called = await run(`/counters/${counter}/call-next`, official.token);
        expect(called.status).toBe(200);
        expect(lookups(called.statements)).toEqual([]);
        // the call's own statements, up to the one that calls (a queue:stats count may run after it)
        const call = called.statements.findIndex((s) => s.includes('qms_call_next('));
        expect(call).toBeGreaterThanOrEqual(0);
        expect(called.statements.slice(0, call + 1).filter((s) => s === 'begin' || s === 'commit')).toEqual([]);
        perCall.push(call + 1);
        expect((await run(`/tickets/${called.body.ticket.id}/finish`, official.token)).status).toBe(200);
      }
      // 1 at the time of writing (qms_call_next in autocommit; was BEGIN, lock, call, COMMIT)
      expect(Math.max(...perCall)).toBeLessThanOrEqual(1);

      // a process that never saw the counter (a restart, or another process of a cluster): its
      // first call-next there does not read the counter's site either (qms_call_next checks it)
      const fresh = await buildApp({ db, serveUi: false, config: { rateLimits: false, notifyPollMs: 0 } });
      try {
        await fresh.listen({ port: 0, host: '127.0.0.1' });
        const freshUrl = `http://127.0.0.1:${(fresh.server.address() as { port: number }).port}`;
        expect((await me(official.token, freshUrl)).status).toBe(200); // the token only
        expect((await run(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId })).status).toBe(201);
        await new Promise((r) => setTimeout(r, 50));
        statements.length = 0;
        const first = await http(freshUrl, 'POST', `/counters/${counter}/call-next`, official.token);
        expect(first.status).toBe(200);
        expect(lookups(statements)).toEqual([]);
        expect(ownStatements(statements).findIndex((s) => s.includes('qms_call_next('))).toBe(0);
        expect((await run(`/tickets/${first.body.ticket.id}/finish`, official.token)).status).toBe(200);

        // and an official of another site is still refused there, in that same statement, and
        // nothing changes: no ticket called, the counter still the official's and free
        expect((await run(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId })).status).toBe(201);
        const waiting = async () => (await f.t.db.selectFrom('ticket').select('id').where('status', '=', 'waiting').execute()).length;
        const before = await waiting();
        const refused = await http(freshUrl, 'POST', `/counters/${counter}/call-next`, f.tokens.otherStaff);
        expect(refused).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'You are not staff of this site' } } });
        expect(await waiting()).toBe(before);
        expect(await f.t.db.selectFrom('counter').select(['staffId', 'status']).where('id', '=', counter).executeTakeFirst())
          .toEqual({ staffId: official.id, status: 'open' });
        const missing = await http(freshUrl, 'POST', '/counters/00000000-0000-4000-8000-000000000000/call-next', f.tokens.otherStaff);
        expect(missing.status).toBe(404); // an unknown counter is 404 before anything else, as before
      } finally {
        await fresh.close();
      }
      await run(`/counters/${counter}/close`, official.token);
    });
  });
});

describe('statements per issue', () => {
  it('reads the site, service and calendar once, then takes the number, counts and inserts in one statement, with no transaction of its own', async () => {
    await withLoggedApp(async ({ url, statements }) => {
      const serviceId = Object.values(f.services)[0]!;
      statements.length = 0;
      expect((await http(url, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId })).status).toBe(201);
      // the issue's settings (site, service, priority group, hours, holidays, procedure), then
      // qms_issue: the number's row lock is held for the function's statements only
      expect(statements.filter((s) => /from site s left join service v|from qms_issue\(/.test(s)))
        .toEqual([expect.stringMatching(/from site s left join service v/), expect.stringMatching(/from qms_issue\(/)]);
      await new Promise((r) => setTimeout(r, 100)); // its queue:stats count
      statements.length = 0;
      const issued = await http(url, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId });
      expect(issued.status).toBe(201);
      // the settings are kept a few seconds (queue/site-settings.cache.ts): the next ticket is one statement
      expect(ownStatements(statements)[0]).toMatch(/from qms_issue\(/);
      expect(statements.filter((s) => s.includes('from site s left join service v'))).toEqual([]);
      expect(statements).not.toContain('begin');
      // the kiosk's printer comes with its token's principal: its device row is not read again
      expect(statements.filter((s) => s.includes('from "device"'))).toEqual([]);
      expect(issued.body.print).toEqual({ status: 'none' });
      const ticket = await f.t.db.selectFrom('ticketEvent').select(['type', 'toStatus']).where('ticketId', '=', issued.body.ticket.id).execute();
      expect(ticket).toEqual([{ type: 'issued', toStatus: 'waiting' }]);
    });
  });
});

describe('statements per finish', () => {
  it('finds the official\'s counter, locks it and the ticket, moves it, records it and reads the official to rate in one statement, with no transaction of its own', async () => {
    await withLoggedApp(async ({ url, statements }) => {
      const official = await newOfficial(url);
      const counter = f.counters[3]!;
      const { serviceId } = await f.t.db.selectFrom('counterService').select('serviceId').where('counterId', '=', counter)
        .orderBy('position').executeTakeFirstOrThrow();
      expect((await http(url, 'POST', `/counters/${counter}/open`, official.token)).status).toBe(200);
      for (const started of [false, true]) {
        expect((await http(url, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId })).status).toBe(201);
        const called = await http(url, 'POST', `/counters/${counter}/call-next`, official.token);
        expect(called.status).toBe(200);
        if (started) expect((await http(url, 'POST', `/tickets/${called.body.ticket.id}/start`, official.token)).status).toBe(200);
        await new Promise((r) => setTimeout(r, 150)); // the queue:stats counts of the issue and the call
        statements.length = 0;
        expect((await http(url, 'POST', `/tickets/${called.body.ticket.id}/finish`, official.token)).status).toBe(200);
        // was: which counter the official works, begin, lock the counter and the ticket, update, commit (five)
        expect(ownStatements(statements)).toEqual([expect.stringMatching(/from qms_move\(/)]);
        const history = await f.t.db.selectFrom('ticketEvent').select(['type', 'fromStatus', 'toStatus', 'counterId', 'staffId'])
          .where('ticketId', '=', called.body.ticket.id).orderBy('at').orderBy('id').execute();
        expect(history.at(-1)).toEqual({ type: 'finished', fromStatus: started ? 'serving' : 'called', toStatus: 'done', counterId: counter, staffId: official.id });
      }
      await http(url, 'POST', `/counters/${counter}/close`, official.token);
    });
  });
});

describe('token cache, AuthService on PostgreSQL', () => {
  it('keeps an entry no longer than cacheMs: a change nobody announced is seen within it', async () => {
    const auth = new AuthService(f.t.db, { cacheMs: 300 });
    const official = await newOfficial();
    const token = await sessionEndingIn(official.id, 3_600_000);
    expect(await auth.resolve(token)).toMatchObject({ kind: 'staff' });
    await deleteSessionBySql(token);
    expect(await auth.resolve(token)).toMatchObject({ kind: 'staff' }); // cached
    await new Promise((r) => setTimeout(r, 350));
    expect(await auth.resolve(token)).toBeUndefined();
  });

  it('does not cache a lookup that was in flight when something was forgotten', async () => {
    const auth = new AuthService(f.t.db);
    const official = await newOfficial();
    const token = await sessionEndingIn(official.id, 3_600_000);
    const inFlight = auth.resolve(token);
    auth.cache.forget({ userId: official.id });
    expect(await inFlight).toMatchObject({ kind: 'staff' });
    await deleteSessionBySql(token);
    expect(await auth.resolve(token)).toBeUndefined();
  });

  it('cacheMs 0 turns the cache off; unknown tokens are never cached', async () => {
    const off = new AuthService(f.t.db, { cacheMs: 0 });
    const official = await newOfficial();
    const token = await sessionEndingIn(official.id, 3_600_000);
    expect(await off.resolve(token)).toMatchObject({ kind: 'staff' });
    expect(off.cache.size).toBe(0);
    const on = new AuthService(f.t.db);
    expect(await on.resolve(newToken(STAFF_TOKEN_PREFIX))).toBeUndefined();
    expect(await on.resolve('qd_unknown')).toBeUndefined();
    expect(on.cache.size).toBe(0);
  });

  it('PrincipalCache keeps at most max entries, oldest out first', () => {
    const cache = new PrincipalCache(60_000, 2);
    const p = (id: string) => ({ kind: 'device' as const, device: { id, siteId: 's', kind: 'kiosk' as const, name: id, counterId: null } });
    for (const id of ['a', 'b', 'c']) cache.put(id, p(id), Number.POSITIVE_INFINITY, cache.mark());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.kind).toBe('device');
    expect(cache.get('c')?.kind).toBe('device');
    cache.forget({ deviceId: 'b' });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')?.kind).toBe('device');
    // shared by every request of the token: frozen
    const c = cache.get('c')!;
    expect(() => {
      if (c.kind === 'device') (c.device as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });
});

describe('token cache, two processes of a cluster', () => {
  let cluster: Awaited<ReturnType<typeof twoProcesses>>;
  let a: string;
  let b: string;
  let appB: App;

  beforeAll(async () => {
    cluster = await twoProcesses(f, 'qms-test-cluster');
    ({ a, b, appB } = cluster);
  });
  afterAll(async () => {
    sockets.closeAll();
    await cluster?.close();
  });

  /** Polls B until `check` holds; returns how long it took (ms), or Infinity. */
  async function seenOnB(check: () => Promise<boolean>, ms = 3_000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (await check()) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
    return Number.POSITIVE_INFINITY;
  }

  it('B caches too (a session deleted by hand still works on B)', async () => {
    const { token } = await newOfficial(a);
    expect((await me(token, b)).status).toBe(200);
    await deleteSessionBySql(token);
    expect((await me(token, b)).status).toBe(200);
  });

  it('logout on A: B refuses the token within milliseconds, over HTTP and sockets', async () => {
    const { token } = await newOfficial(a);
    expect((await me(token, b)).status).toBe(200);
    expect((await http(a, 'POST', '/auth/logout', token)).status).toBe(204);
    const ms = await seenOnB(async () => (await me(token, b)).status === 401);
    expect(ms).toBeLessThan(1_000);
    expect(await socketError(token, b)).toBe('UNAUTHENTICATED');
  });

  it('device revoked on A: B refuses it within milliseconds', async () => {
    const created = await http(a, 'POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk cluster' });
    const paired = await http(a, 'POST', '/devices/pair', undefined, { code: created.body.pairingCode });
    const kiosk = paired.body.token as string;
    expect((await me(kiosk, b)).status).toBe(200);
    expect((await http(a, 'DELETE', `/devices/${paired.body.device.id}`, f.tokens.manager)).status).toBe(204);
    expect(await seenOnB(async () => (await me(kiosk, b)).status === 401)).toBeLessThan(1_000);
  });

  it('role and site changes on A reach B within milliseconds', async () => {
    const official = await newOfficial(a);
    expect((await me(official.token, b)).body.user.role).toBe('staff');
    expect((await http(a, 'PUT', `/users/${official.id}`, f.tokens.admin, { role: 'manager' })).status).toBe(200);
    expect(await seenOnB(async () => (await me(official.token, b)).body.user.role === 'manager')).toBeLessThan(1_000);
    expect((await http(a, 'DELETE', `/sites/${f.siteId}/staff/${official.id}`, f.tokens.admin)).status).toBe(204);
    expect(await seenOnB(async () => (await me(official.token, b)).body.siteIds.length === 0)).toBeLessThan(1_000);
    expect((await http(b, 'GET', `/sites/${f.siteId}/devices`, official.token)).status).toBe(403);
  });

  it('while B cannot listen its cache is off; once it listens again the cache is back', async () => {
    const listeners = async () => (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
      WHERE application_name = 'qms-test-cluster-b' AND query = ${`LISTEN ${AUTH_CHANNEL}`}`.execute(f.t.db)).rows;
    const before = await listeners();
    expect(before).toHaveLength(1);
    await sql`SELECT pg_terminate_backend(${before[0]!.pid}::int)`.execute(f.t.db);
    await new Promise((r) => setTimeout(r, 200));
    // not listening: a change made elsewhere could be missed, so B asks PostgreSQL every time
    const off = await newOfficial(a);
    expect((await me(off.token, b)).status).toBe(200);
    await deleteSessionBySql(off.token);
    expect((await me(off.token, b)).status).toBe(401);
    // B listens again within its retry delay (1 s), and caches again
    expect(await seenOnB(async () => (await listeners()).some((l) => l.pid !== before[0]!.pid), 5_000)).toBeLessThan(5_000);
    const on = await newOfficial(a);
    expect((await me(on.token, b)).status).toBe(200);
    await deleteSessionBySql(on.token);
    expect((await me(on.token, b)).status).toBe(200);
    // and hears A again
    const again = await newOfficial(a);
    expect((await me(again.token, b)).status).toBe(200);
    expect((await http(a, 'POST', '/auth/logout', again.token)).status).toBe(204);
    expect(await seenOnB(async () => (await me(again.token, b)).status === 401)).toBeLessThan(1_000);
    expect(appB.auth.cache.size).toBeGreaterThan(0);
  });
});
