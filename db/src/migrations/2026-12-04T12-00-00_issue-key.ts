import { sql, type Kysely } from 'kysely';

// The key a kiosk sends with each press (Idempotency-Key): a press retried after its answer was
// lost gets the ticket it already has, never a second one. A key belongs to whoever issued
// (the kiosk device, or the official), so one issuer cannot reach another's tickets by its key.
// The unique index is what makes two concurrent retries of one press end with one ticket.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE ticket ADD COLUMN issue_key text`.execute(db);
  await sql`
    CREATE UNIQUE INDEX ticket_issue_key_idx ON ticket (site_id, (COALESCE(device_id, staff_id)), issue_key)
    WHERE issue_key IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX ticket_issue_key_idx`.execute(db);
  await sql`ALTER TABLE ticket DROP COLUMN issue_key`.execute(db);
}
