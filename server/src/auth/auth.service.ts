import { sql, type Kysely } from 'kysely';
import type { Database, Db, UserRole } from '@qms/db';
import type { DeviceKind } from '@qms/protocol';
import { CHANGED, SYSTEM, type AuditActor, type AuditRecord, type AuditService } from '../audit/audit.service.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { Principal } from './principal.ts';
import { printerOf } from '../printing/printer.config.ts';
import {
  DEVICE_TOKEN_PREFIX, hashPassword, newPairingCode, newToken, STAFF_TOKEN_PREFIX, tokenHash, verifyPassword,
} from './tokens.ts';

export const SESSION_HOURS = 12;
export const PAIRING_MINUTES = 15;
/** How long a resolved token may be reused without asking PostgreSQL (see PrincipalCache). */
export const AUTH_CACHE_MS = 30_000;

export interface AuthOptions {
  sessionHours?: number;
  /** reuse a resolved token for at most this long; 0 turns the cache off */
  cacheMs?: number;
  /** resolved tokens kept at most (the oldest go first) */
  maxCached?: number;
  /**
   * where sign-ins, sign-outs, new accounts and devices' credentials are recorded (the app's
   * composition root always gives it; tools and test fixtures that make accounts may not)
   */
  audit?: AuditService;
}

/** What to forget: a session (logout), every session of a user, or a device's token. */
export interface AuthChange {
  sessionId?: string;
  userId?: string;
  deviceId?: string;
  /** everything (e.g. notifications may have been missed) */
  all?: boolean;
}

interface Cached {
  principal: Principal;
  /** the session's own end (staff), checked on every use */
  expiresAt: number;
  /** when this entry must be looked up again */
  staleAt: number;
}

/**
 * Tokens resolved recently, so that an official's requests (finish, call-next, call-next...)
 * cost no lookup. Correctness comes first:
 * - every change that alters what a token stands for calls AuthService.forget after its
 *   commit: logout, pairing a device again, revoking it (here), role, active flag, password,
 *   site membership, device name (config/site-config.commands.ts) and a kiosk's printer
 *   (printing/kiosk-printers.ts: an issue prints with the printer its principal names). It takes effect at once in this
 *   process; other processes of a cluster are told through PostgreSQL (NOTIFY, see
 *   auth.plugin.ts) and forget within milliseconds, and stop using the cache whenever they
 *   cannot listen.
 * - a session's expiry is checked on every use, cached or not.
 * - a change nobody announced (SQL typed by hand) is seen within `cacheMs` (30 s) at most:
 *   entries are never kept longer than that, however often they are used.
 * - a lookup that was in flight while something was forgotten is not cached (it may have read
 *   the state before the change).
 * Unknown tokens are never cached: guessing costs a query each, and cannot fill the cache.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Cached>();
  /** bumped by every forget: a lookup that started before it does not fill the cache */
  private generation = 0;
  /** false while changes from other processes could be missed (cluster listener down) */
  private trusted = true;

  constructor(private readonly ttlMs: number, private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string, at = Date.now()): Principal | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (!this.trusted || e.staleAt <= at || e.expiresAt <= at) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.principal;
  }

  /** The generation to hand back to put(): taken before the lookup starts. */
  mark(): number {
    return this.generation;
  }

  put(hash: string, principal: Principal, expiresAt: number, generation: number, at = Date.now()): void {
    if (this.ttlMs <= 0 || !this.trusted || generation !== this.generation) return;
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { principal: frozen(principal), expiresAt, staleAt: at + this.ttlMs });
  }

  forget(change: AuthChange): void {
    this.generation++;
    if (change.all) return this.entries.clear();
    for (const [hash, { principal: p }] of this.entries) {
      const hit = p.kind === 'staff'
        ? p.sessionId === change.sessionId || p.user.id === change.userId
        : p.device.id === change.deviceId;
      if (hit) this.entries.delete(hash);
    }
  }

  /** Off (and emptied) while changes made elsewhere might go unheard; on again once heard. */
  trust(trusted: boolean): void {
    // lookups in flight read the database before this moment: they fill nothing either way
    this.generation++;
    if (!trusted) this.entries.clear();
    this.trusted = trusted;
  }
}

/** A cached principal is shared by every request of its token: nobody may change it. */
function frozen(p: Principal): Principal {
  if (p.kind === 'staff') {
    Object.freeze(p.user);
    Object.freeze(p.siteIds);
  } else Object.freeze(p.device);
  return Object.freeze(p);
}

export interface AuthUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
}

