import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { auditLogAppendOnly } from '../functions/audit_log_append_only.ts';

// The audit log (docs/audit.md): who changed what in the configuration, the accounts and their
// roles, and who signed in or failed to, and when. Append-only (its trigger refuses UPDATE,
// DELETE and TRUNCATE), kept for good: it is evidence when a complaint is investigated.
// - actor_name is the account's username (or the device's name) as it was: it stays when the
//   account goes (actor_id is then set to null).
// - site_id null: an entry of no one site (an administrator's sign-in, a new site's creation is
//   not: it names the new site).
// - changes: for an update {field: {from, to}}, for a creation the values given; a secret or a
//   password is only ever {changed: true}.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz(3) NOT NULL,
      actor_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
      actor_name text NOT NULL,
      actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'device', 'integration', 'system')),
      site_id uuid REFERENCES site (id) ON DELETE SET NULL,
      action text NOT NULL CHECK (action ~ '^[a-z_]+([.][a-z_]+)*$'),
      target_type text,
      target_id text,
      changes jsonb NOT NULL DEFAULT '{}'::jsonb,
      ip text
    )`.execute(db);
  await sql`CREATE INDEX audit_log_site_at_idx ON audit_log (site_id, at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC)`.execute(db);

  await createOrReplace(db, auditLogAppendOnly);
  await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_log`.execute(db);
  await sql`DROP FUNCTION IF EXISTS audit_log_append_only()`.execute(db);
}
