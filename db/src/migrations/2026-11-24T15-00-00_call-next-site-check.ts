import { sql, type Kysely } from 'kysely';

// call-next without a lookup before it (server/src/routes/ticket.routes.ts, measured in
// docs/performance.md, "Call-to-screen latency"): the route used to read the counter's site
// (one more round trip) only to check that the official is staff of that site. This overload
// takes the official's sites (NULL for an admin or a counter device), refuses an official of
// another site (NOT_SITE_STAFF, the route's 403) and otherwise runs the function of 13-00-00,
// which does all the rest. A counter's site never changes, so it is checked without the lock.
// An unknown counter still answers 404 first (the server's statement finds no counter row).
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION qms_call_next(p_counter uuid, p_staff uuid, p_device uuid, p_at timestamptz, p_sites uuid[])
    RETURNS SETOF ticket
    LANGUAGE plpgsql VOLATILE AS $fn$
    BEGIN
      IF p_sites IS NOT NULL AND EXISTS (SELECT 1 FROM counter k WHERE k.id = p_counter AND NOT (k.site_id = ANY (p_sites))) THEN
        RAISE EXCEPTION USING ERRCODE = 'QMS01', MESSAGE = 'NOT_SITE_STAFF';
      END IF;
      RETURN QUERY SELECT * FROM qms_call_next(p_counter, p_staff, p_device, p_at);
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS qms_call_next(uuid, uuid, uuid, timestamptz, uuid[])`.execute(db);
}
