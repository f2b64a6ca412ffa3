import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsMove } from '../functions/qms_move.ts';

// start, finish and no-show in one round trip when nothing is wrong (db/src/functions/qms_move.ts);
// the engine's transaction still decides every refusal.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsMove);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS qms_move(uuid, uuid, uuid, uuid, text[], text, text, timestamptz, boolean, boolean)`.execute(db);
}
