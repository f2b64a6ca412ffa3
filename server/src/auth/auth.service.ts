import { sql } from 'kysely';
import type { Db, DeviceKind, UserRole } from '@qms/db';
import { QueueError } from '../queue/queue.errors.ts';
import type { Principal } from './principal.ts';
import {
  DEVICE_TOKEN_PREFIX, hashPassword, newPairingCode, newToken, STAFF_TOKEN_PREFIX, tokenHash, verifyPassword,
} from './tokens.ts';

export const SESSION_HOURS = 12;
export const PAIRING_MINUTES = 15;

export interface AuthUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
}

/** Logins, sessions, devices and their tokens. */
export class AuthService {
  constructor(private readonly db: Db, private readonly sessionHours = SESSION_HOURS) {}

  async login(username: string, password: string): Promise<{ token: string; user: AuthUser; expiresAt: Date }> {
    const user = await this.db.selectFrom('appUser').selectAll().where('username', '=', username).where('active', '=', true).executeTakeFirst();
    // verify against a dummy hash when the user is unknown, so timing does not reveal usernames
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
    if (!user || !ok) throw new QueueError('INVALID_CREDENTIALS', 'Wrong username or password', 401);
    const token = newToken(STAFF_TOKEN_PREFIX);
    const expiresAt = new Date(Date.now() + this.sessionHours * 3_600_000);
    await this.db.insertInto('userSession').values({ userId: user.id, tokenHash: tokenHash(token), expiresAt }).execute();
    return { token, expiresAt, user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role } };
  }

  async logout(sessionId: string): Promise<void> {
    await this.db.deleteFrom('userSession').where('id', '=', sessionId).execute();
  }

  /** The principal a bearer token stands for, or undefined (unknown, expired or revoked). */
  async resolve(token: string | undefined): Promise<Principal | undefined> {
    if (!token || token.length > 200) return undefined;
    if (token.startsWith(STAFF_TOKEN_PREFIX)) {
      // one round trip: every staff request starts here
      const row = await this.db.selectFrom('userSession')
        .innerJoin('appUser', 'appUser.id', 'userSession.userId')
        .select(['userSession.id as sessionId', 'userSession.expiresAt', 'appUser.id', 'appUser.username', 'appUser.displayName', 'appUser.role', 'appUser.active'])
        .select(sql<string[]>`array(SELECT m.site_id::text FROM site_membership m WHERE m.user_id = app_user.id)`.as('siteIds'))
        .where('userSession.tokenHash', '=', tokenHash(token))
        .executeTakeFirst();
      if (!row || !row.active || row.expiresAt.getTime() <= Date.now()) return undefined;
      return {
        kind: 'staff',
        sessionId: row.sessionId,
        user: { id: row.id, username: row.username, displayName: row.displayName, role: row.role },
        siteIds: row.siteIds,
      };
    }
    if (token.startsWith(DEVICE_TOKEN_PREFIX)) {
      const device = await this.db.selectFrom('device').select(['id', 'siteId', 'kind', 'name', 'counterId', 'revokedAt'])
        .where('tokenHash', '=', tokenHash(token)).executeTakeFirst();
      if (!device || device.revokedAt) return undefined;
      return { kind: 'device', device: { id: device.id, siteId: device.siteId, kind: device.kind, name: device.name, counterId: device.counterId } };
    }
    return undefined;
  }

  async createUser(input: { username: string; password: string; displayName: string; role: UserRole; siteIds: string[] }): Promise<AuthUser> {
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
      return user;
    });
  }

  /** Registers a device: its token is shown once; a pairing code lets the screen fetch it itself. */
  async registerDevice(input: { siteId: string; kind: DeviceKind; name: string; counterId?: string | null; settings?: Record<string, unknown> }) {
    if ((input.kind === 'rating' || input.kind === 'counter') && !input.counterId) {
      throw new QueueError('COUNTER_REQUIRED', `A ${input.kind} device belongs to one counter: give counterId`, 400);
    }
    if (input.counterId) {
      const counter = await this.db.selectFrom('counter').select('siteId').where('id', '=', input.counterId).executeTakeFirst();
      if (!counter || counter.siteId !== input.siteId) throw new QueueError('COUNTER_NOT_FOUND', `No counter ${input.counterId} at this site`, 404);
    }
    const token = newToken(DEVICE_TOKEN_PREFIX);
    const code = newPairingCode();
    const device = await this.db.insertInto('device')
      .values({
        siteId: input.siteId, kind: input.kind, name: input.name, counterId: input.counterId ?? null,
        tokenHash: tokenHash(token), pairingCodeHash: tokenHash(code), pairingExpiresAt: new Date(Date.now() + PAIRING_MINUTES * 60_000),
        settings: JSON.stringify(input.settings ?? {}), lastSeenAt: null, revokedAt: null,
      })
      .returning(['id', 'siteId', 'kind', 'name', 'counterId', 'pairingExpiresAt'])
      .executeTakeFirstOrThrow();
    return { device, token, pairingCode: code };
  }

  /** A fresh pairing code for an existing device (e.g. its screen was replaced). */
  async newPairingCode(deviceId: string): Promise<{ code: string; expiresAt: Date }> {
    const code = newPairingCode();
    const expiresAt = new Date(Date.now() + PAIRING_MINUTES * 60_000);
    const updated = await this.db.updateTable('device').set({ pairingCodeHash: tokenHash(code), pairingExpiresAt: expiresAt })
      .where('id', '=', deviceId).where('revokedAt', 'is', null).returning('id').executeTakeFirst();
    if (!updated) throw new QueueError('DEVICE_NOT_FOUND', `No active device ${deviceId}`, 404);
    return { code, expiresAt };
  }

  /** The screen types its code and receives a new token; the code works once. */
  async pair(code: string) {
    const matches = await this.db.selectFrom('device').select('id')
      .where('pairingCodeHash', '=', tokenHash(code)).where('pairingExpiresAt', '>', new Date()).where('revokedAt', 'is', null)
      .execute();
    // two live codes colliding (one in a million) pair nobody; the admin issues a new one
    if (matches.length !== 1) throw new QueueError('INVALID_PAIRING_CODE', 'This pairing code is wrong or has expired', 401);
    const token = newToken(DEVICE_TOKEN_PREFIX);
    const device = await this.db.updateTable('device')
      .set({ tokenHash: tokenHash(token), pairingCodeHash: null, pairingExpiresAt: null })
      .where('id', '=', matches[0]!.id).where('pairingCodeHash', '=', tokenHash(code))
      .returning(['id', 'siteId', 'kind', 'name', 'counterId'])
      .executeTakeFirst();
    if (!device) throw new QueueError('INVALID_PAIRING_CODE', 'This pairing code is wrong or has expired', 401);
    return { device, token };
  }

  async revokeDevice(deviceId: string): Promise<{ siteId: string } | undefined> {
    return this.db.updateTable('device').set({ revokedAt: new Date(), tokenHash: null, pairingCodeHash: null })
      .where('id', '=', deviceId).where('revokedAt', 'is', null).returning('siteId').executeTakeFirst();
  }
}

// argon2id hash of a random string nobody knows; only used to spend the same time on unknown users
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7uKn2bU+OrW8yXZ7dVq2qE4uYcZr3Jk3m1Yl2fXwq9o';
