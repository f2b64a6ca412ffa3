import { sql, type Kysely } from 'kysely';
import type { Database } from '@qms/db';

// Arrivals by local day and hour (the report screen's heat map): tickets issued in [from, to)
// counted by the local date and hour of issue in each ticket's site timezone, the same
// bucketing as the summary's `day` and `hour` groupings. Cells with no ticket are absent.

export interface ArrivalCell {
  /** local 'yyyy-MM-dd' */
  day: string;
  /** local hour 0..23 */
  hour: number;
  issued: number;
}

export async function arrivalsByDayHour(
  db: Kysely<Database>, q: { siteId: string | null; siteIds?: string[]; from: Date; to: Date },
): Promise<ArrivalCell[]> {
  const scope = q.siteId !== null ? sql`AND t.site_id = ${q.siteId}`
    : q.siteIds ? sql`AND t.site_id = ANY(${q.siteIds}::uuid[])` : sql``;
  const { rows } = await sql<ArrivalCell>`
    SELECT to_char(t.issued_at AT TIME ZONE s.timezone, 'YYYY-MM-DD') AS day,
      extract(hour FROM t.issued_at AT TIME ZONE s.timezone)::int AS hour,
      count(*)::int AS issued
    FROM ticket t JOIN site s ON s.id = t.site_id
    WHERE t.issued_at >= ${q.from} AND t.issued_at < ${q.to} ${scope}
    GROUP BY 1, 2
    ORDER BY 1, 2`.execute(db);
  return rows;
}
