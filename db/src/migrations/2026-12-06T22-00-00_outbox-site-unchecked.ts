import { sql, type Kysely } from 'kysely';

// An outbox fact's site is the site of the ticket, rating, alert or dossier it is about, checked
// against site when that row was written (the facts are written by triggers). Checking it again
// locked the site's row FOR KEY SHARE three times per ticket, from every transaction of the site
// at once: a MultiXact and its WAL each time (docs/performance.md, "Fifth round"). A site is
// never deleted by the application; the relay sets aside a fact whose site is gone.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox DROP CONSTRAINT outbox_site_id_fkey`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox ADD CONSTRAINT outbox_site_id_fkey FOREIGN KEY (site_id) REFERENCES site(id) ON DELETE CASCADE`.execute(db);
}
