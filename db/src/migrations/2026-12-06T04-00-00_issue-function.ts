import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsIssue, qmsServiceLoad, qmsTicketAhead } from '../functions/qms_issue.ts';

// A walk-in issue in one round trip (db/src/functions/qms_issue.ts): the people ahead and a
// service's load become functions, which the engine's own reads call too, and qms_issue takes the
// number, counts, estimates, checks the closing time and inserts, holding the number's lock for
// its own statements only.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsTicketAhead);
  await createOrReplace(db, qmsServiceLoad);
  await createOrReplace(db, qmsIssue);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS qms_issue(uuid, text, uuid, uuid, date, text, integer, text, integer, text, text, uuid, uuid, text,
    timestamptz, timestamptz, double precision, text, jsonb, text)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS qms_service_load(uuid, timestamptz)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS qms_ticket_ahead(uuid, uuid, integer, timestamptz, timestamptz, integer)`.execute(db);
}
