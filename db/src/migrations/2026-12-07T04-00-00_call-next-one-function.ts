import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsCallNextBefore, qmsCallNextForStaffBefore } from '../functions/history/qms_call_next.ts';
import { qmsCallNext } from '../functions/qms_call_next.ts';

// call-next in one function instead of two (db/src/functions/qms_call_next.ts): the server called
// a 5-argument function that checked the official's site and then ran the 4-argument one, inside
// a statement that joined the counter and its site again for their number, name and zone. The
// one function checks the site on the counter it locks and returns those with the ticket: per
// call, one PL/pgSQL call, two statements and the join fewer (29 µs less of PostgreSQL's CPU
// a call on the development machine, docs/performance.md, "Eighth round"). Same refusals, in
// the same order. Its return type differs, so the two are dropped first.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION qms_call_next(uuid, uuid, uuid, timestamptz, uuid[])`.execute(db);
  await sql`DROP FUNCTION qms_call_next(uuid, uuid, uuid, timestamptz)`.execute(db);
  await createOrReplace(db, qmsCallNext);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION qms_call_next(uuid, uuid, uuid, timestamptz, uuid[])`.execute(db);
  await createOrReplace(db, qmsCallNextBefore);
  await createOrReplace(db, qmsCallNextForStaffBefore);
}
