import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { DB_FUNCTIONS } from '../src/functions/index.ts';

// Each database function's current body is one file of db/src/functions: a migrated database
// runs exactly those bodies, and has no function of its own the files do not list.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

/** 'f(p_a uuid, p_b timestamptz)' → 'f(uuid, timestamptz)', as to_regprocedure reads it */
const typesOnly = (signature: string) => signature.replace(/\((.*)\)/s, (_all, args: string) =>
  `(${args.split(',').map((a) => a.trim().split(/\s+/).slice(1).join(' ')).filter(Boolean).join(', ')})`);

describe('database functions', () => {
  it('are the bodies of db/src/functions, and only those', async () => {
    // the schema's own functions: not those of extensions (pgcrypto)
    const { rows } = await sql<{ oid: number; body: string; settings: string[] | null }>`
      SELECT p.oid::int AS oid, p.prosrc AS body, p.proconfig AS settings
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`.execute(t.db);
    const files = [];
    for (const fn of DB_FUNCTIONS) {
      const { rows: [found] } = await sql<{ oid: number | null }>`SELECT to_regprocedure(${typesOnly(fn.signature)})::oid::int AS oid`.execute(t.db);
      expect(found?.oid, fn.signature).toBeTruthy();
      expect(rows.find((r) => r.oid === found!.oid)?.body, fn.signature).toBe(fn.body);
      expect(rows.find((r) => r.oid === found!.oid)?.settings ?? [], fn.signature).toEqual(Object.entries(fn.settings ?? {}).map(([name, value]) => `${name}=${value}`));
      files.push(found!.oid);
    }
    expect(rows.map((r) => r.oid).sort()).toEqual(files.sort());
  });
});
