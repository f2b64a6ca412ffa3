import { sql, type RawBuilder } from 'kysely';

// SQL fragments shared by the summary report and the CSV export, so both read the history
// the same way.

/**
 * The official who made a call (`e` is a 'called' ticket_event). The event names the official
 * when one pressed the button; a counter device's call carries only the device, and then it
 * was the official working the counter at that instant (the last opened/resumed event of the
 * counter before the call), which is also what the engine stored on the ticket.
 */
export function callStaffId(e: string): RawBuilder<string | null> {
  const ev = sql.ref(e);
  return sql<string | null>`coalesce(${ev}.staff_id, (
    SELECT ce.staff_id FROM counter_event ce
    WHERE ce.counter_id = ${ev}.counter_id AND ce.at <= ${ev}.at AND ce.type IN ('opened', 'resumed')
    ORDER BY ce.at DESC, ce.id DESC
    LIMIT 1))`;
}

/** Seconds between two timestamptz expressions, as a double (milliseconds kept). */
export const secondsBetween = (from: RawBuilder<unknown>, to: RawBuilder<unknown>) =>
  sql<number>`extract(epoch FROM (${to} - ${from}))::float8`;
