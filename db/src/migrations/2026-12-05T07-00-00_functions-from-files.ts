import type { Kysely } from 'kysely';
import { createOrReplace, DB_FUNCTIONS } from '../functions/index.ts';
import { qmsCallNextBefore, qmsCallNextForStaffBefore } from '../functions/history/qms_call_next.ts';

// From here on, each database function's current body lives in one file of db/src/functions,
// and this migration (and any later one that changes a body) loads it. The bodies are those the
// earlier migrations left, so a database migrated to this point is unchanged; the test
// db/test/functions.test.ts checks that the database runs exactly what the files say.
// Unlike the migrations before it, this one reads the schema's function files: they are the
// schema, not application code.
// qms_call_next's two functions became one on 2026-12-07 (its return type changed, which CREATE
// OR REPLACE cannot do): at this point in history they are the two of then.
export async function up(db: Kysely<any>): Promise<void> {
  const atThisPoint = [qmsCallNextBefore, qmsCallNextForStaffBefore, ...DB_FUNCTIONS.filter((fn) => fn.name !== 'qms_call_next')];
  for (const fn of atThisPoint) await createOrReplace(db, fn);
}

export async function down(): Promise<void> {
  // the bodies are the ones the earlier migrations made: nothing to undo
}
