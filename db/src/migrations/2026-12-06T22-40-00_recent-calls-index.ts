import { sql, type Kysely } from 'kysely';

// A screen's snapshot lists the site's last calls: it now reads them newest first from an index of
// the calls alone (site, time), instead of every event of the site by time. That index on every
// event was read by nothing else, and each ticket wrote three entries in it (issued, called,
// finished); the calls' index takes one (docs/performance.md, "Fifth round").
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ticket_event_site_calls_idx ON ticket_event (site_id, at DESC, id DESC) WHERE type IN ('called', 'recalled')`.execute(db);
  await sql`DROP INDEX ticket_event_site_at_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ticket_event_site_at_idx ON ticket_event (site_id, at)`.execute(db);
  await sql`DROP INDEX ticket_event_site_calls_idx`.execute(db);
}
