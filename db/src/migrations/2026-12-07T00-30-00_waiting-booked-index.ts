import { sql, type Kysely } from 'kysely';

// An issue asks whether a booked ticket waits in its service (qms_issue; the engine's
// bookedWaiting): almost never, and the answer read every waiting ticket of the service. The
// booked waiting tickets have an index of their own, empty at most sites most of the day; only a
// booked ticket's check-in writes to it.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ticket_waiting_booked_idx ON ticket (service_id) WHERE status = 'waiting' AND booking_kind = 'slot'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX ticket_waiting_booked_idx`.execute(db);
}
