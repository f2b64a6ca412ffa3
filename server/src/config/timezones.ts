import { sql } from 'kysely';
import type { Db } from '@qms/db';
import { QueueError } from '../queue/queue.errors.ts';

// A site's time zone must be known to both sides that use it: Node (the screens, the calendar,
// the ISO times of the API) and PostgreSQL (the reports group by local day and hour). Node
// knows names PostgreSQL does not (US/Pacific-New), and a site saved with one answered every
// report, also the admin's all-sites report, with 500 until someone changed it back.

const known = new WeakMap<Db, Promise<Set<string>>>();

function postgresZones(db: Db): Promise<Set<string>> {
  let zones = known.get(db);
  if (!zones) {
    zones = sql<{ name: string }>`SELECT name FROM pg_timezone_names`.execute(db).then((r) => new Set(r.rows.map((z) => z.name)));
    // a failed read is tried again next time, not remembered
    zones.catch(() => known.delete(db));
    known.set(db, zones);
  }
  return zones;
}

/** Refuses (400 INVALID_TIMEZONE) a time zone that Node or PostgreSQL does not know. */
export async function assertTimezone(db: Db, timezone: string): Promise<void> {
  let inNode = true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    inNode = false;
  }
  if (!inNode || !(await postgresZones(db)).has(timezone)) {
    throw new QueueError('INVALID_TIMEZONE', `Unknown timezone "${timezone}": use an IANA name such as Asia/Ho_Chi_Minh`, 400);
  }
}
