import type { Db } from '@qms/db';
import { normaliseDossierCode, type AddDossierBody, type DossierLookup, type DossierVisit, type TicketDossier, type TicketProcedure, type Visit } from '@qms/protocol';
import { QueueError } from '../queue/queue.errors.ts';
import { lastFinishedAt } from '../ratings/rating.service.ts';
import type { QueueService } from '../queue/queue.service.ts';
import { isoInZone, seconds } from '../queue/time.ts';

// What a visit was about: the procedures (thủ tục) and the dossier codes (mã hồ sơ) on a ticket,
// and a dossier's visits for the dossier system and the provincial portal (docs/integration.md).
// The rows are facts of the visit, not queue state: no screen's snapshot changes with them, so
// nothing is published; the dossier system hears of a recorded code through the outbox
// (dossier:recorded, written by a trigger in the same transaction).

/** Who may change a ticket's procedures and dossiers (the routes decide it). */
export interface Editor {
  staffId?: string;
}

/** A ticket's state that decides who may edit it. */
export interface EditableTicket {
  id: string;
  siteId: string;
  /** the field it waits or is served in now */
  serviceId: string;
  status: string;
  counterId: string | null;
  localDate: string;
}

/** Statuses in which the official of the ticket's counter may still record what the visit was about. */
const EDITABLE = new Set(['called', 'serving', 'done']);

export class VisitService {
  constructor(private readonly db: Db, private readonly now: () => Date, private readonly queue: Pick<QueueService, 'getTicket'>) {}

  /**
   * The ticket's site, counter and status: what the routes need to authorise an edit. Its
   * counter's official may edit it while it is called or served there, and once done until the
   * counter calls someone else (a receipt scanned just after "finish").
   */
  async editable(ticketId: string): Promise<EditableTicket & { editable: boolean }> {
    const row = await this.db.selectFrom('ticket').select(['id', 'siteId', 'serviceId', 'status', 'counterId', 'localDate'])
      .where('id', '=', ticketId).executeTakeFirst();
    if (!row) throw new QueueError('TICKET_NOT_FOUND', `No ticket ${ticketId}`, 404);
    let editable = EDITABLE.has(row.status);
    if (editable && row.status === 'done' && row.counterId) {
      const [last, busy] = await Promise.all([
        lastFinishedAt(this.db, row.counterId),
        this.db.selectFrom('ticket').select('id').where('counterId', '=', row.counterId).where('status', 'in', ['called', 'serving']).limit(1).executeTakeFirst(),
      ]);
      editable = last?.id === row.id && !busy;
    }
    return { ...row, editable };
  }

  async visit(ticketId: string): Promise<Visit> {
    const [ticket, procedures, dossiers] = await Promise.all([
      this.queue.getTicket(ticketId), this.procedures(ticketId), this.dossiers(ticketId),
    ]);
    return { ticket, procedures, dossiers };
  }

