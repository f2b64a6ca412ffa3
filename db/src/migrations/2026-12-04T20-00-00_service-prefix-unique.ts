import { sql, type Kysely } from 'kysely';

// Two active services of a site with one prefix print the same code twice a day (two "A"
// tiles on the kiosk, two A001). The console's checks refuse it; this index is what makes two
// concurrent creates (or renames) end with one service holding the prefix. A deactivated
// service gives its prefix up, as the prefix check of PUT /services/:id always had it: its
// tickets are over (it cannot be deactivated while any waits) and its history keeps its codes.
// A database that already holds such a pair stops here with the services to change named,
// rather than the index's bare "could not create unique index".
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    DO $check$
    DECLARE clash text;
    BEGIN
      SELECT string_agg(format('site %s: prefix %s of services %s', site.code, dup.prefix, dup.codes), '; ') INTO clash
      FROM (SELECT site_id, prefix, string_agg(code, ', ' ORDER BY code) AS codes FROM service WHERE active
            GROUP BY site_id, prefix HAVING count(*) > 1) dup
      JOIN site ON site.id = dup.site_id;
      IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'Active services share a ticket prefix (%): give each its own prefix (UPDATE service SET prefix = ... WHERE id = ...) and migrate again', clash;
      END IF;
    END
    $check$`.execute(db);
  await sql`CREATE UNIQUE INDEX service_prefix_active_idx ON service (site_id, prefix) WHERE active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX service_prefix_active_idx`.execute(db);
}
