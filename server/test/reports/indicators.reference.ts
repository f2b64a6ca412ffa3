import type { DossierFigures, DossierQuery, DossierReport } from '../../src/reports/dossiers.ts';
import { NO_PROCEDURE } from '../../src/reports/report.service.ts';
import { scaleOf, type SatisfactionFigures, type SatisfactionQuery, type SatisfactionReport } from '../../src/reports/satisfaction.ts';
import { percentileCont, procedureName, procedureOrder, proceduresOf, type RawHistory } from './report.reference.ts';

// Satisfaction and visits per dossier again, the plain way: the raw rows walked in TypeScript,
// the definitions of server/src/reports/README.md written as directly as possible. Only for tests.

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const inRange = (at: Date, q: { from: Date; to: Date }) => at.getTime() >= q.from.getTime() && at.getTime() < q.to.getTime();

interface Fact {
  keys: (string | null)[];
  score: number | null;
  status: string | null;
  resolution: number | null;
}

/** When a resolved criticism was resolved: its first 'resolved' event after its last event of another status. */
export function resolvedAt(h: RawHistory, alertId: string): Date | null {
  const events = h.caseEvents.filter((e) => e.alertId === alertId);
  const lastOpen = Math.max(-Infinity, ...events.filter((e) => e.status !== 'resolved').map((e) => e.at.getTime()));
  const after = events.filter((e) => e.status === 'resolved' && e.at.getTime() > lastOpen).map((e) => e.at.getTime());
  return after.length ? new Date(Math.min(...after)) : null;
}

export function referenceSatisfaction(h: RawHistory, q: SatisfactionQuery): SatisfactionReport {
  const site = h.sites.find((s) => s.id === q.siteId)!;
  const scale = scaleOf(site.settings as Parameters<typeof scaleOf>[0]);
  const lowest = Math.min(...scale.map((l) => l.score));
  const ticket = new Map(h.tickets.map((t) => [t.id, t]));
  const ratingRow = new Map(h.ratings.map((r) => [r.ticketId, r]));
  const procs = (ticketId: string) => {
    const list = proceduresOf(h, ticketId);
    return list.length ? list : [NO_PROCEDURE.key];
  };

  const facts: Fact[] = [];
  for (const t of h.tickets) {
    if (t.siteId !== q.siteId || !inRange(t.issuedAt, q)) continue;
    const r = ratingRow.get(t.id);
    if (!r) continue;
    const keys = q.groupBy === 'staff' ? [r.staffId ?? null]
      : q.groupBy === 'counter' ? [r.counterId ?? null]
      : q.groupBy === 'service' ? [t.serviceId]
      : q.groupBy === 'site' ? [t.siteId]
      : procs(t.id);
    facts.push({ keys, score: r.score, status: null, resolution: null });
  }
  for (const a of h.alerts) {
    if (a.siteId !== q.siteId || a.kind !== 'criticism' || !inRange(a.createdAt, q)) continue;
    const t = a.ticketId ? ticket.get(a.ticketId) ?? null : null;
    const status = a.caseStatus ?? 'new';
    const at = status === 'resolved' ? resolvedAt(h, a.id) : null;
    const keys = q.groupBy === 'staff' ? [a.staffId]
      : q.groupBy === 'counter' ? [a.counterId]
      : q.groupBy === 'service' ? [t?.serviceId ?? null]
      : q.groupBy === 'site' ? [a.siteId]
      : t ? procs(t.id) : [null];
    facts.push({ keys, score: null, status, resolution: at ? (at.getTime() - a.createdAt.getTime()) / 1000 : null });
  }

  const figures = (fs: Fact[]): SatisfactionFigures => {
    const scores = fs.filter((f) => f.score !== null).map((f) => f.score!);
    const given = [...new Set([...scale.map((l) => l.score), ...scores])].sort((a, b) => b - a);
    const crit = fs.filter((f) => f.status !== null);
    const times = crit.filter((f) => f.resolution !== null).map((f) => f.resolution!);
    const satisfied = scores.filter((s) => s > lowest).length;
    return {
      ratings: scores.length,
      ratingAvg: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      levels: given.map((score) => {
        const count = scores.filter((s) => s === score).length;
        return { score, count, share: scores.length ? count / scores.length : null };
      }),
      satisfied,
      satisfiedShare: scores.length ? satisfied / scores.length : null,
      criticisms: crit.length,
      criticismsNew: crit.filter((f) => f.status === 'new').length,
      criticismsInvestigating: crit.filter((f) => f.status === 'investigating').length,
      criticismsResolved: crit.filter((f) => f.status === 'resolved').length,
      resolutionP50Seconds: percentileCont(times, 0.5),
      resolutionsTimed: times.length,
    };
  };

  const keys = [...new Set(facts.flatMap((f) => f.keys).filter((k): k is string => k !== null))];
  const label = (key: string): { label: string; order: (string | number)[] } => {
    switch (q.groupBy) {
      case 'staff': return { label: h.users.find((u) => u.id === key)!.displayName, order: [h.users.find((u) => u.id === key)!.displayName] };
      case 'counter': { const c = h.counters.find((x) => x.id === key)!; return { label: c.name, order: [c.number] }; }
      case 'service': { const s = h.services.find((x) => x.id === key)!; return { label: s.name.vi, order: [s.position, s.code] }; }
      case 'site': { const s = h.siteNames.find((x) => x.id === key)!; return { label: s.name, order: [s.code] }; }
      case 'procedure': return { label: procedureName(h, key, [q.siteId]), order: [] };
    }
  };
  const order = (a: string, b: string) => {
    if (q.groupBy === 'procedure') return procedureOrder(a, b);
    const x = label(a).order;
    const y = label(b).order;
    for (let i = 0; i < x.length; i++) if (cmp(x[i]!, y[i]!)) return cmp(x[i]!, y[i]!);
    return cmp(a, b);
  };
  return {
    scale,
    rows: keys.sort(order).map((key) => ({ key, label: label(key).label, ...figures(facts.filter((f) => f.keys.includes(key))) })),
    totals: figures(facts),
  };
}

