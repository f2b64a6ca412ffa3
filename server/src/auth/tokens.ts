import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// Tokens are random and long, so a fast hash is enough to store them; passwords are not, so
// they get argon2id. The prefix tells staff sessions and devices apart at a glance.
export const STAFF_TOKEN_PREFIX = 'qs_';
export const DEVICE_TOKEN_PREFIX = 'qd_';

export const newToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export const hashPassword = (password: string) => hash(password, { algorithm: 2 /* argon2id */ });
export const verifyPassword = (stored: string, password: string) => verify(stored, password).catch(() => false);

/** Six digits, for typing on a kiosk touchscreen during setup. */
export const newPairingCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