  /**
   * The visit's procedures become exactly `codes` (national codes of the site's procedures).
   * Those already on it keep where and when they were set; a code the site lists under several
   * fields takes the one of the ticket's current field.
   */
  async setProcedures(ticket: EditableTicket, codes: readonly string[], by: Editor): Promise<Visit> {
    const known = codes.length
      ? await this.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
        .select(['procedure.code', 'procedure.name', 'procedure.serviceId'])
        .where('service.siteId', '=', ticket.siteId).where('procedure.code', 'in', [...codes]).execute()
      : [];
    const missing = codes.filter((code) => !known.some((p) => p.code === code));
    if (missing.length) {
      throw new QueueError('UNKNOWN_PROCEDURE', `This centre does not list the procedure(s) ${missing.join(', ')}`, 400, { procedureCodes: missing });
    }
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      let remove = trx.deleteFrom('ticketProcedure').where('ticketId', '=', ticket.id);
      if (codes.length) remove = remove.where('procedureCode', 'not in', [...codes]);
      await remove.execute();
      if (!codes.length) return;
      await trx.insertInto('ticketProcedure').values(codes.map((code) => {
        const p = known.find((k) => k.code === code && k.serviceId === ticket.serviceId) ?? known.find((k) => k.code === code)!;
        return {
          ticketId: ticket.id, siteId: ticket.siteId, procedureCode: code, procedureName: JSON.stringify(p.name),
          serviceId: p.serviceId, source: 'counter' as const, addedAt: now, addedBy: by.staffId ?? null,
        };
      })).onConflict((oc) => oc.columns(['ticketId', 'procedureCode']).doNothing()).execute();
    });
    return this.visit(ticket.id);
  }

  /** Records a dossier code; the same code and direction on the same visit again records nothing (a double scan). */
  async addDossier(ticket: EditableTicket, input: AddDossierBody, by: Editor): Promise<{ visit: Visit; created: boolean }> {
    const inserted = await this.db.insertInto('ticketDossier').values({
      ticketId: ticket.id, siteId: ticket.siteId, dossierCode: normaliseDossierCode(input.dossierCode), direction: input.direction,
      recordedAt: this.now(), recordedBy: by.staffId ?? null,
    }).onConflict((oc) => oc.columns(['ticketId', 'dossierCode', 'direction']).doNothing()).returning('id').executeTakeFirst();
    return { visit: await this.visit(ticket.id), created: !!inserted };
  }

  async removeDossier(ticket: EditableTicket, dossierId: string): Promise<void> {
    const removed = await this.db.deleteFrom('ticketDossier').where('id', '=', dossierId).where('ticketId', '=', ticket.id)
      .returning('id').executeTakeFirst();
    if (!removed) throw new QueueError('DOSSIER_NOT_FOUND', `No dossier ${dossierId} on this ticket`, 404);
  }

  /** Every visit of a dossier at a site, oldest first, with its waits, officials, rating and criticisms. */
  async lookup(siteId: string, dossierCode: string): Promise<DossierLookup> {
    const code = normaliseDossierCode(dossierCode);
    const site = await this.db.selectFrom('site').select(['id', 'timezone', 'settings']).where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    const marks = await this.db.selectFrom('ticketDossier').select(['ticketId', 'direction', 'recordedAt'])
      .where('siteId', '=', siteId).where('dossierCode', '=', code).orderBy('recordedAt').execute();
    if (!marks.length) throw new QueueError('DOSSIER_NOT_FOUND', `No visit of the centre recorded the dossier ${code}`, 404);
    const ticketIds = [...new Set(marks.map((m) => m.ticketId))];
    const iso = (d: Date) => isoInZone(d, site.timezone);
    const scale = site.settings.ratingScale ?? [];

    const [tickets, events, procedures, ratings, criticisms, result] = await Promise.all([
      this.db.selectFrom('ticket').innerJoin('service', 'service.id', 'ticket.serviceId')
        .leftJoin('counter', 'counter.id', 'ticket.counterId')
        .select(['ticket.id', 'ticket.code', 'ticket.localDate', 'ticket.status', 'ticket.issuedAt', 'ticket.calledAt', 'ticket.finishedAt',
          'service.id as serviceId', 'service.code as serviceCode', 'service.name as serviceName', 'counter.number as counterNumber', 'counter.name as counterName'])
        .where('ticket.id', 'in', ticketIds).execute(),
      this.db.selectFrom('ticketEvent').leftJoin('appUser', 'appUser.id', 'ticketEvent.staffId')
        .select(['ticketEvent.ticketId', 'ticketEvent.type', 'ticketEvent.at', 'ticketEvent.staffId', 'appUser.displayName'])
        .where('ticketEvent.ticketId', 'in', ticketIds).orderBy('ticketEvent.at').orderBy('ticketEvent.id').execute(),
      this.db.selectFrom('ticketProcedure').select(['ticketId', 'procedureCode', 'procedureName'])
        .where('ticketId', 'in', ticketIds).orderBy('addedAt').execute(),
      this.db.selectFrom('rating').leftJoin('appUser', 'appUser.id', 'rating.staffId')
        .select(['rating.ticketId', 'rating.score', 'rating.reason', 'rating.comment', 'rating.createdAt', 'rating.staffId', 'appUser.displayName'])
        .where('rating.ticketId', 'in', ticketIds).execute(),
      this.db.selectFrom('alert').select(['id', 'ticketId', 'createdAt', 'data', 'caseStatus', 'resolutionNote'])
        .select((eb) => eb.selectFrom('alertCaseEvent').select((e) => e.fn.max('at').as('at'))
          .whereRef('alertCaseEvent.alertId', '=', 'alert.id').where('alertCaseEvent.status', '=', 'resolved').as('resolvedAt'))
        .where('ticketId', 'in', ticketIds).where('kind', '=', 'criticism').orderBy('createdAt').execute(),
      this.db.selectFrom('dossierResult').select('receivedAt').where('siteId', '=', siteId).where('dossierCode', '=', code).executeTakeFirst(),
    ]);

    const visits = ticketIds.map((ticketId): DossierVisit => {
      const t = tickets.find((row) => row.id === ticketId)!;
      const own = events.filter((e) => e.ticketId === ticketId);
      const officials: { id: string; displayName: string }[] = [];
      for (const e of own) {
        if (e.staffId && e.displayName && e.type !== 'issued' && !officials.some((o) => o.id === e.staffId)) officials.push({ id: e.staffId, displayName: e.displayName });
      }
      const rating = ratings.find((r) => r.ticketId === ticketId);
      const mine = marks.filter((m) => m.ticketId === ticketId);
      return {
        ticketId,
        code: t.code,
        date: t.localDate,
        status: t.status,
        directions: [...new Set(mine.map((m) => m.direction))],
        recordedAt: iso(mine[0]!.recordedAt),
        service: { id: t.serviceId, code: t.serviceCode, name: t.serviceName },
        procedures: procedures.filter((p) => p.ticketId === ticketId).map((p) => ({ code: p.procedureCode, name: p.procedureName })),
        issuedAt: iso(t.issuedAt),
        calledAt: t.calledAt ? iso(t.calledAt) : null,
        finishedAt: t.finishedAt ? iso(t.finishedAt) : null,
        waitSeconds: calledWait(own),
        serviceSeconds: t.status === 'done' && t.calledAt && t.finishedAt ? seconds(t.calledAt, t.finishedAt) : null,
        counter: t.counterNumber !== null ? { number: t.counterNumber, name: t.counterName ?? '' } : null,
        officials,
        rating: rating ? {
          score: rating.score,
          label: scale.find((level) => level.score === rating.score)?.label ?? null,
          reason: rating.reason, comment: rating.comment, createdAt: iso(rating.createdAt),
          official: rating.staffId && rating.displayName ? { id: rating.staffId, displayName: rating.displayName } : null,
        } : null,
        criticisms: criticisms.filter((c) => c.ticketId === ticketId).map((c) => ({
          alertId: c.id, createdAt: iso(c.createdAt),
          comment: typeof c.data.comment === 'string' ? c.data.comment : null,
          status: c.caseStatus ?? 'new', resolutionNote: c.resolutionNote,
          resolvedAt: c.caseStatus === 'resolved' && c.resolvedAt ? iso(new Date(c.resolvedAt)) : null,
        })),
      };
    }).sort((a, b) => a.issuedAt.localeCompare(b.issuedAt));

    return { dossierCode: code, siteId, visits, resultReadyAt: result ? iso(result.receivedAt) : null };
  }

  private async procedures(ticketId: string): Promise<TicketProcedure[]> {
    const rows = await this.db.selectFrom('ticketProcedure').innerJoin('site', 'site.id', 'ticketProcedure.siteId')
      .select(['procedureCode', 'procedureName', 'source', 'addedAt', 'site.timezone'])
      .where('ticketId', '=', ticketId).orderBy('addedAt').orderBy('procedureCode').execute();
    return rows.map((r) => ({ code: r.procedureCode, name: r.procedureName, source: r.source, addedAt: isoInZone(r.addedAt, r.timezone) }));
  }

  private async dossiers(ticketId: string): Promise<TicketDossier[]> {
    const rows = await this.db.selectFrom('ticketDossier').innerJoin('site', 'site.id', 'ticketDossier.siteId')
      .leftJoin('appUser', 'appUser.id', 'ticketDossier.recordedBy')
      .select(['ticketDossier.id', 'dossierCode', 'direction', 'recordedAt', 'recordedBy', 'appUser.displayName', 'site.timezone'])
      .where('ticketId', '=', ticketId).orderBy('recordedAt').orderBy('ticketDossier.id').execute();
    return rows.map((r) => ({
      id: r.id, dossierCode: r.dossierCode, direction: r.direction, recordedAt: isoInZone(r.recordedAt, r.timezone),
      recordedBy: r.recordedBy && r.displayName ? { id: r.recordedBy, displayName: r.displayName } : null,
    }));
  }
}

/**
 * The wait of a visit: each stint (from the issue, or from a transfer into another field) to the
 * call that ended it, summed over the stints that were called; null if none was.
 */
function calledWait(events: readonly { type: string; at: Date }[]): number | null {
  let began: Date | null = null;
  let total: number | null = null;
  for (const e of events) {
    if (e.type === 'issued' || e.type === 'transferred') began = e.at;
    else if (e.type === 'called' && began) {
      total = (total ?? 0) + seconds(began, e.at);
      began = null;
    }
  }
  return total;
}
