import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken, STAFF_TOKEN_PREFIX, tokenHash } from '../../src/auth/tokens.ts';
import { apiFixture, http, listenLocally, PASSWORD, twoProcesses, type ApiFixture } from '../support/api-fixture.ts';
import { SocketClients, until, type Client, type Listener } from '../support/sockets.ts';

// An open socket is held to its session's rights, not to those of its handshake: whatever ends
// or narrows a session (sign-out, expiry, a disabled account, a new password, a lower role,
// removal from the site, a revoked or re-paired device) closes or re-scopes the sockets opened
// before, at once, in this process and in the other processes of a cluster. Real HTTP on
// 127.0.0.1, real socket.io clients, real PostgreSQL.

let f: ApiFixture;
let base: string;
const sockets = new SocketClients(() => base);

beforeAll(async () => {
  f = await apiFixture();
  // the demo centre is closed at night and on Sundays: drop its hours, so a kiosk issues at any hour
  await f.t.db.deleteFrom('openingHours').execute();
  base = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

let serial = 0;
/** A new account of the site, signed in: its id and token. */
async function account(role: 'staff' | 'manager', url = base): Promise<{ id: string; token: string }> {
  const username = `phien${++serial}`;
  const created = await http(url, 'POST', `/sites/${f.siteId}/staff`, f.tokens.admin, { username, password: PASSWORD, displayName: `Cán bộ ${serial}`, role });
  expect(created.status).toBe(201);
  const login = await http(url, 'POST', '/auth/login', undefined, { username, password: PASSWORD });
  expect(login.status).toBe(200);
  return { id: created.body.user?.id ?? created.body.id, token: login.body.token };
}

/** Resolves with the reason once the server closes the socket (or 'open' after ms). */
function closedWithin(socket: Client, ms = 2_000): Promise<string> {
  if (!socket.connected) return Promise.resolve('already closed');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** A criticism from the kiosk: an alert that only the site's managers may receive. */
async function criticism(comment: string, url = base) {
  const raised = await http(url, 'POST', '/alerts/criticism', f.tokens.kiosk, { comment });
  expect(raised.status).toBe(201);
}
const alertsOf = (l: Listener) => l.events.filter((e) => e.name === 'alert:raised').map((e) => (e.payload as { alert: { comment?: string | null } }).alert.comment);

async function refused(token: string, url = base): Promise<string | undefined> {
  const socket = sockets.open({ token }, url);
  return new Promise((resolve) => {
    socket.once('connect_error', (e) => resolve(e.message));
    socket.once('queue:snapshot', () => resolve(undefined));
  });
}

describe('open sockets follow their session, one process', () => {
  it('sign-out closes the sockets of that session, not the user\'s other sessions', async () => {
    const official = await account('staff');
    const other = await http(base, 'POST', '/auth/login', undefined, { username: `phien${serial}`, password: PASSWORD });
    const signedOut = await sockets.listen({ token: official.token });
    const stays = await sockets.listen({ token: other.body.token });
    const closed = closedWithin(signedOut.socket);
    expect((await http(base, 'POST', '/auth/logout', official.token)).status).toBe(204);
    expect(await closed).toBe('io server disconnect');
    expect(await refused(official.token)).toBe('UNAUTHENTICATED');
    expect(stays.socket.connected).toBe(true);
  });

  it('a disabled account\'s sockets close', async () => {
    const official = await account('staff');
    const l = await sockets.listen({ token: official.token });
    const closed = closedWithin(l.socket);
    expect((await http(base, 'PUT', `/users/${official.id}`, f.tokens.admin, { active: false })).status).toBe(200);
    expect(await closed).toBe('io server disconnect');
  });

  it('a new password closes the sockets of the old sessions', async () => {
    const official = await account('staff');
    const l = await sockets.listen({ token: official.token });
    const closed = closedWithin(l.socket);
    expect((await http(base, 'PUT', `/users/${official.id}`, f.tokens.admin, { password: 'another-password-2' })).status).toBe(200);
    expect(await closed).toBe('io server disconnect');
  });

  it('a manager made staff keeps the site\'s queue but no longer receives alerts', async () => {
    const demoted = await account('manager');
    const stillManager = await account('manager');
    const l = await sockets.listen({ token: demoted.token });
    const m = await sockets.listen({ token: stillManager.token });
    await criticism('trước khi đổi vai trò');
    await until(() => alertsOf(l).length === 1 && alertsOf(m).length === 1);
    expect(alertsOf(l)).toEqual(['trước khi đổi vai trò']);

    expect((await http(base, 'PUT', `/users/${demoted.id}`, f.tokens.admin, { role: 'staff' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await criticism('sau khi đổi vai trò');
    await until(() => alertsOf(m).length === 2);
    expect(alertsOf(m)).toEqual(['trước khi đổi vai trò', 'sau khi đổi vai trò']);
    await new Promise((r) => setTimeout(r, 200));
    expect(alertsOf(l)).toEqual(['trước khi đổi vai trò']);
    // still an official of the site: its socket stays, and queue events still reach it
    expect(l.socket.connected).toBe(true);
    const issued = await http(base, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
    expect(issued.status).toBe(201);
    await until(() => l.events.some((e) => e.name === 'ticket:issued'));
    expect(l.events.some((e) => e.name === 'ticket:issued')).toBe(true);
  });

  it('removed from the site: the socket on that site closes', async () => {
    const official = await account('staff');
    const l = await sockets.listen({ token: official.token, siteId: f.siteId });
    const closed = closedWithin(l.socket);
    expect((await http(base, 'DELETE', `/sites/${f.siteId}/staff/${official.id}`, f.tokens.admin)).status).toBe(204);
    expect(await closed).toBe('io server disconnect');
  });

  it('an expired session\'s socket closes at its expiry', async () => {
    const official = await account('staff');
    const token = newToken(STAFF_TOKEN_PREFIX);
    await f.t.db.insertInto('userSession').values({ userId: official.id, tokenHash: tokenHash(token), expiresAt: new Date(Date.now() + 1_500) }).execute();
    const l = await sockets.listen({ token });
    const t0 = Date.now();
    expect(await closedWithin(l.socket, 4_000)).toBe('io server disconnect');
    expect(Date.now() - t0).toBeGreaterThan(1_000);
  });

  it('a device paired again: the socket of its previous token closes', async () => {
    const created = await http(base, 'POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'TV ghép lại' });
    const first = await http(base, 'POST', '/devices/pair', undefined, { code: created.body.pairingCode });
    const l = await sockets.listen({ token: first.body.token });
    const closed = closedWithin(l.socket);
    const code = await http(base, 'POST', `/devices/${created.body.device.id}/pairing-code`, f.tokens.manager);
    expect(code.status).toBe(200);
    const second = await http(base, 'POST', '/devices/pair', undefined, { code: code.body.code ?? code.body.pairingCode });
    expect(second.status).toBe(200);
    expect(await closed).toBe('io server disconnect');
    expect((await sockets.listen({ token: second.body.token })).socket.connected).toBe(true);
  });

  it('a revoked device\'s socket closes', async () => {
    const created = await http(base, 'POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk thu hồi' });
    const paired = await http(base, 'POST', '/devices/pair', undefined, { code: created.body.pairingCode });
    const l = await sockets.listen({ token: paired.body.token });
    const closed = closedWithin(l.socket);
    expect((await http(base, 'DELETE', `/devices/${created.body.device.id}`, f.tokens.manager)).status).toBe(204);
    expect(await closed).toBe('io server disconnect');
  });
});

describe('open sockets follow their session, two processes of a cluster', () => {
  let cluster: Awaited<ReturnType<typeof twoProcesses>>;
  let a: string;
  let b: string;

  beforeAll(async () => {
    cluster = await twoProcesses(f, 'qms-test-sessions');
    ({ a, b } = cluster);
  });
  afterAll(async () => {
    sockets.closeAll();
    await cluster?.close();
  });

  it('sign-out through A closes the socket on B', async () => {
    const official = await account('staff', a);
    const l = await sockets.listen({ token: official.token }, b);
    const closed = closedWithin(l.socket);
    expect((await http(a, 'POST', '/auth/logout', official.token)).status).toBe(204);
    expect(await closed).toBe('io server disconnect');
  });

  it('a manager made staff through A receives no more alerts on B', async () => {
    const demoted = await account('manager', a);
    const witness = await account('manager', a);
    const l = await sockets.listen({ token: demoted.token }, b);
    const m = await sockets.listen({ token: witness.token }, b);
    expect((await http(a, 'PUT', `/users/${demoted.id}`, f.tokens.admin, { role: 'staff' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    await criticism('góp ý qua cụm máy chủ', a);
    await until(() => alertsOf(m).length === 1);
    expect(alertsOf(m)).toEqual(['góp ý qua cụm máy chủ']);
    await new Promise((r) => setTimeout(r, 200));
    expect(alertsOf(l)).toEqual([]);
    expect(l.socket.connected).toBe(true);
  });
});
