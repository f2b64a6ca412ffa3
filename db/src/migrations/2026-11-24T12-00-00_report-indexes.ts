import { sql, type Kysely } from 'kysely';

// Indexes of the manager's reports on a large history (server/src/reports/, measured by the
// `report` benchmark on 5 million tickets: docs/performance.md, "Reports on a large history").
// Frozen in time: this file never imports application code.
//
// - ticket (site_id, issued_at) carrying what the report reads of a ticket, so the tickets of a
//   site-month are read from the index alone (they lie scattered among the other sites' rows in
//   the table). It replaces ticket_site_issued_idx, same key: no extra write per ticket.
// - ticket_event (site_id, at) over the three kinds of events the queue history is made of,
//   carrying their columns: the events of a site-month are one range of this index, read
//   without visiting the table.
// - counter_event: who opened or resumed a counter last before an instant (the official of a
//   call made by a counter device) is the first entry of one index descent.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX ticket_report_idx ON ticket (site_id, issued_at)
    INCLUDE (id, service_id, status, finished_at, estimated_wait_seconds)`.execute(db);
  await sql`DROP INDEX ticket_site_issued_idx`.execute(db);
  await sql`
    CREATE INDEX ticket_event_report_idx ON ticket_event (site_id, at)
    INCLUDE (ticket_id, id, type, service_id, counter_id, staff_id)
    WHERE type IN ('issued', 'transferred', 'called')`.execute(db);
  await sql`
    CREATE INDEX counter_event_official_idx ON counter_event (counter_id, at DESC, id DESC)
    INCLUDE (staff_id)
    WHERE type IN ('opened', 'resumed')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS counter_event_official_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS ticket_event_report_idx`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS ticket_site_issued_idx ON ticket (site_id, issued_at)`.execute(db);
  await sql`DROP INDEX IF EXISTS ticket_report_idx`.execute(db);
}
