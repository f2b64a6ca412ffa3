import { sql, type Kysely } from 'kysely';

// A rating tablet rates only the ticket its counter finished last, and asks for it again after
// a reconnect: both look up the latest finished ticket of one counter on every rating. Without
// this index that lookup reads every ticket the counter ever served.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ticket_counter_done_idx ON ticket (counter_id, finished_at DESC) WHERE status = 'done'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX ticket_counter_done_idx`.execute(db);
}
