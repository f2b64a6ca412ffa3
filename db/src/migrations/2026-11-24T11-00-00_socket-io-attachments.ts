import { sql, type Kysely } from 'kysely';

// Large socket.io packets between server processes (@socket.io/postgres-adapter): the adapter
// sends small ones with NOTIFY and parks bigger ones (snapshots) here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE socket_io_attachments (
    id bigserial UNIQUE,
    created_at timestamptz DEFAULT now(),
    payload bytea
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('socket_io_attachments').ifExists().execute();
}
