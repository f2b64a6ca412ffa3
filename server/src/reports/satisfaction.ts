import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '@qms/db';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import { NO_PROCEDURE, procedureLabel } from './report.service.ts';
import { secondsBetween } from './report.sql.ts';

// Citizen satisfaction (Decision 766/QĐ-TTg's indicators) of one site: ratings and criticisms
// per official, counter, field (service), procedure or the site, computed in PostgreSQL.
// README.md in this folder has the definitions; in short:
// - a rating counts with its ticket, by the ticket's issued_at in [from, to) (as in the summary);
//   it belongs to the official and counter stored on it (who made the ticket's final call: the
//   summary's final stint), the ticket's final service, each of the ticket's procedures;
// - a criticism is an alert of kind 'criticism'; it counts by its own created_at in [from, to)
//   (most have no ticket); it belongs to the official and counter named on it, and to a service
//   and procedures only through its ticket when it has one;
// - satisfied = a score above the lowest level of the site's scale;
// - a criticism's handling is its case status now (no status: new); its resolution instant is the
//   first 'resolved' case event after its last event of another status.

export const SATISFACTION_GROUPS = ['staff', 'counter', 'service', 'procedure', 'site'] as const;
export type SatisfactionGroupBy = (typeof SATISFACTION_GROUPS)[number];

export interface SatisfactionQuery {
  siteId: string;
  from: Date;
  to: Date;
  groupBy: SatisfactionGroupBy;
}

export interface ScaleLevel {
  score: number;
  label: { vi: string; en: string };
}

export interface LevelFigure {
  score: number;
  count: number;
  /** count / ratings; null without ratings */
  share: number | null;
}

export interface SatisfactionFigures {
  ratings: number;
  ratingAvg: number | null;
  /** one entry per level of the scale (and per other score given), highest score first */
  levels: LevelFigure[];
  /** ratings with a score above the lowest level / ratings */
  satisfied: number;
  satisfiedShare: number | null;
  criticisms: number;
  criticismsNew: number;
  criticismsInvestigating: number;
  criticismsResolved: number;
  /** median seconds from a resolved criticism to its resolution */
  resolutionP50Seconds: number | null;
  /** resolved criticisms whose resolution instant is known (the median's count) */
  resolutionsTimed: number;
}

export interface SatisfactionRow extends SatisfactionFigures {
  key: string;
  label: string;
}

export interface SatisfactionReport {
  scale: ScaleLevel[];
  rows: SatisfactionRow[];
  totals: SatisfactionFigures;
}

export const DEFAULT_SCALE: ScaleLevel[] = [
  { score: 3, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } },
  { score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } },
  { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' } },
];

/** The site's rating scale, highest score first; the default 3-2-1 one when it has none. */
export function scaleOf(settings: { ratingScale?: { score: number; label: { vi: string; en: string } }[] }): ScaleLevel[] {
  const scale = settings.ratingScale?.length ? settings.ratingScale : DEFAULT_SCALE;
  return scale.map((l) => ({ score: l.score, label: l.label })).sort((a, b) => b.score - a.score);
}

interface Keys {
  /** key of a rating: over `r` (rating), `t` (its ticket) */
  rating: RawBuilder<unknown>;
  /** key of a criticism: over `a` (alert), `t` (its ticket, if any: LEFT JOINed) */
  criticism: RawBuilder<unknown>;
}

const KEYS: Record<Exclude<SatisfactionGroupBy, 'procedure'>, Keys> = {
  staff: { rating: sql`r.staff_id::text`, criticism: sql`a.staff_id::text` },
  counter: { rating: sql`r.counter_id::text`, criticism: sql`a.counter_id::text` },
  service: { rating: sql`t.service_id::text`, criticism: sql`t.service_id::text` },
  site: { rating: sql`t.site_id::text`, criticism: sql`a.site_id::text` },
};

interface AggregateRow {
  key: string | null;
  total: boolean;
  ratings: string;
  ratingAvg: number | null;
  satisfied: string;
  criticisms: string;
  criticismsNew: string;
  criticismsInvestigating: string;
  criticismsResolved: string;
  resolutionP50Seconds: number | null;
  resolutionsTimed: string;
  scoreCounts: Record<string, number> | null;
}

