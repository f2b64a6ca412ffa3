import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsOutboxDossier } from '../functions/qms_outbox_dossier.ts';

// Procedures and dossiers on tickets (docs/integration.md).
// - ticket_procedure: the procedures (thủ tục, national codes like 1.001193) a visit was about:
//   the one found at the kiosk, and those the official sets while serving. The code and name are
//   kept as they were, so a later edit of the site's procedure list rewrites no history.
// - ticket_dossier: the dossier codes (mã hồ sơ) received or returned during a visit. A ticket
//   carries several; a dossier appears on several visits (submission, then collection). Codes
//   are kept upper-case, as the receipts print them.
// - integration_key gains scopes: a key reads dossiers, records results, or both.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ticket_procedure (
      ticket_id uuid NOT NULL REFERENCES ticket (id) ON DELETE CASCADE,
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      procedure_code text NOT NULL,
      procedure_name jsonb NOT NULL,
      service_id uuid REFERENCES service (id) ON DELETE SET NULL,
      source text NOT NULL CHECK (source IN ('kiosk', 'counter')),
      added_at timestamptz NOT NULL,
      added_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
      PRIMARY KEY (ticket_id, procedure_code)
    )`.execute(db);
  await sql`CREATE INDEX ticket_procedure_site_idx ON ticket_procedure (site_id, procedure_code)`.execute(db);

  await sql`
    CREATE TABLE ticket_dossier (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ticket_id uuid NOT NULL REFERENCES ticket (id) ON DELETE CASCADE,
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      dossier_code text NOT NULL CHECK (dossier_code ~ '^[A-Z0-9._/-]{3,40}$'),
      direction text NOT NULL CHECK (direction IN ('received', 'returned')),
      recorded_at timestamptz NOT NULL,
      recorded_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
      UNIQUE (ticket_id, dossier_code, direction)
    )`.execute(db);
  await sql`CREATE INDEX ticket_dossier_code_idx ON ticket_dossier (dossier_code, recorded_at)`.execute(db);
  await sql`CREATE INDEX ticket_dossier_site_idx ON ticket_dossier (site_id, recorded_at)`.execute(db);

  await sql`ALTER TABLE integration_key ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['dossier-results:write']`.execute(db);

  await createOrReplace(db, qmsOutboxDossier);
  await sql`CREATE TRIGGER ticket_dossier_outbox AFTER INSERT ON ticket_dossier FOR EACH ROW EXECUTE FUNCTION qms_outbox_dossier()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ticket_dossier`.execute(db);
  await sql`DROP FUNCTION IF EXISTS qms_outbox_dossier()`.execute(db);
  await sql`DROP TABLE IF EXISTS ticket_procedure`.execute(db);
  await sql`ALTER TABLE integration_key DROP COLUMN IF EXISTS scopes`.execute(db);
}
