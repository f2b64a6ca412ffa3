import { sql, type Kysely } from 'kysely';
import type { Database } from '@qms/db';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import { NO_PROCEDURE, procedureLabel } from './report.service.ts';

// Visits per dossier ("no going back and forth", Decision 766's indicator): how many times a
// citizen came to the site for one dossier. README.md in this folder has the definitions:
// - a dossier is a dossier code (ticket_dossier.dossier_code) at one site;
// - a visit of a dossier is a ticket of that site carrying its code (one ticket_dossier row or
//   more, received or returned: a ticket carrying the code twice is one visit), whatever the
//   ticket's status; the visit's instant is the ticket's issued_at;
// - a dossier counts in [from, to) when its first visit does; all its visits count, also those
//   after `to` (as the summary counts everything about a ticket of the range);
// - per procedure: a dossier belongs to every procedure recorded on any of its visits' tickets,
//   to '' when none is.

export interface DossierQuery {
  siteId: string;
  from: Date;
  to: Date;
}

export interface DossierFigures {
  /** distinct dossier codes whose first visit is in the range */
  dossiers: number;
  /** their visits, in all */
  visits: number;
  visitsAvg: number | null;
  /** dossiers with exactly 1, 2, 3 visits, and with 4 or more */
  oneVisit: number;
  twoVisits: number;
  threeVisits: number;
  fourOrMoreVisits: number;
  /** share of dossiers with at most two visits (one to submit, one to collect) */
  withinTwoVisitsShare: number | null;
}

export interface DossierRow extends DossierFigures {
  /** the procedure's national code; '' for dossiers with no procedure recorded */
  key: string;
  label: string;
}

export interface DossierReport {
  rows: DossierRow[];
  totals: DossierFigures;
}

interface AggregateRow {
  key: string | null;
  total: boolean;
  label: string | null;
  dossiers: string;
  visits: string;
  visitsAvg: number | null;
  oneVisit: string;
  twoVisits: string;
  threeVisits: string;
  fourOrMoreVisits: string;
}

export async function dossierReport(db: Kysely<Database>, q: DossierQuery): Promise<DossierReport> {
  if (!(q.from.getTime() < q.to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  const site = await db.selectFrom('site').select('id').where('id', '=', q.siteId).executeTakeFirst();
  if (!site) throw notFound('site', q.siteId);
  const { rows } = await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => sql<AggregateRow>`
    -- codes with a visit in the range (tickets of the range, then their dossier rows), then every
    -- visit of those codes at the site: a dossier whose first visit is earlier drops out below
    WITH candidate AS (
      SELECT DISTINCT d.dossier_code
      FROM ticket t
      JOIN ticket_dossier d ON d.ticket_id = t.id
      WHERE t.site_id = ${q.siteId} AND t.issued_at >= ${q.from} AND t.issued_at < ${q.to}
    ),
    visit AS (
      SELECT DISTINCT d.dossier_code, d.ticket_id, t.issued_at
      FROM candidate c
      JOIN ticket_dossier d ON d.dossier_code = c.dossier_code AND d.site_id = ${q.siteId}
      JOIN ticket t ON t.id = d.ticket_id
    ),
    dossier AS (
      SELECT dossier_code, count(*) AS visits
      FROM visit
      GROUP BY dossier_code
      HAVING min(issued_at) >= ${q.from}
    ),
    dossier_procedure AS (
      SELECT DISTINCT v.dossier_code, tp.procedure_code
      FROM visit v
      JOIN ticket_procedure tp ON tp.ticket_id = v.ticket_id
    ),
    keyed AS (
      SELECT coalesce(p.procedure_code, ${NO_PROCEDURE.key}) AS key, d.visits
      FROM dossier d
      LEFT JOIN dossier_procedure p ON p.dossier_code = d.dossier_code
    ),
    agg AS (
      SELECT key, false AS total, ${AGGREGATES} FROM keyed GROUP BY key
      UNION ALL
      SELECT NULL, true, ${AGGREGATES} FROM dossier
    )
    SELECT a.key AS "key", a.total AS "total",
      CASE WHEN a.key = ${NO_PROCEDURE.key} THEN ${NO_PROCEDURE.label} ELSE ${procedureLabel(sql`a.key`, sql`AND tp.site_id = ${q.siteId}`)} END AS "label",
      a.dossiers AS "dossiers", a.visits AS "visits", a.visits_avg AS "visitsAvg", a.one_visit AS "oneVisit",
      a.two_visits AS "twoVisits", a.three_visits AS "threeVisits", a.four_or_more AS "fourOrMoreVisits"
    FROM agg a
    ORDER BY a.total, a.key = ${NO_PROCEDURE.key}, a.key COLLATE "C"`.execute(trx));
  const totalRow = rows.find((r) => r.total);
  return {
    rows: rows.filter((r) => !r.total).map((r) => ({ key: r.key!, label: r.label ?? r.key!, ...figures(r) })),
    totals: figures(totalRow ?? null),
  };
}

const AGGREGATES = sql`
  count(*) AS dossiers,
  coalesce(sum(visits), 0) AS visits,
  avg(visits)::float8 AS visits_avg,
  count(*) FILTER (WHERE visits = 1) AS one_visit,
  count(*) FILTER (WHERE visits = 2) AS two_visits,
  count(*) FILTER (WHERE visits = 3) AS three_visits,
  count(*) FILTER (WHERE visits >= 4) AS four_or_more`;

function figures(r: AggregateRow | null): DossierFigures {
  const dossiers = Number(r?.dossiers ?? 0);
  const one = Number(r?.oneVisit ?? 0);
  const two = Number(r?.twoVisits ?? 0);
  return {
    dossiers,
    visits: Number(r?.visits ?? 0),
    visitsAvg: r?.visitsAvg === null || r?.visitsAvg === undefined ? null : Number(r.visitsAvg),
    oneVisit: one,
    twoVisits: two,
    threeVisits: Number(r?.threeVisits ?? 0),
    fourOrMoreVisits: Number(r?.fourOrMoreVisits ?? 0),
    withinTwoVisitsShare: dossiers ? (one + two) / dossiers : null,
  };
}
