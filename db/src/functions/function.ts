import { sql, type Kysely } from 'kysely';

/**
 * A database function with its current body: one file per function in this folder, which
 * migrations load (immich's schema/functions.ts). A change to a body is a change to its file and
 * a migration that calls createOrReplace for it; the migrations that made the earlier bodies
 * stay as they were, as history.
 */
export interface DbFunction {
  name: string;
  /** name and arguments, as CREATE FUNCTION takes them */
  signature: string;
  returns: string;
  /** e.g. 'plpgsql VOLATILE' */
  language: string;
  body: string;
  /** settings in force while it runs (CREATE FUNCTION ... SET), e.g. { enable_bitmapscan: 'off' } */
  settings?: Record<string, string>;
}

export async function createOrReplace(db: Kysely<any>, fn: DbFunction): Promise<void> {
  const settings = Object.entries(fn.settings ?? {}).map(([name, value]) => ` SET ${name} = ${value}`).join('');
  await sql.raw(`CREATE OR REPLACE FUNCTION ${fn.signature} RETURNS ${fn.returns} LANGUAGE ${fn.language}${settings} AS $fn$${fn.body}$fn$`).execute(db);
}