export async function satisfactionReport(db: Kysely<Database>, q: SatisfactionQuery): Promise<SatisfactionReport> {
  if (!(q.from.getTime() < q.to.getTime())) throw new QueueError('INVALID_RANGE', 'The report range must end after it starts', 400);
  if (!(SATISFACTION_GROUPS as readonly string[]).includes(q.groupBy)) {
    throw new QueueError('INVALID_GROUP_BY', `Unknown groupBy "${String(q.groupBy)}"`, 400);
  }
  const site = await db.selectFrom('site').select(['id', 'settings']).where('id', '=', q.siteId).executeTakeFirst();
  if (!site) throw notFound('site', q.siteId);
  const scale = scaleOf(site.settings);
  const lowest = Math.min(...scale.map((l) => l.score));

  const { rows } = await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(
    (trx) => satisfactionStatement(q, lowest).execute(trx),
  );
  const totalRow = rows.find((r) => r.total);
  const keyed = rows.filter((r) => !r.total && r.key !== null);
  const labels = await labelsOf(db, q, keyed.map((r) => r.key!));
  return {
    scale,
    rows: keyed
      .map((r) => ({ key: r.key!, label: labels.get(r.key!)?.label ?? r.key!, ...figures(r, scale) }))
      .sort((a, b) => compareKeys(labels, a.key, b.key)),
    totals: totalRow ? figures(totalRow, scale) : figures(null, scale),
  };
}

function satisfactionStatement(q: SatisfactionQuery, lowest: number): RawBuilder<AggregateRow> {
  const byProcedure = q.groupBy === 'procedure';
  const keys = q.groupBy === 'procedure' ? { rating: sql`NULL::text`, criticism: sql`NULL::text` } : KEYS[q.groupBy];
  return sql<AggregateRow>`
    WITH rated AS (
      SELECT ${keys.rating} AS key, t.id AS ticket_id, r.score, NULL::text AS status, NULL::float8 AS resolution
      FROM ticket t
      JOIN rating r ON r.ticket_id = t.id
      WHERE t.site_id = ${q.siteId} AND t.issued_at >= ${q.from} AND t.issued_at < ${q.to}
    ),
    criticism AS (
      SELECT a.id, a.created_at, ${keys.criticism} AS key, a.ticket_id, coalesce(a.case_status, 'new') AS status
      FROM alert a
      LEFT JOIN ticket t ON t.id = a.ticket_id
      WHERE a.site_id = ${q.siteId} AND a.kind = 'criticism' AND a.created_at >= ${q.from} AND a.created_at < ${q.to}
    ),
    -- a case resolved, reopened and resolved again was resolved the second time
    reopened AS (
      SELECT e.alert_id, max(e.at) AS last_open
      FROM alert_case_event e
      WHERE e.alert_id IN (SELECT id FROM criticism) AND e.status <> 'resolved'
      GROUP BY e.alert_id
    ),
    resolved AS (
      SELECT e.alert_id, min(e.at) AS resolved_at
      FROM alert_case_event e
      LEFT JOIN reopened o ON o.alert_id = e.alert_id
      WHERE e.alert_id IN (SELECT id FROM criticism WHERE status = 'resolved') AND e.status = 'resolved'
        AND (o.last_open IS NULL OR e.at > o.last_open)
      GROUP BY e.alert_id
    ),
    fact AS (
      SELECT key, ticket_id, score, status, resolution FROM rated
      UNION ALL
      SELECT c.key, c.ticket_id, NULL::int, c.status,
        CASE WHEN c.status = 'resolved' THEN ${secondsBetween(sql`c.created_at`, sql`v.resolved_at`)} END
      FROM criticism c
      LEFT JOIN resolved v ON v.alert_id = c.id
    ),
    ${byProcedure ? sql`
    -- a ticket's facts count once per procedure of the ticket ('' when it has none); a criticism
    -- without a ticket has no procedure: in the totals only
    keyed AS (
      SELECT coalesce(tp.procedure_code, ${NO_PROCEDURE.key}) AS key, f.score, f.status, f.resolution
      FROM fact f
      LEFT JOIN ticket_procedure tp ON tp.ticket_id = f.ticket_id
      WHERE f.ticket_id IS NOT NULL
    ),` : sql`keyed AS (SELECT key, score, status, resolution FROM fact),`}
    agg AS (
      SELECT key, false AS total, ${aggregates(lowest)} FROM keyed WHERE key IS NOT NULL GROUP BY key
      UNION ALL
      SELECT NULL, true, ${aggregates(lowest)} FROM fact
    ),
    dist AS (
      SELECT key, false AS total, score, count(*) AS n FROM keyed WHERE key IS NOT NULL AND score IS NOT NULL GROUP BY key, score
      UNION ALL
      SELECT NULL, true, score, count(*) FROM fact WHERE score IS NOT NULL GROUP BY score
    ),
    counts AS (
      SELECT key, total, jsonb_object_agg(score::text, n) AS counts FROM dist GROUP BY key, total
    )
    SELECT a.key AS "key", a.total AS "total", a.ratings AS "ratings", a.rating_avg AS "ratingAvg", a.satisfied AS "satisfied",
      a.criticisms AS "criticisms", a.criticisms_new AS "criticismsNew", a.criticisms_investigating AS "criticismsInvestigating",
      a.criticisms_resolved AS "criticismsResolved", a.resolution_p50 AS "resolutionP50Seconds", a.resolutions_timed AS "resolutionsTimed",
      c.counts AS "scoreCounts"
    FROM agg a
    LEFT JOIN counts c ON c.total = a.total AND c.key IS NOT DISTINCT FROM a.key`;
}

