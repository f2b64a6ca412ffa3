import type { Db } from '@qms/db';
import { localParts } from '@qms/protocol/calendar';
import { NO_PROCEDURE, type ReportRow, type ReportTotals, type SummaryQuery, type SummaryReport } from '../../src/reports/report.service.ts';

// The summary report again, the plain way: every raw row loaded into memory and walked in
// TypeScript. Only for tests: it is the definition written as directly as possible.

/** PostgreSQL's percentile_cont: linear interpolation at position p·(n−1) of the sorted values. */
export function percentileCont(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

/** One stint of a ticket, with everything that counts where it happened. */
interface StintFact {
  key: string | null;
  /** the ticket's procedures (groupBy procedure: the stint counts in each) */
  procedures: string[];
  /** the ticket's first stint: its issue counts here */
  issued: boolean;
  transferIn: boolean;
  transferOut: boolean;
  /** the final stint: the ticket's outcome counts here */
  status: string | null;
  serviceSeconds: number | null;
  score: number | null;
  notSatisfied: boolean;
  /** called stints only */
  wait: number | null;
  withinTarget: boolean;
  estimateError: number | null;
}

export interface RawHistory {
  sites: { id: string; timezone: string; settings: { ratingScale?: { score: number }[] } }[];
  tickets: { id: string; siteId: string; serviceId: string; status: string; issuedAt: Date; finishedAt: Date | null; estimatedWaitSeconds: number | null }[];
  events: { id: string | number; ticketId: string; type: string; serviceId: string; counterId: string | null; staffId: string | null; at: Date }[];
  ratings: { ticketId: string; score: number; staffId: string | null; counterId: string | null }[];
  services: { id: string; name: { vi: string }; targetWaitSeconds: number; position: number; code: string }[];
  counters: { id: string; name: string; number: number }[];
  users: { id: string; displayName: string }[];
  counterEvents: { id: string | number; counterId: string; type: string; staffId: string | null; at: Date }[];
  procedures: { ticketId: string; siteId: string; procedureCode: string; procedureName: { vi: string }; addedAt: Date }[];
  dossiers: { ticketId: string; siteId: string; dossierCode: string; direction: string }[];
  alerts: { id: string; siteId: string; kind: string; counterId: string | null; staffId: string | null; ticketId: string | null; createdAt: Date; caseStatus: string | null }[];
  caseEvents: { alertId: string; at: Date; status: string }[];
  siteNames: { id: string; name: string; code: string }[];
}

export async function loadHistory(db: Db): Promise<RawHistory> {
  return {
    sites: await db.selectFrom('site').select(['id', 'timezone', 'settings']).execute(),
    tickets: await db.selectFrom('ticket').select(['id', 'siteId', 'serviceId', 'status', 'issuedAt', 'finishedAt', 'estimatedWaitSeconds']).execute(),
    events: await db.selectFrom('ticketEvent').select(['id', 'ticketId', 'type', 'serviceId', 'counterId', 'staffId', 'at']).orderBy('id').execute(),
    ratings: await db.selectFrom('rating').select(['ticketId', 'score', 'staffId', 'counterId']).execute(),
    services: await db.selectFrom('service').select(['id', 'name', 'targetWaitSeconds', 'position', 'code']).execute(),
    counters: await db.selectFrom('counter').select(['id', 'name', 'number']).execute(),
    users: await db.selectFrom('appUser').select(['id', 'displayName']).execute(),
    counterEvents: await db.selectFrom('counterEvent').select(['id', 'counterId', 'type', 'staffId', 'at']).execute(),
    procedures: await db.selectFrom('ticketProcedure').select(['ticketId', 'siteId', 'procedureCode', 'procedureName', 'addedAt']).execute(),
    dossiers: await db.selectFrom('ticketDossier').select(['ticketId', 'siteId', 'dossierCode', 'direction']).execute(),
    alerts: await db.selectFrom('alert').select(['id', 'siteId', 'kind', 'counterId', 'staffId', 'ticketId', 'createdAt', 'caseStatus']).execute(),
    caseEvents: await db.selectFrom('alertCaseEvent').select(['alertId', 'at', 'status']).execute(),
    siteNames: await db.selectFrom('site').select(['id', 'name', 'code']).execute(),
  };
}

export function referenceReport(h: RawHistory, q: SummaryQuery): SummaryReport {
  const site = new Map(h.sites.map((s) => [s.id, s]));
  const service = new Map(h.services.map((s) => [s.id, s]));
  const rating = new Map(h.ratings.map((r) => [r.ticketId, r.score]));
  const eventsOf = new Map<string, RawHistory['events']>();
  for (const e of [...h.events].sort((a, b) => Number(a.id) - Number(b.id))) {
    eventsOf.set(e.ticketId, [...(eventsOf.get(e.ticketId) ?? []), e]);
  }
  const officialAt = (counterId: string, at: Date) => h.counterEvents
    .filter((c) => c.counterId === counterId && (c.type === 'opened' || c.type === 'resumed') && c.at.getTime() <= at.getTime())
    .sort((a, b) => b.at.getTime() - a.at.getTime() || Number(b.id) - Number(a.id))[0]?.staffId ?? null;

  const facts: StintFact[] = [];
  for (const t of h.tickets) {
    if (q.siteId !== null && t.siteId !== q.siteId) continue;
    if (t.issuedAt < q.from || t.issuedAt >= q.to) continue;
    const s = site.get(t.siteId)!;
    const local = localParts(t.issuedAt, s.timezone);
    const byTime = q.groupBy === 'day' ? local.date : q.groupBy === 'hour' ? String(Math.floor(local.seconds / 3600)) : null;

    // walk the history: a stint starts at 'issued' or 'transferred' and ends at the next 'called';
    // a 'transferred' event also closes the stint before it, as a transfer out
    type Call = { at: Date; counterId: string | null; staffId: string | null };
    const stints: { serviceId: string; start: Date; transferIn: boolean; transferOut: boolean; call?: Call }[] = [];
    for (const e of eventsOf.get(t.id) ?? []) {
      if (e.type === 'issued' || e.type === 'transferred') {
        if (e.type === 'transferred' && stints.length) stints.at(-1)!.transferOut = true;
        stints.push({ serviceId: e.serviceId, start: e.at, transferIn: e.type === 'transferred', transferOut: false });
      } else if (e.type === 'called') {
        const current = stints.at(-1);
        if (current && !current.call) {
          current.call = { at: e.at, counterId: e.counterId, staffId: e.staffId ?? (e.counterId ? officialAt(e.counterId, e.at) : null) };
        }
      }
    }
    if (!stints.length) stints.push({ serviceId: t.serviceId, start: t.issuedAt, transferIn: false, transferOut: false });

    const scale = s.settings.ratingScale?.length ? s.settings.ratingScale.map((l) => l.score) : [1];
    const score = rating.get(t.id) ?? null;
    stints.forEach((stint, i) => {
      const final = i === stints.length - 1;
      const wait = stint.call ? seconds(stint.start, stint.call.at) : null;
      facts.push({
        procedures: proceduresOf(h, t.id),
        key: byTime ?? (q.groupBy === 'service' ? stint.serviceId : q.groupBy === 'counter' ? stint.call?.counterId ?? null : stint.call?.staffId ?? null),
        issued: i === 0,
        transferIn: stint.transferIn,
        transferOut: stint.transferOut,
        status: final ? t.status : null,
        serviceSeconds: final && t.status === 'done' ? seconds(stint.call!.at, t.finishedAt!) : null,
        score: final ? score : null,
        notSatisfied: final && score !== null && score === Math.min(...scale),
        wait,
        withinTarget: wait !== null && wait <= service.get(stint.serviceId)!.targetWaitSeconds,
        estimateError: i === 0 && wait !== null && t.estimatedWaitSeconds !== null ? Math.abs(t.estimatedWaitSeconds - wait) : null,
      });
    });
  }

  const figures = (sf: StintFact[]): ReportTotals => {
    const called = sf.filter((f) => f.wait !== null);
    const waits = called.map((f) => f.wait!);
    const service = sf.filter((f) => f.serviceSeconds !== null).map((f) => f.serviceSeconds!);
    const rated = sf.filter((f) => f.score !== null);
    const scores = rated.map((f) => f.score!);
    const errors = sf.filter((f) => f.estimateError !== null).map((f) => f.estimateError!);
    const shares: Record<string, number> = {};
    for (const score of scores) shares[score] = (shares[score] ?? 0) + 1 / scores.length;
    return {
      issued: sf.filter((f) => f.issued).length,
      served: sf.filter((f) => f.status === 'done').length,
      noShow: sf.filter((f) => f.status === 'no_show').length,
      waitAvgSeconds: mean(waits),
      waitP50Seconds: percentileCont(waits, 0.5),
      waitP90Seconds: percentileCont(waits, 0.9),
      serviceAvgSeconds: mean(service),
      serviceP90Seconds: percentileCont(service, 0.9),
      ratings: scores.length,
      ratingAvg: mean(scores),
      transferred: sf.filter((f) => f.transferOut).length,
      transfersIn: sf.filter((f) => f.transferIn).length,
      cancelled: sf.filter((f) => f.status === 'cancelled').length,
      expired: sf.filter((f) => f.status === 'expired').length,
      waits: waits.length,
      withinTargetShare: called.length ? called.filter((f) => f.withinTarget).length / called.length : null,
      ratingShares: shares,
      notSatisfiedShare: scores.length ? rated.filter((f) => f.notSatisfied).length / scores.length : null,
      estimateMaeSeconds: percentileCont(errors, 0.5),
    };
  };

  // groupBy procedure: a copy of each fact per procedure of its ticket, for the rows only
  const rowFacts = q.groupBy === 'procedure'
    ? facts.flatMap((f) => (f.procedures.length ? f.procedures : [NO_PROCEDURE.key]).map((key) => ({ ...f, key })))
    : facts;
  const keys = [...new Set(rowFacts.map((f) => f.key).filter((k): k is string => k !== null))];
  const counters = new Map(h.counters.map((c) => [c.id, c]));
  const users = new Map(h.users.map((u) => [u.id, u]));
  const label = (key: string) => q.groupBy === 'service' ? service.get(key)!.name.vi
    : q.groupBy === 'counter' ? counters.get(key)!.name
    : q.groupBy === 'staff' ? users.get(key)!.displayName
    : q.groupBy === 'procedure' ? procedureName(h, key, q.siteId !== null ? [q.siteId] : q.siteIds ?? null)
    : key;
  const order = (a: string, b: string): number => {
    switch (q.groupBy) {
      case 'service': return service.get(a)!.position - service.get(b)!.position || cmp(service.get(a)!.code, service.get(b)!.code) || cmp(a, b);
      case 'counter': return counters.get(a)!.number - counters.get(b)!.number || cmp(a, b);
      case 'staff': return cmp(users.get(a)!.displayName, users.get(b)!.displayName) || cmp(a, b);
      case 'hour': return Number(a) - Number(b);
      case 'procedure': return procedureOrder(a, b);
      default: return cmp(a, b);
    }
  };
  const rows: ReportRow[] = keys.sort(order).map((key) => ({
    key,
    label: label(key),
    ...figures(rowFacts.filter((f) => f.key === key)),
  }));
  return { rows, totals: figures(facts) };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The procedure codes recorded on a ticket (each once). */
export function proceduresOf(h: RawHistory, ticketId: string): string[] {
  return [...new Set(h.procedures.filter((p) => p.ticketId === ticketId).map((p) => p.procedureCode))];
}

/** The name last recorded for a code at these sites (null: every site); NO_PROCEDURE's label for ''. */
export function procedureName(h: RawHistory, code: string, siteIds: string[] | null): string {
  if (code === NO_PROCEDURE.key) return NO_PROCEDURE.label;
  const named = h.procedures.filter((p) => p.procedureCode === code && (siteIds === null || siteIds.includes(p.siteId)))
    .sort((a, b) => b.addedAt.getTime() - a.addedAt.getTime() || cmp(b.procedureName.vi, a.procedureName.vi));
  return named[0]!.procedureName.vi;
}

/** Codes in code-unit order, the group without a procedure last. */
export const procedureOrder = (a: string, b: string) =>
  (a === NO_PROCEDURE.key ? 1 : 0) - (b === NO_PROCEDURE.key ? 1 : 0) || cmp(a, b);