/** Logins, sessions, devices and their tokens. */
export class AuthService {
  private readonly sessionHours: number;
  private readonly audit: AuditService | undefined;
  readonly cache: PrincipalCache;
  /** tells the other processes of a cluster what to forget (set by auth.plugin.ts) */
  announce: ((change: AuthChange) => Promise<void>) | undefined;
  /** told of every change, made here or heard from another process (open sockets follow it) */
  private readonly watchers = new Set<(change: AuthChange) => unknown>();

  constructor(private readonly db: Db, options: AuthOptions | number = {}) {
    const o = typeof options === 'number' ? { sessionHours: options } : options;
    this.sessionHours = o.sessionHours ?? SESSION_HOURS;
    this.audit = o.audit;
    this.cache = new PrincipalCache(o.cacheMs ?? AUTH_CACHE_MS, o.maxCached ?? 10_000);
  }

  /**
   * Call after the commit of any change to what a token stands for (its session or device, the
   * user's role, active flag, password or sites, the device's name, a kiosk's printer): forgets it here at once,
   * and in the other processes of a cluster as soon as they hear of it. Resolves once this
   * process's watchers are done (its open sockets are closed or re-scoped by the reply).
   */
  async forget(change: AuthChange): Promise<void> {
    await Promise.all([this.changed(change), this.announce?.(change)]);
  }

  /** A change this process made or heard of: forget the tokens it touches, tell the watchers. */
  async changed(change: AuthChange): Promise<void> {
    this.cache.forget(change);
    await Promise.all([...this.watchers].map((watch) => watch(change)));
  }

  /** Calls `watch` after every change to what tokens stand for; returns the unsubscribe. */
  watch(watch: (change: AuthChange) => unknown): () => void {
    this.watchers.add(watch);
    return () => this.watchers.delete(watch);
  }

