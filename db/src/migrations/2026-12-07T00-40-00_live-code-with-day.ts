import { sql, type Kysely } from 'kysely';

// The live tickets (waiting, called, serving) had two indexes, by code and by day: every issue and
// every call wrote an entry in each. One is enough: the codes' unique index carries the day
// (INCLUDE), which the day's end reads (the days with live tickets, a site's live tickets of a
// day) from the site's live codes. Same name, same uniqueness.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE UNIQUE INDEX ticket_live_code_day_idx ON ticket (site_id, code) INCLUDE (local_date) WHERE status IN ('waiting', 'called', 'serving')`.execute(db);
  await sql`DROP INDEX ticket_live_code_idx`.execute(db);
  await sql`ALTER INDEX ticket_live_code_day_idx RENAME TO ticket_live_code_idx`.execute(db);
  await sql`DROP INDEX ticket_live_day_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ticket_live_day_idx ON ticket (site_id, local_date) WHERE status IN ('waiting', 'called', 'serving')`.execute(db);
  await sql`CREATE UNIQUE INDEX ticket_live_code_only_idx ON ticket (site_id, code) WHERE status IN ('waiting', 'called', 'serving')`.execute(db);
  await sql`DROP INDEX ticket_live_code_idx`.execute(db);
  await sql`ALTER INDEX ticket_live_code_only_idx RENAME TO ticket_live_code_idx`.execute(db);
}