const aggregates = (lowest: number) => sql`
  count(score) AS ratings,
  avg(score)::float8 AS rating_avg,
  count(*) FILTER (WHERE score > ${lowest}::int) AS satisfied,
  count(status) AS criticisms,
  count(*) FILTER (WHERE status = 'new') AS criticisms_new,
  count(*) FILTER (WHERE status = 'investigating') AS criticisms_investigating,
  count(*) FILTER (WHERE status = 'resolved') AS criticisms_resolved,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution) AS resolution_p50,
  count(resolution) AS resolutions_timed`;

function figures(r: AggregateRow | null, scale: ScaleLevel[]): SatisfactionFigures {
  const ratings = Number(r?.ratings ?? 0);
  const counts = r?.scoreCounts ?? {};
  const scores = [...new Set([...scale.map((l) => l.score), ...Object.keys(counts).map(Number)])].sort((a, b) => b - a);
  const satisfied = Number(r?.satisfied ?? 0);
  return {
    ratings,
    ratingAvg: r?.ratingAvg === null || r?.ratingAvg === undefined ? null : Number(r.ratingAvg),
    levels: scores.map((score) => {
      const count = Number(counts[String(score)] ?? 0);
      return { score, count, share: ratings ? count / ratings : null };
    }),
    satisfied,
    satisfiedShare: ratings ? satisfied / ratings : null,
    criticisms: Number(r?.criticisms ?? 0),
    criticismsNew: Number(r?.criticismsNew ?? 0),
    criticismsInvestigating: Number(r?.criticismsInvestigating ?? 0),
    criticismsResolved: Number(r?.criticismsResolved ?? 0),
    resolutionP50Seconds: r?.resolutionP50Seconds === null || r?.resolutionP50Seconds === undefined ? null : Number(r.resolutionP50Seconds),
    resolutionsTimed: Number(r?.resolutionsTimed ?? 0),
  };
}

interface Label {
  label: string;
  /** what rows are ordered by, then the key */
  order: (string | number)[];
}

/** Names of the groups: display name, counter name, service name (vi), procedure name, site name. */
async function labelsOf(db: Kysely<Database>, q: SatisfactionQuery, keys: string[]): Promise<Map<string, Label>> {
  const out = new Map<string, Label>();
  if (!keys.length) return out;
  switch (q.groupBy) {
    case 'staff':
      for (const u of await db.selectFrom('appUser').select(['id', 'displayName']).where('id', 'in', keys).execute()) {
        out.set(u.id, { label: u.displayName, order: [u.displayName] });
      }
      break;
    case 'counter':
      for (const c of await db.selectFrom('counter').select(['id', 'name', 'number']).where('id', 'in', keys).execute()) {
        out.set(c.id, { label: c.name, order: [c.number] });
      }
      break;
    case 'service':
      for (const s of await db.selectFrom('service').select(['id', 'name', 'position', 'code']).where('id', 'in', keys).execute()) {
        out.set(s.id, { label: s.name.vi, order: [s.position, s.code] });
      }
      break;
    case 'site':
      for (const s of await db.selectFrom('site').select(['id', 'name', 'code']).where('id', 'in', keys).execute()) {
        out.set(s.id, { label: s.name, order: [s.code] });
      }
      break;
    case 'procedure': {
      const { rows } = await sql<{ code: string; name: string | null }>`
        SELECT k.code, ${procedureLabel(sql`k.code`, sql`AND tp.site_id = ${q.siteId}`)} AS name
        FROM unnest(${keys}::text[]) AS k(code)`.execute(db);
      for (const r of rows) {
        out.set(r.code, r.code === NO_PROCEDURE.key
          ? { label: NO_PROCEDURE.label, order: [1, ''] }
          : { label: r.name ?? r.code, order: [0, r.code] });
      }
      break;
    }
  }
  return out;
}

/** Code-unit order of strings (PostgreSQL's "C" collation for these keys), numbers by value. */
const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

function compareKeys(labels: Map<string, Label>, a: string, b: string): number {
  const x = labels.get(a)?.order ?? [];
  const y = labels.get(b)?.order ?? [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = cmp(x[i] ?? '', y[i] ?? '');
    if (c) return c;
  }
  return cmp(a, b);
}
