import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { reportDayRatingChanged } from '../functions/report_day_rating_changed.ts';

// Report facts (server/src/reports/README.md, "Speed"): one narrow row per stint of the tickets
// of a closed site-day, written by the report code (never by the queue engine), and one row per
// site-day saying its facts are complete. A day without its row is read from the raw history.
// - report_stint: the figures of a stint that cannot change any more once its ticket has ended
//   (done, no_show, cancelled, expired are final), and the ticket's rating score, the one thing
//   that can come later: a rating's trigger drops its day (report_day row and stints), so the day is read
//   raw again until it is rebuilt. Settings (target wait, rating scale, timezone) and labels are
//   joined when the report is read, so they stay "current setting".
// - report_day: the site's local date, the instants it covered when it was built and the
//   timezone they were reckoned in, when it was built and how many tickets it held. The stints'
//   local_date and local_hour (of their issue) are in that timezone: a report uses them while
//   the site keeps it, and reckons day and hour from issued_at otherwise.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE report_day (
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      local_date date NOT NULL,
      from_at timestamptz(3) NOT NULL,
      to_at timestamptz(3) NOT NULL,
      timezone text NOT NULL,
      built_at timestamptz NOT NULL DEFAULT now(),
      tickets integer NOT NULL,
      PRIMARY KEY (site_id, local_date)
    )`.execute(db);
  await sql`
    CREATE TABLE report_stint (
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      local_date date NOT NULL,
      local_hour smallint NOT NULL,
      issued_at timestamptz(3) NOT NULL,
      ticket_id uuid NOT NULL,
      service_id uuid NOT NULL,
      call_counter_id uuid,
      call_staff_id uuid,
      first boolean NOT NULL,
      transfer_in boolean NOT NULL,
      transfer_out boolean NOT NULL,
      final boolean NOT NULL,
      status text,
      wait double precision,
      service_seconds double precision,
      estimate_error double precision,
      score integer
    )`.execute(db);
  await sql`CREATE INDEX report_stint_site_issued_idx ON report_stint (site_id, issued_at)`.execute(db);
  await sql`CREATE INDEX report_stint_day_idx ON report_stint (site_id, local_date)`.execute(db);
  // a rating given, changed or removed after its day was built drops the day and its stints
  await createOrReplace(db, reportDayRatingChanged);
  await sql`
    CREATE TRIGGER rating_report_day AFTER INSERT OR UPDATE OR DELETE ON rating
    FOR EACH ROW EXECUTE FUNCTION report_day_rating_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS rating_report_day ON rating`.execute(db);
  await sql`DROP FUNCTION IF EXISTS report_day_rating_changed()`.execute(db);
  await sql`DROP TABLE IF EXISTS report_stint`.execute(db);
  await sql`DROP TABLE IF EXISTS report_day`.execute(db);
}
