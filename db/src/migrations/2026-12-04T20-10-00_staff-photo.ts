import { sql, type Kysely } from 'kysely';

// An official's photo, shown to citizens on the rating tablet and on the counter terminal. In
// the database, not on disk, so every process of a cluster serves it with no shared volume. It
// is stored as the server re-encoded it (a JPEG of at most 512 px a side, no metadata), never
// the upload itself: the size checks below are the bounds that re-encoding keeps. `etag` is a
// digest of `image`; it versions the photo's URL so screens notice a new one.
// Frozen in time: this file never imports application code.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE staff_photo (
      user_id uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
      image bytea NOT NULL CHECK (octet_length(image) BETWEEN 1 AND 262144),
      content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
      width integer NOT NULL CHECK (width BETWEEN 1 AND 512),
      height integer NOT NULL CHECK (height BETWEEN 1 AND 512),
      etag text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid REFERENCES app_user (id) ON DELETE SET NULL
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE staff_photo`.execute(db);
}
