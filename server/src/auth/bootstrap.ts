import { randomBytes } from 'node:crypto';
import type { Db } from '@qms/db';
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
