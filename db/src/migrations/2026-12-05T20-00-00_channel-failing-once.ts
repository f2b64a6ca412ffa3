import { sql, type Kysely } from 'kysely';

// One open "channel failing" alert per site and channel, whatever the number of workers: two
// deliveries failing at the same instant each saw none open and each raised one (INSERT … WHERE
// NOT EXISTS does not serialise under READ COMMITTED). The unique index does, and the worker
// inserts with ON CONFLICT DO NOTHING. Duplicates already open are cleared first, the oldest kept.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    UPDATE alert a SET data = a.data || jsonb_build_object('clearedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    WHERE a.kind = 'channel_failing' AND NOT jsonb_exists(a.data, 'clearedAt')
      AND EXISTS (SELECT 1 FROM alert b WHERE b.kind = 'channel_failing' AND NOT jsonb_exists(b.data, 'clearedAt')
        AND b.site_id = a.site_id AND b.data->>'channel' = a.data->>'channel' AND (b.created_at, b.id) < (a.created_at, a.id))`.execute(db);
  await sql`
    CREATE UNIQUE INDEX alert_channel_failing_open_idx ON alert (site_id, (data->>'channel'))
    WHERE kind = 'channel_failing' AND NOT jsonb_exists(data, 'clearedAt')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS alert_channel_failing_open_idx`.execute(db);
}