export function referenceDossiers(h: RawHistory, q: DossierQuery): DossierReport {
  const ticket = new Map(h.tickets.map((t) => [t.id, t]));
  // a visit: a ticket of the site carrying the code, once however many rows it has
  const visits = new Map<string, Set<string>>();
  for (const d of h.dossiers) {
    if (d.siteId !== q.siteId) continue;
    visits.set(d.dossierCode, (visits.get(d.dossierCode) ?? new Set()).add(d.ticketId));
  }
  const dossiers: { code: string; visits: number; procedures: string[] }[] = [];
  for (const [code, tickets] of visits) {
    const first = Math.min(...[...tickets].map((id) => ticket.get(id)!.issuedAt.getTime()));
    if (!inRange(new Date(first), q)) continue;
    const procedures = [...new Set([...tickets].flatMap((id) => proceduresOf(h, id)))];
    dossiers.push({ code, visits: tickets.size, procedures: procedures.length ? procedures : [NO_PROCEDURE.key] });
  }
  const figures = (ds: typeof dossiers): DossierFigures => {
    const n = (k: number) => ds.filter((d) => d.visits === k).length;
    const total = ds.reduce((a, d) => a + d.visits, 0);
    return {
      dossiers: ds.length,
      visits: total,
      visitsAvg: ds.length ? total / ds.length : null,
      oneVisit: n(1),
      twoVisits: n(2),
      threeVisits: n(3),
      fourOrMoreVisits: ds.filter((d) => d.visits >= 4).length,
      withinTwoVisitsShare: ds.length ? ds.filter((d) => d.visits <= 2).length / ds.length : null,
    };
  };
  const keys = [...new Set(dossiers.flatMap((d) => d.procedures))].sort(procedureOrder);
  return {
    rows: keys.map((key) => ({ key, label: procedureName(h, key, [q.siteId]), ...figures(dossiers.filter((d) => d.procedures.includes(key))) })),
    totals: figures(dossiers),
  };
}