  /**
   * A session for the account, or 401. Both are in the audit log (`ip`: where the attempt came
   * from): the session with its entry in one transaction; a failure with the username typed and
   * whether such an active account exists, never the password.
   */
  async login(username: string, password: string, ip?: string): Promise<{ token: string; user: AuthUser; expiresAt: Date }> {
    const user = await this.db.selectFrom('appUser').selectAll().where('username', '=', username).where('active', '=', true).executeTakeFirst();
    // verify against a dummy hash when the user is unknown, so timing does not reveal usernames
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
    if (!user || !ok) {
      await this.record({
        actor: { id: null, name: username, kind: 'user', ip: ip ?? null },
        siteId: user && this.audit ? await this.audit.siteOfUser(user.id) : null,
        action: 'login_failed',
        ...(user ? { target: { type: 'user', id: user.id } } : {}),
        changes: { username, reason: user ? 'wrong_password' : 'unknown_or_disabled_account' },
      });
      throw new QueueError('INVALID_CREDENTIALS', 'Wrong username or password', 401);
    }
    const token = newToken(STAFF_TOKEN_PREFIX);
    const expiresAt = new Date(Date.now() + this.sessionHours * 3_600_000);
    const values = { userId: user.id, tokenHash: tokenHash(token), expiresAt };
    if (!this.audit) await this.db.insertInto('userSession').values(values).execute();
    else {
      await this.db.transaction().execute(async (trx) => {
        const session = await trx.insertInto('userSession').values(values).returning('id').executeTakeFirstOrThrow();
        await this.record({
          actor: { id: user.id, name: user.username, kind: 'user', ip: ip ?? null }, siteId: await this.audit!.siteOfUser(user.id, trx),
          action: 'login', target: { type: 'user', id: user.id }, changes: { session: session.id.slice(0, 8) },
        }, trx);
      });
    }
    return { token, expiresAt, user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role } };
  }

  /** Ends the session, with its entry in the audit log in the same transaction. */
  async logout(sessionId: string, by: AuditActor = SYSTEM): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const ended = await trx.deleteFrom('userSession').where('id', '=', sessionId).returning('userId').executeTakeFirst();
      if (ended) {
        await this.record({
          actor: by, siteId: await this.audit?.siteOfUser(ended.userId, trx) ?? null,
          action: 'logout', target: { type: 'user', id: ended.userId }, changes: { session: sessionId.slice(0, 8) },
        }, trx);
      }
    });
    await this.forget({ sessionId });
  }

  /** An entry of the audit log, when the service has one (in `trx` when given). */
  private async record(entry: AuditRecord, trx?: Kysely<Database>): Promise<void> {
    await this.audit?.record(entry, trx);
  }

  /** The principal a bearer token stands for, or undefined (unknown, expired or revoked). */
  async resolve(token: string | undefined): Promise<Principal | undefined> {
    if (!token || token.length > 200) return undefined;
    if (!token.startsWith(STAFF_TOKEN_PREFIX) && !token.startsWith(DEVICE_TOKEN_PREFIX)) return undefined;
    const hash = tokenHash(token);
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const generation = this.cache.mark();
    const found = await this.lookup(token, hash);
    if (found) this.cache.put(hash, found.principal, found.expiresAt, generation);
    return found?.principal;
  }

  /** The principal of a token's hash, from PostgreSQL (one statement). */
  private async lookup(token: string, hash: string): Promise<{ principal: Principal; expiresAt: number } | undefined> {
    if (token.startsWith(STAFF_TOKEN_PREFIX)) {
      // one round trip: every staff request starts here
      const row = await this.db.selectFrom('userSession')
        .innerJoin('appUser', 'appUser.id', 'userSession.userId')
        .select(['userSession.id as sessionId', 'userSession.expiresAt', 'appUser.id', 'appUser.username', 'appUser.displayName', 'appUser.role', 'appUser.active'])
        .select(sql<string[]>`array(SELECT m.site_id::text FROM site_membership m WHERE m.user_id = app_user.id)`.as('siteIds'))
        .where('userSession.tokenHash', '=', hash)
        .executeTakeFirst();
      if (!row || !row.active || row.expiresAt.getTime() <= Date.now()) return undefined;
      return {
        expiresAt: row.expiresAt.getTime(),
        principal: {
          kind: 'staff',
          sessionId: row.sessionId,
          expiresAt: row.expiresAt.getTime(),
          user: { id: row.id, username: row.username, displayName: row.displayName, role: row.role },
          siteIds: row.siteIds,
        },
      };
    }
    const device = await this.db.selectFrom('device').select(['id', 'siteId', 'kind', 'name', 'counterId', 'revokedAt', 'settings'])
      .where('tokenHash', '=', hash).executeTakeFirst();
    if (!device || device.revokedAt) return undefined;
    const { settings, revokedAt: _revoked, ...known } = device;
    return {
      expiresAt: Number.POSITIVE_INFINITY,
      principal: { kind: 'device', device: { ...known, ...(device.kind === 'kiosk' ? { printer: printerOf(settings) } : {}) } },
    };
  }

  /** A new account; its entry in the audit log (never the password) in the same transaction. */
  async createUser(input: { username: string; password: string; displayName: string; role: UserRole; siteIds: string[] }, by: AuditActor = SYSTEM): Promise<AuthUser> {
    const existing = await this.db.selectFrom('appUser').select('id').where('username', '=', input.username).executeTakeFirst();
    if (existing) throw new QueueError('USERNAME_TAKEN', `Username "${input.username}" is taken`, 409);
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction().execute(async (trx) => {
      const user = await trx.insertInto('appUser')
        .values({ username: input.username, passwordHash, displayName: input.displayName, role: input.role })
        .returning(['id', 'username', 'displayName', 'role']).executeTakeFirstOrThrow();
      if (input.siteIds.length) {
        await trx.insertInto('siteMembership').values(input.siteIds.map((siteId) => ({ siteId, userId: user.id }))).execute();
      }
      await this.record({
        actor: by, siteId: input.siteIds.length === 1 ? input.siteIds[0]! : null, action: 'staff.create', target: { type: 'user', id: user.id },
        changes: { username: user.username, displayName: user.displayName, role: user.role, siteIds: input.siteIds, password: CHANGED },
      }, trx);
      return user;
    });
  }

  /** Registers a device: its token is shown once; a pairing code lets the screen fetch it itself. */
  async registerDevice(input: { siteId: string; kind: DeviceKind; name: string; counterId?: string | null; settings?: Record<string, unknown> }, by: AuditActor = SYSTEM) {
    if ((input.kind === 'rating' || input.kind === 'counter') && !input.counterId) {
      throw new QueueError('COUNTER_REQUIRED', `A ${input.kind} device belongs to one counter: give counterId`, 400);
    }
    if (input.counterId) {
      const counter = await this.db.selectFrom('counter').select('siteId').where('id', '=', input.counterId).executeTakeFirst();
      if (!counter || counter.siteId !== input.siteId) throw new QueueError('COUNTER_NOT_FOUND', `No counter ${input.counterId} at this site`, 404);
    }
    const token = newToken(DEVICE_TOKEN_PREFIX);
    const code = newPairingCode();
    const device = await this.db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('device')
        .values({
          siteId: input.siteId, kind: input.kind, name: input.name, counterId: input.counterId ?? null,
          tokenHash: tokenHash(token), pairingCodeHash: tokenHash(code), pairingExpiresAt: new Date(Date.now() + PAIRING_MINUTES * 60_000),
          settings: JSON.stringify(input.settings ?? {}), lastSeenAt: null, revokedAt: null,
        })
        .returning(['id', 'siteId', 'kind', 'name', 'counterId', 'pairingExpiresAt'])
        .executeTakeFirstOrThrow();
      await this.record({
        actor: by, siteId: row.siteId, action: 'device.create', target: { type: 'device', id: row.id },
        changes: { kind: row.kind, name: row.name, counterId: row.counterId },
      }, trx);
      return row;
    });
    return { device, token, pairingCode: code };
  }

  /** A fresh pairing code for an existing device (e.g. its screen was replaced). */
  async newPairingCode(deviceId: string, by: AuditActor = SYSTEM): Promise<{ code: string; expiresAt: Date }> {
    const code = newPairingCode();
    const expiresAt = new Date(Date.now() + PAIRING_MINUTES * 60_000);
    await this.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('device').set({ pairingCodeHash: tokenHash(code), pairingExpiresAt: expiresAt })
        .where('id', '=', deviceId).where('revokedAt', 'is', null).returning(['id', 'siteId']).executeTakeFirst();
      if (!updated) throw new QueueError('DEVICE_NOT_FOUND', `No active device ${deviceId}`, 404);
      // the code itself never: whoever reads the log could pair a screen with it
      await this.record({
        actor: by, siteId: updated.siteId, action: 'device.pairing_code', target: { type: 'device', id: deviceId },
        changes: { pairingCode: CHANGED, expiresAt: expiresAt.toISOString() },
      }, trx);
    });
    return { code, expiresAt };
  }

  /** The screen types its code and receives a new token; the code works once. Recorded with the device as the actor. */
  async pair(code: string, ip?: string) {
    const matches = await this.db.selectFrom('device').select('id')
      .where('pairingCodeHash', '=', tokenHash(code)).where('pairingExpiresAt', '>', new Date()).where('revokedAt', 'is', null)
      .execute();
    // two live codes colliding (one in a million) pair nobody; the admin issues a new one
    if (matches.length !== 1) throw new QueueError('INVALID_PAIRING_CODE', 'This pairing code is wrong or has expired', 401);
    const token = newToken(DEVICE_TOKEN_PREFIX);
    const device = await this.db.transaction().execute(async (trx) => {
      const paired = await trx.updateTable('device')
        .set({ tokenHash: tokenHash(token), pairingCodeHash: null, pairingExpiresAt: null })
        .where('id', '=', matches[0]!.id).where('pairingCodeHash', '=', tokenHash(code))
        .returning(['id', 'siteId', 'kind', 'name', 'counterId'])
        .executeTakeFirst();
      if (paired) {
        await this.record({
          actor: { id: null, name: paired.name, kind: 'device', ip: ip ?? null }, siteId: paired.siteId, action: 'device.paired',
          target: { type: 'device', id: paired.id }, changes: { token: CHANGED },
        }, trx);
      }
      return paired;
    });
    if (!device) throw new QueueError('INVALID_PAIRING_CODE', 'This pairing code is wrong or has expired', 401);
    // the device's previous token stops working
    await this.forget({ deviceId: device.id });
    return { device, token };
  }

  async revokeDevice(deviceId: string, by: AuditActor = SYSTEM): Promise<{ siteId: string } | undefined> {
    const revoked = await this.db.transaction().execute(async (trx) => {
      const row = await trx.updateTable('device').set({ revokedAt: new Date(), tokenHash: null, pairingCodeHash: null })
        .where('id', '=', deviceId).where('revokedAt', 'is', null).returning(['siteId', 'name', 'kind']).executeTakeFirst();
      if (row) {
        await this.record({ actor: by, siteId: row.siteId, action: 'device.revoke', target: { type: 'device', id: deviceId }, changes: { name: row.name, kind: row.kind } }, trx);
      }
      return row;
    });
    await this.forget({ deviceId });
    return revoked && { siteId: revoked.siteId };
  }
}

// argon2id hash of a random string nobody knows; only used to spend the same time on unknown users
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7uKn2bU+OrW8yXZ7dVq2qE4uYcZr3Jk3m1Yl2fXwq9o';
