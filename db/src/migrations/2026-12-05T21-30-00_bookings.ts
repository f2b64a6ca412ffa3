import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsCallNextBefore as qmsCallNext } from '../functions/history/qms_call_next.ts';

// Appointments and remote tickets (docs/appointments.md).
// - procedure.info: what the public page shows of a procedure (steps, documents to bring,
//   processing time, fees), kept in the console.
// - booking_capacity: how many bookings a field takes in each time block of a weekday. A field
//   with no rows takes none.
// - booking: a slot booked ahead ('slot') or a number taken from away for today ('remote'). Its
//   contact (a phone number or an email) and the digest of an ID number are personal data, erased
//   with erase_after. A booking becomes a ticket at check-in, in the transaction of the issue.
// - ticket.booking_kind and ticket.slot_at: a booked ticket and its slot, for the call order, the
//   screens and the reports; counter.booked_streak: booked tickets called in a row at a counter.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE procedure ADD COLUMN info jsonb NOT NULL DEFAULT '{}'::jsonb`.execute(db);

  await sql`
    CREATE TABLE booking_capacity (
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      service_id uuid NOT NULL REFERENCES service (id) ON DELETE CASCADE,
      weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
      starts time NOT NULL,
      capacity integer NOT NULL CHECK (capacity BETWEEN 0 AND 1000),
      PRIMARY KEY (service_id, weekday, starts)
    )`.execute(db);
  await sql`CREATE INDEX booking_capacity_site_idx ON booking_capacity (site_id)`.execute(db);

  await sql`
    CREATE TABLE booking (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      public_id text NOT NULL UNIQUE,
      code text NOT NULL CHECK (code ~ '^[A-Z0-9]{6,10}$'),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      service_id uuid NOT NULL REFERENCES service (id) ON DELETE CASCADE,
      procedure_code text,
      kind text NOT NULL CHECK (kind IN ('slot', 'remote')),
      status text NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'checked_in', 'cancelled', 'missed', 'lapsed')),
      source text NOT NULL CHECK (source IN ('public', 'portal', 'console')),
      local_date date NOT NULL,
      slot_at timestamptz NOT NULL,
      slot_minutes integer NOT NULL,
      arrive_by timestamptz,
      lang text NOT NULL DEFAULT 'vi',
      contact_kind text CHECK (contact_kind IN ('phone', 'email')),
      contact text,
      id_digest text,
      verify_digest text,
      verify_attempts integer NOT NULL DEFAULT 0,
      verify_sends integer NOT NULL DEFAULT 0,
      verify_expires_at timestamptz,
      ticket_id uuid REFERENCES ticket (id) ON DELETE SET NULL,
      checked_in_late boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      cancelled_at timestamptz,
      checked_in_at timestamptz,
      moved_count integer NOT NULL DEFAULT 0,
      erase_after timestamptz,
      UNIQUE (site_id, code)
    )`.execute(db);
  await sql`CREATE INDEX booking_slot_idx ON booking (service_id, slot_at) WHERE status IN ('unconfirmed', 'confirmed', 'checked_in')`.execute(db);
  await sql`CREATE INDEX booking_day_idx ON booking (site_id, local_date, status)`.execute(db);
  await sql`CREATE INDEX booking_contact_idx ON booking (site_id, contact) WHERE contact IS NOT NULL`.execute(db);
  await sql`CREATE INDEX booking_id_digest_idx ON booking (site_id, id_digest) WHERE id_digest IS NOT NULL`.execute(db);
  await sql`CREATE INDEX booking_erase_idx ON booking (erase_after) WHERE erase_after IS NOT NULL`.execute(db);

  // the key of the ID numbers' digests (an HMAC: a 12-digit number's plain hash is found by trying them all)
  await sql`CREATE TABLE app_secret (name text PRIMARY KEY, value text NOT NULL)`.execute(db);

  // IF NOT EXISTS: a database stepped back over this migration kept them (down, below)
  await sql`ALTER TABLE ticket ADD COLUMN IF NOT EXISTS booking_kind text CHECK (booking_kind IN ('slot', 'remote'))`.execute(db);
  await sql`ALTER TABLE ticket ADD COLUMN IF NOT EXISTS slot_at timestamptz`.execute(db);
  await sql`ALTER TABLE counter ADD COLUMN IF NOT EXISTS booked_streak integer`.execute(db);
  await createOrReplace(db, qmsCallNext);
}

// The ticket's and counter's columns stay: qms_call_next's body (its one current copy, in
// db/src/functions) reads them, and without bookings they are empty and change no call.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS app_secret`.execute(db);
  await sql`DROP TABLE IF EXISTS booking`.execute(db);
  await sql`DROP TABLE IF EXISTS booking_capacity`.execute(db);
  await sql`ALTER TABLE procedure DROP COLUMN IF EXISTS info`.execute(db);
}
