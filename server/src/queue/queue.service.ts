import { randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { CounterRow, Database, Db, NewTicketEvent, SiteRow, TicketEventType, TicketRow, TicketStatus } from '@qms/db';
import { isAtCounter, staffRef, type Counter, type CounterRef, type PublicTicket, type QueueSnapshot, type ServiceQueue, type StaffRef, type Ticket } from '@qms/protocol';
import { event, statsDue, type DomainEvent, type PublishedEvent, type StatsDue } from './queue.events.ts';
import { NOT_STAFF_OF_SITE, notFound, QueueError } from './queue.errors.ts';
import * as repo from './queue.repository.ts';
import { dayEndsAt } from './day-end.ts';
import { localDate, openingState } from '@qms/protocol/calendar';
import { formatCode, toTicket } from './ticket.mapper.ts';
import { RULES, transition } from './ticket.lifecycle.ts';
import { isoInZone, seconds } from './time.ts';
import { estimateWait, waitEstimate } from './wait.estimate.ts';
import { SiteSettingsCache } from './site-settings.cache.ts';

type Trx = Transaction<Database>;

/** Who did it: an official, a device, or both (a counter device pressed by the official). */
export interface Actor {
  staffId?: string | null;
  deviceId?: string | null;
}

export interface IssueInput extends Actor {
  siteId: string;
  serviceId: string;
  /** 'none' or a priority group code of the site */
  priority?: string;
  lang?: string;
  channel?: string;
  /** the procedure the citizen found at the kiosk: one of the service's, by its national code */
  procedureCode?: string;
  /**
   * The issuer's key of this press (Idempotency-Key): the same key again, from the same kiosk
   * or official, gets the ticket the first request made instead of a new one.
   */
  issueKey?: string;
  /**
   * A booking checked in (bookings/booking.service.ts): the ticket is in line from `placeAt`
   * (a slot less the site's walk-in cap, or when a remote ticket was taken) and is marked with
   * its kind; kind null: too late for the slot, an ordinary ticket. The booking is marked checked
   * in within the issue's transaction, so one booking never makes two tickets.
   */
  booking?: { id: string; kind: 'slot' | 'remote' | null; slotAt: Date; placeAt: Date };
}

/** An issue's result: the ticket, and the procedure it was taken for. */
export interface Issued extends Result<Ticket> {
  /** the ticket the first request of this press made (Idempotency-Key) */
  replayed?: boolean;
  procedure?: { code: string; name: { vi: string; en: string } };
}

export interface CounterAction extends Actor {
  counterId: string;
}

export interface TicketAtCounter extends CounterAction {
  ticketId: string;
}

/**
 * What a counter action on a ticket names: the counter (a counter device's, or given), or for an
 * official none, meaning the counter they work; with the official's sites (null: an admin), so
 * that a ticket of another site is "not found" rather than "open a counter first".
 */
export interface AtCounterInput extends Actor {
  ticketId: string;
  counterId?: string;
  staffSiteIds?: readonly string[] | null;
}

export interface Result<T> {
  value: T;
  /** publish these after the transaction committed, never before */
  events: DomainEvent[];
}

export interface QueueServiceOptions {
  db: Db;
  /** the time source; tests pass a controllable clock */
  clock?: () => Date;
  /** a site's day ends this long after its last session closes (local midnight at the latest) */
  dayEndGraceSeconds?: number;
  /** how long an issue's settings may be reused without reading them (ms; 0: read every time; see site-settings.cache.ts) */
  settingsCacheMs?: number;
}

/** A change to a site's configuration not announced to this process is seen by its kiosks within this. */
export const SETTINGS_CACHE_MS = 5_000;

/** a snapshot's recentCalls: the site's latest calls and recalls today, at most this many */
export const RECENT_CALLS = 8;
const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/**
 * The queue engine: every ticket and counter operation, each one transaction that returns
 * the new state and the events to publish after commit. Knows nothing of HTTP or sockets.
 */
export class QueueService {
  readonly db: Db;
  private readonly clock: () => Date;
  private readonly dayEndGraceSeconds: number;
  private readonly settings: SiteSettingsCache<repo.IssueSettings | undefined>;

  constructor(options: QueueServiceOptions) {
    this.db = options.db;
    this.clock = options.clock ?? (() => new Date());
    this.dayEndGraceSeconds = options.dayEndGraceSeconds ?? 30 * 60;
    this.settings = new SiteSettingsCache(options.settingsCacheMs ?? SETTINGS_CACHE_MS);
  }

  /** A site's configuration changed (its `site:updated` event): its next issue reads it again. */
  forgetSettings(siteId: string): void {
    this.settings.forget(siteId);
  }

  /** The engine's time (a test clock in tests), for reads that must agree with it. */
  now(): Date {
    return this.clock();
  }

  // ---- tickets -------------------------------------------------------------------------

  async issue(input: IssueInput): Promise<Issued> {
    if (!input.issueKey) return this.issueNewDay(input);
    // A retried press costs nothing on the way of a first one: its key rides in the insert, and
    // only a refusal (the key's unique index, or a check that may since have changed, such as
    // the closing time) looks for the ticket the key already made.
    try {
      return await this.issueNewDay(input);
    } catch (error) {
      const earlier = await repo.ticketOfIssueKey(this.db, input.siteId, input.deviceId ?? input.staffId ?? null, input.issueKey);
      if (!earlier) throw error;
      const procedure = await repo.issuedProcedure(this.db, earlier.id);
      if (earlier.issuedServiceId !== input.serviceId || earlier.priority !== (input.priority ?? 'none') || procedure?.code !== input.procedureCode) {
        throw new QueueError('ISSUE_KEY_REUSED', 'This Idempotency-Key was already used for a different ticket: send a new key for a new press', 409);
      }
      return { value: await this.describe(earlier), events: [], replayed: true, ...(procedure ? { procedure } : {}) };
    }
  }

  /**
   * A new number on a new day may meet an earlier day's live ticket of the same code, when that
   * day's end has not been swept yet (the server was down at midnight): end that day first.
   */
  private async issueNewDay(input: IssueInput): Promise<Issued> {
    try {
      return await this.issueNew(input);
    } catch (error) {
      if ((error as { constraint?: string }).constraint !== 'ticket_live_code_idx') throw error;
      const ended = await this.endDays(input.siteId);
      if (!ended.value.length) throw new QueueError('CODE_IN_USE', 'A live ticket of this centre already has this number: try again', 409);
      const issued = await this.issueNew(input);
      return { ...issued, events: [...ended.events, ...issued.events] };
    }
  }

  private async issueNew(input: IssueInput): Promise<Issued> {
    // What the issue needs to know of the site, service, priority group, hours, holidays and
    // procedure, read in one statement before the number is taken (none of it is locked or
    // written by the issue; every statement reads the latest committed state either way), and
    // kept a few seconds per site (site-settings.cache.ts).
    const priority = input.priority ?? 'none';
    const procedureCode = input.procedureCode ?? null;
    const settings = await this.settings.get(input.siteId, `${input.serviceId} ${priority} ${procedureCode ?? ''}`,
      () => repo.issueSettings(this.db, input.siteId, input.serviceId, priority !== 'none' ? priority : null, procedureCode),
      // complete settings only: a refusal reads again
      (s) => !!s?.service?.active && s.service.siteId === s.site.id && (priority === 'none' || s.priorityKnown) && (!procedureCode || !!s.procedure));
    if (!settings) throw notFound('site', input.siteId);
    const { site, service, procedure } = settings;
    if (!service || service.siteId !== site.id || !service.active) throw notFound('service', input.serviceId);
    if (priority !== 'none' && !settings.priorityKnown) throw new QueueError('UNKNOWN_PRIORITY', `Priority group "${priority}" is not configured for this site`, 400);
    if (input.procedureCode && !procedure) {
      throw new QueueError('UNKNOWN_PROCEDURE', `This service does not list the procedure "${input.procedureCode}"`, 400, { procedureCode: input.procedureCode });
    }

    const before = this.clock();
    const opening = openingState(settings.calendar, before);
    if (!opening.open) {
      throw new QueueError('SITE_CLOSED', opening.reason === 'holiday' ? 'The centre is closed today (holiday)' : 'The centre is closed now',
        409, { opensAt: opening.opensAt ? isoInZone(opening.opensAt, site.timezone) : null });
    }
    const issue: NewIssue = {
      input, site, service, procedure, priority, priorityRank: settings.priorityRank, closesAt: opening.closesAt,
      localDate: localDate(before, site.timezone),
      id: randomUUID(), publicId: randomBytes(16).toString('base64url'),
      lang: input.lang ?? 'vi', channel: input.channel ?? (input.deviceId ? 'kiosk' : 'staff'),
    };
    // a walk-in in one round trip; a check-in, or a walk-in where a booked ticket waits, in a transaction
    return (input.booking ? undefined : await this.issueWalkIn(issue)) ?? this.issueInTransaction(issue);
  }

  /**
   * A walk-in ticket in one round trip (repo.issueTicket: the database function qms_issue), which
   * holds the service's number lock for its own statements only. Undefined when a booked ticket
   * waits in the service: the people ahead are then counted by replaying call-next's order.
   */
  private async issueWalkIn(issue: NewIssue): Promise<Issued | undefined> {
    const { input, site, service, procedure } = issue;
    const outcome = await retried(() => repo.issueTicket(this.db, {
      id: issue.id, publicId: issue.publicId, siteId: site.id, serviceId: service.id, localDate: issue.localDate,
      prefix: service.prefix, codeDigits: site.codeDigits, priority: issue.priority, priorityRank: issue.priorityRank,
      lang: issue.lang, channel: issue.channel, deviceId: input.deviceId ?? null, staffId: input.staffId ?? null,
      issueKey: input.issueKey ?? null, at: this.clock(), closesAt: issue.closesAt,
      procedure: procedure ? { ...procedure, source: input.deviceId ? 'kiosk' : 'counter' } : null,
    }));
    if (!('refused' in outcome)) return this.issued(issue, outcome.ticket, outcome.servingCounters === 0);
    if (outcome.refused === 'REPLAY_AHEAD') return undefined;
    throw serviceClosing(issue, outcome.estimatedWaitSeconds);
  }

  /** An issue in a transaction driven from here: a booking's check-in, or a walk-in counted by replay. */
  private async issueInTransaction(issue: NewIssue): Promise<Issued> {
    const { input, site, service, procedure } = issue;
    return this.transaction(async (trx) => {
      const number = await repo.nextNumber(trx, service.id, issue.localDate);
      // read the clock after taking the number, so arrival order follows number order
      const now = this.clock();
      const ticket = {
        id: issue.id,
        publicId: issue.publicId,
        siteId: site.id,
        issuedServiceId: service.id,
        serviceId: service.id,
        localDate: issue.localDate,
        number,
        code: formatCode(service.prefix, number, site.codeDigits),
        status: 'waiting' as const,
        priority: issue.priority,
        priorityRank: issue.priorityRank,
        lang: issue.lang,
        channel: issue.channel,
        deviceId: input.deviceId ?? null,
        counterId: null,
        staffId: input.staffId ?? null,
        issuedAt: now,
        queuedAt: input.booking?.kind ? input.booking.placeAt : now,
        bookingKind: input.booking?.kind ?? null,
        slotAt: input.booking?.kind ? input.booking.slotAt : null,
        calledAt: null,
        startedAt: null,
        finishedAt: null,
        issueKey: input.issueKey ?? null,
      };
      // the people ahead and the service's load, before the insert (the ticket is not counted)
      const figures = await repo.aheadAndLoad(trx, ticket, site.id, now);
      if (!figures) throw notFound('service', input.serviceId);
      const position = figures.ahead;
      const estimate = estimateWait(figures.load, position);
      // a booked or remote ticket was promised its place: it is not refused for the closing time
      if (issue.closesAt && !input.booking?.kind && now.getTime() + estimate * 1000 > issue.closesAt.getTime()) throw serviceClosing(issue, estimate);
      const saved = await repo.insertTicketRecorded(trx, { ...ticket, estimatedWaitSeconds: estimate, positionAtIssue: position },
        this.eventRow(ticket, 'issued', null, 'waiting', input, now));
      if (input.booking) {
        const checkedIn = await trx.updateTable('booking')
          .set({ status: 'checked_in', ticketId: ticket.id, checkedInAt: now, checkedInLate: input.booking.kind === null })
          .where('id', '=', input.booking.id).where('status', '=', 'confirmed').returning('id').executeTakeFirst();
        if (!checkedIn) throw new QueueError('BOOKING_USED', 'This booking has already been checked in', 409);
      }
      if (procedure) {
        await trx.insertInto('ticketProcedure').values({
          ticketId: ticket.id, siteId: site.id, procedureCode: procedure.code, procedureName: JSON.stringify(procedure.name),
          serviceId: service.id, source: input.deviceId ? 'kiosk' : 'counter', addedAt: now, addedBy: input.staffId ?? null,
        }).execute();
      }
      return this.issued(issue, saved, figures.load.servingCounters === 0);
    });
  }

  /** The issued ticket and its events. The site is open (checked before the issue), so the shown estimate is the stored one. */
  private issued(issue: NewIssue, saved: TicketRow, noCounterOpen: boolean): Issued {
    const { site, procedure } = issue;
    const ticket = toTicket(saved, site.timezone, { position: saved.positionAtIssue ?? 0, estimatedWaitSeconds: saved.estimatedWaitSeconds ?? 0, noCounterOpen });
    return {
      value: ticket, events: [event('ticket:issued', site.id, { ticket }), statsDue(site.id, [saved.serviceId], saved.issuedAt)],
      ...(procedure ? { procedure } : {}),
    };
  }

  /**
   * Calls the next eligible ticket to the counter, or returns null when none waits. The hot
   * path of every counter, so ONE round trip: the database function `qms_call_next` (see
   * repo.callNext) locks the counter, checks the official is staff of its site (staffSiteIds,
   * when given), that it is open, the official's and free (read after the lock), picks, calls
   * and records, in autocommit. The waiting figures are counted after
   * the commit (StatsDue), so `ticket:called` goes out at once.
   */
  async callNext(input: CounterAction & { staffSiteIds?: string[] | null }): Promise<Result<Ticket | null>> {
    const now = this.clock();
    const outcome = await retried(() => repo.callNext(this.db, {
      counterId: input.counterId, staffId: input.staffId ?? null, deviceId: input.deviceId ?? null, at: now,
      staffSiteIds: input.staffSiteIds ?? null,
    })).catch((error: unknown) => {
      const refusal = repo.callNextRefusal(error);
      throw refusal ? callNextError(refusal, input.counterId) : error;
    });
    if (!outcome) throw notFound('counter', input.counterId);
    const { counter, siteTimezone, called } = outcome;
    if (!called) return { value: null, events: [] };
    const ticket = toTicket(called, siteTimezone);
    return {
      value: ticket,
      events: [
        event('ticket:called', counter.siteId, { ticket, counter: counterRef(counter), recall: false, at: isoInZone(now, siteTimezone) }),
        statsDue(counter.siteId, [called.serviceId], now),
      ],
    };
  }

  /** Calls one particular waiting ticket (chosen from the waiting list) to the counter. */
  async callTicket(action: AtCounterInput): Promise<Result<Ticket>> {
    const input = await this.counterOf(action);
    return this.transaction(async (trx) => {
      const { counter, site } = await this.workingCounter(trx, input, { mustBeOpen: true });
      await this.assertIdle(trx, counter);
      const row = await repo.lockTicket(trx, input.ticketId);
      if (!row || row.siteId !== counter.siteId) throw notFound('ticket', input.ticketId);
      if (row.status !== 'waiting') throw await this.notWaiting(trx, row);
      const now = this.clock();
      if (row.localDate < localDate(now, site.timezone)) {
        throw new QueueError('TICKET_OF_EARLIER_DAY', `${row.code} was issued on an earlier day: it can no longer be called`, 409, { status: row.status });
      }
      const services = await repo.counterServiceIds(trx, counter.id);
      if (!services.includes(row.serviceId)) {
        throw new QueueError('SERVICE_NOT_SERVED', `Counter ${counter.number} does not serve the service of ${row.code}`, 409);
      }
      return this.call(trx, site, counter, row, input, now);
    });
  }

  async recall(action: AtCounterInput): Promise<Result<Ticket>> {
    const input = await this.counterOf(action);
    return this.transaction(async (trx) => {
      const { site, counter, row } = await this.ticketAtCounter(trx, input);
      const step = transition(row.status, 'recall', row.code);
      const now = this.clock();
      await repo.insertEvent(trx, this.eventRow(row, step.event, step.from, step.to, input, now, counter.id));
      const ticket = toTicket(row, site.timezone);
      return { value: ticket, events: [event('ticket:called', site.id, { ticket, counter: counterRef(counter), recall: true, at: isoInZone(now, site.timezone) })] };
    });
  }

  async start(input: AtCounterInput): Promise<Result<Ticket>> {
    return this.move(input, 'start', 'startedAt');
  }

  async finish(input: AtCounterInput): Promise<Result<Ticket>> {
    return this.move(input, 'finish', 'finishedAt');
  }

  async noShow(input: AtCounterInput): Promise<Result<Ticket>> {
    return this.move(input, 'no_show', 'finishedAt');
  }

  /**
   * Sends the ticket to wait in another service, keeping its code. It queues by the time of the
   * transfer, or at the front when the site says so (transfer_to_front).
   */
  async transfer(action: AtCounterInput & { serviceId: string; toFront?: boolean }): Promise<Result<Ticket>> {
    const input = await this.counterOf(action);
    return this.transaction(async (trx) => {
      const { site, counter, row } = await this.ticketAtCounter(trx, input);
      const target = await repo.findService(trx, input.serviceId);
      if (!target || target.siteId !== site.id || !target.active) throw notFound('service', input.serviceId);
      const step = transition(row.status, 'transfer', row.code);
      const now = this.clock();
      let queuedAt = now;
      if (input.toFront ?? site.transferToFront) {
        const head = await trx.selectFrom('ticket').select((eb) => eb.fn.min('queuedAt').as('first'))
          .where('serviceId', '=', target.id).where('status', '=', 'waiting').executeTakeFirst();
        // one millisecond before the head of the queue (ordering key only; waits come from events)
        if (head?.first && new Date(head.first) <= now) queuedAt = new Date(new Date(head.first).getTime() - 1);
      }
      const saved = await repo.updateTicketRecorded(trx, row.id, {
        status: step.to, serviceId: target.id, queuedAt, counterId: null, staffId: null,
        calledAt: null, startedAt: null, transferCount: row.transferCount + 1,
      }, this.eventRow({ ...row, serviceId: target.id }, step.event, step.from, step.to, input, now, counter.id,
        { fromServiceId: row.serviceId, toServiceId: target.id }));
      const position = await repo.positionOf(trx, saved);
      const ticket = toTicket(saved, site.timezone, { position });
      return { value: ticket, events: [event('ticket:updated', site.id, { ticket }), statsDue(site.id, [row.serviceId, target.id], now)] };
    });
  }

  /** Withdraws a waiting ticket (the citizen left, or staff removes a duplicate). */
  async cancel(input: Actor & { ticketId: string; siteId?: string }): Promise<Result<Ticket>> {
    return this.transaction(async (trx) => {
      const row = await repo.lockTicket(trx, input.ticketId);
      if (!row || (input.siteId && row.siteId !== input.siteId)) throw notFound('ticket', input.ticketId);
      const site = await this.site(trx, row.siteId);
      const step = transition(row.status, 'cancel', row.code);
      const now = this.clock();
      const saved = await repo.updateTicketRecorded(trx, row.id, { status: step.to, finishedAt: now },
        this.eventRow(row, step.event, step.from, step.to, input, now));
      const ticket = toTicket(saved, site.timezone);
      return { value: ticket, events: [event('ticket:updated', site.id, { ticket }), statsDue(site.id, [row.serviceId], now)] };
    });
  }

  /**
   * Ends the days that are over (day-end.ts): every ticket of such a day still waiting, called
   * or being served becomes `expired`, the system its actor. Of all sites, or of one.
   */
  async endDays(siteId?: string): Promise<Result<Ticket[]>> {
    const now = this.clock();
    const days = await repo.liveDays(this.db, siteId);
    if (!days.length) return { value: [], events: [] };
    const calendars = await repo.calendars(this.db, new Map(days.map((d) => [d.siteId, d.timezone])));
    const value: Ticket[] = [];
    const events: DomainEvent[] = [];
    for (const day of days) {
      if (now < dayEndsAt(calendars.get(day.siteId)!, day.localDate, this.dayEndGraceSeconds)) continue;
      const ended = await repo.expireDay(this.db, day.siteId, day.localDate, now);
      for (const row of ended) {
        const ticket = toTicket(row, day.timezone);
        value.push(ticket);
        events.push(event('ticket:updated', day.siteId, { ticket }));
      }
      if (!ended.length) continue;
      events.push(statsDue(day.siteId, ended.map((t) => t.serviceId), now));
      // every screen starts the new day from a fresh state: no recent calls of the day that ended
      events.push(event('queue:snapshot', day.siteId, await this.snapshot(day.siteId)));
    }
    return { value, events };
  }

  // ---- counters ------------------------------------------------------------------------

  /** The official starts working the counter. One official per counter, one counter per official. */
  async openCounter(input: { counterId: string; staffId: string }): Promise<Result<Counter>> {
    return this.transaction(async (trx) => {
      const counter = await repo.lockCounter(trx, input.counterId);
      if (!counter || !counter.active) throw notFound('counter', input.counterId);
      if (counter.status !== 'closed' && counter.staffId && counter.staffId !== input.staffId) {
        const other = await trx.selectFrom('appUser').select('displayName').where('id', '=', counter.staffId).executeTakeFirst();
        throw new QueueError('COUNTER_TAKEN', `Counter ${counter.number} is already open by ${other?.displayName ?? 'another official'}`, 409,
          { number: counter.number, ...(other ? { staffName: other.displayName } : {}) });
      }
      const events: PublishedEvent[] = [];
      // an official who moves desks leaves the old one closed, unless a ticket is still there
      const elsewhere = await trx.selectFrom('counter').select('id')
        .where('staffId', '=', input.staffId).where('status', '<>', 'closed').where('id', '<>', counter.id)
        .orderBy('id').forUpdate().execute();
      for (const { id } of elsewhere) {
        const other = (await repo.lockCounter(trx, id))!;
        await this.assertIdle(trx, other);
        events.push(await this.setCounterStatus(trx, other, 'closed', input.staffId, null));
      }
      if (counter.status === 'closed' || counter.staffId !== input.staffId) {
        events.push(await this.setCounterStatus(trx, counter, 'open', input.staffId, null));
      } else {
        events.push(event('counter:updated', counter.siteId, { counter: await this.counterDto(trx, counter) }));
      }
      const last = events.at(-1)!;
      const moved = [counter, ...elsewhere.map(({ id }) => ({ id, siteId: counter.siteId }))];
      return { value: (last.payload as { counter: Counter }).counter, events: [...events, ...(await this.servedBy(trx, moved))] };
    });
  }

  async pauseCounter(input: CounterAction & { reason?: string }): Promise<Result<Counter>> {
    return this.counterMove(input, ['open'], 'paused', input.reason ?? null);
  }

  async resumeCounter(input: CounterAction): Promise<Result<Counter>> {
    return this.counterMove(input, ['paused'], 'open', null);
  }

  async closeCounter(input: CounterAction): Promise<Result<Counter>> {
    return this.transaction(async (trx) => {
      const { counter } = await this.workingCounter(trx, input, { mustBeOpen: false });
      await this.assertIdle(trx, counter);
      const e = await this.setCounterStatus(trx, counter, 'closed', input.staffId ?? counter.staffId, null);
      return { value: (e.payload as { counter: Counter }).counter, events: [e, ...(await this.servedBy(trx, [counter]))] };
    });
  }

  // ---- reads ---------------------------------------------------------------------------

  async getTicket(ticketId: string): Promise<Ticket> {
    const row = await this.db.selectFrom('ticket').selectAll().where('id', '=', ticketId).executeTakeFirst();
    if (!row) throw notFound('ticket', ticketId);
    return this.describe(row);
  }

  async getCounter(counterId: string): Promise<Counter> {
    const row = await this.db.selectFrom('counter').selectAll().where('id', '=', counterId).executeTakeFirst();
    if (!row) throw notFound('counter', counterId);
    return this.counterDto(this.db, row);
  }

  /** The site of a counter (who may act on it is decided by its site). */
  async siteOfCounter(counterId: string): Promise<string> {
    const row = await this.db.selectFrom('counter').select('siteId').where('id', '=', counterId).executeTakeFirst();
    if (!row) throw notFound('counter', counterId);
    return row.siteId;
  }

  /** The site of a ticket, or undefined for one that does not exist. */
  async siteOfTicket(ticketId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('ticket').select('siteId').where('id', '=', ticketId).executeTakeFirst();
    return row?.siteId;
  }

  /** The counter an official works now (open or paused), if any. */
  async workingCounterOf(staffId: string): Promise<{ id: string; siteId: string } | undefined> {
    return this.db.selectFrom('counter').select(['id', 'siteId']).where('staffId', '=', staffId).where('status', '<>', 'closed').executeTakeFirst();
  }

  /** What the phone page shows: no internal ids beyond the service. */
  async publicTicket(publicId: string): Promise<PublicTicket> {
    const row = await this.db.selectFrom('ticket').selectAll().where('publicId', '=', publicId).executeTakeFirst();
    if (!row) throw new QueueError('TICKET_NOT_FOUND', 'No such ticket', 404);
    const ticket = await this.describe(row);
    const result: PublicTicket = {
      code: ticket.code, status: ticket.status, serviceId: ticket.serviceId, issuedAt: ticket.issuedAt,
    };
    if (ticket.position !== undefined) result.position = ticket.position;
    if (ticket.estimatedWaitSeconds !== undefined) result.estimatedWaitSeconds = ticket.estimatedWaitSeconds;
    if (ticket.noCounterOpen !== undefined) result.noCounterOpen = ticket.noCounterOpen;
    if (row.counterId && isAtCounter(row.status)) {
      const counter = await this.db.selectFrom('counter').select(['id', 'number', 'name']).where('id', '=', row.counterId).executeTakeFirst();
      if (counter) result.counter = counter;
    }
    return result;
  }

  /** The waiting figures of the site's services, as of `at` (default: now). */
  async serviceStats(siteId: string, serviceIds?: string[], at?: Date): Promise<ServiceQueue[]> {
    return this.stats(this.db, siteId, serviceIds, at ?? this.clock());
  }

  /** Everything a screen needs to draw the site from scratch (sent on every (re)connect). */
  async snapshot(siteId: string): Promise<QueueSnapshot> {
    return (await this.stampedSnapshot(siteId)).snapshot;
  }

  /**
   * A snapshot with what it takes to give it again later with the current time (`at`, which
   * the screens use to set their clocks), for a snapshot shared by the screens of a site.
   */
  async stampedSnapshot(siteId: string): Promise<{ snapshot: QueueSnapshot; restamp: () => QueueSnapshot }> {
    const { snapshot, timezone } = await this.buildSnapshot(siteId);
    let fresh = true; // the first to send it sends it as built
    return {
      snapshot,
      restamp: () => {
        if (fresh) {
          fresh = false;
          return snapshot;
        }
        return { ...snapshot, at: isoInZone(this.clock(), timezone) };
      },
    };
  }

  private async buildSnapshot(siteId: string): Promise<{ snapshot: QueueSnapshot; timezone: string }> {
    const site = await this.site(this.db, siteId);
    const now = this.clock();
    const [services, counters, active, calls] = await Promise.all([
      this.stats(this.db, siteId, undefined, now),
      this.db.selectFrom('counter').selectAll().where('siteId', '=', siteId).where('active', '=', true).orderBy('number').execute(),
      // with the instant of each one's latest call or recall: a recall pushed out of the recent
      // calls below is still there for a display that was away (lastCallAt)
      this.db.selectFrom('ticket').selectAll('ticket')
        .select((eb) => eb.selectFrom('ticketEvent').select((e) => e.fn.max('ticketEvent.at').as('at'))
          .whereRef('ticketEvent.ticketId', '=', 'ticket.id').where('ticketEvent.type', 'in', ['called', 'recalled']).as('lastCallAt'))
        .where('siteId', '=', siteId).where('status', 'in', ['called', 'serving']).execute(),
      this.db.selectFrom('ticketEvent')
        .innerJoin('ticket', 'ticket.id', 'ticketEvent.ticketId')
        .innerJoin('counter', 'counter.id', 'ticketEvent.counterId')
        .select(['ticketEvent.ticketId', 'ticketEvent.at', 'counter.id as cId', 'counter.number as cNumber', 'counter.name as cName'])
        .where('ticketEvent.siteId', '=', siteId)
        .where('ticketEvent.type', 'in', ['called', 'recalled'])
        // newest first on the calls' index (ticket_event_site_calls_idx); today's calls are at
        // most a local day old (25 h with a clock change), so on a quiet morning the scan stops
        // at the day before rather than at the site's first call
        .where('ticketEvent.at', '>=', new Date(now.getTime() - 26 * 3_600_000))
        .where('ticket.localDate', '=', localDate(now, site.timezone))
        .orderBy('ticketEvent.at', 'desc')
        .orderBy('ticketEvent.id', 'desc')
        .limit(RECENT_CALLS)
        .execute(),
    ]);
    const callTickets = calls.length
      ? await this.db.selectFrom('ticket').selectAll().where('id', 'in', calls.map((c) => c.ticketId)).execute()
      : [];
    const byId = new Map([...callTickets, ...active].map((t) => [t.id, t]));
    const staff = await this.staffRefs(this.db, counters.map((c) => c.staffId));
    const servicesOf = await this.servicesOfCounters(this.db, counters.map((c) => c.id));
    const snapshot: QueueSnapshot = {
      siteId,
      at: isoInZone(now, site.timezone),
      services,
      counters: counters.map((c) => {
        const current = active.find((t) => t.counterId === c.id);
        return {
          counterId: c.id,
          number: c.number,
          name: c.name,
          status: c.status,
          serviceIds: servicesOf.get(c.id) ?? [],
          ...(c.staffId && staff.has(c.staffId) ? { staff: staff.get(c.staffId)! } : {}),
          ...(current ? { ticket: toTicket(current, site.timezone) } : {}),
          ...(current?.lastCallAt ? { lastCallAt: isoInZone(current.lastCallAt, site.timezone) } : {}),
        };
      }),
      recentCalls: calls.map((c) => ({
        ticket: toTicket(byId.get(c.ticketId)!, site.timezone),
        counter: { id: c.cId, number: c.cNumber, name: c.cName },
        at: isoInZone(c.at, site.timezone),
      })),
    };
    return { snapshot, timezone: site.timezone };
  }

  // ---- internals -----------------------------------------------------------------------

  private async call(trx: Trx, site: repo.SiteRules, counter: CounterRow, row: TicketRow, by: Actor, now: Date): Promise<Result<Ticket>> {
    const step = transition(row.status, 'call', row.code);
    const saved = await repo.updateTicketRecorded(trx, row.id, {
      status: step.to, counterId: counter.id, staffId: by.staffId ?? counter.staffId, calledAt: now,
    }, this.eventRow(row, step.event, step.from, step.to, by, now, counter.id));
    const normalStreak = row.priorityRank === null ? (counter.normalStreak ?? 0) + 1 : 0;
    const bookedStreak = row.bookingKind === 'slot' ? (counter.bookedStreak ?? 0) + 1 : 0;
    await trx.updateTable('counter').set({ normalStreak, bookedStreak }).where('id', '=', counter.id).execute();
    const ticket = toTicket(saved, site.timezone);
    return {
      value: ticket,
      events: [
        event('ticket:called', site.id, { ticket, counter: counterRef(counter), recall: false, at: isoInZone(now, site.timezone) }),
        statsDue(site.id, [row.serviceId], now),
      ],
    };
  }

  /**
   * Start, finish, no-show: in one round trip when every check holds (qms_move), else in the
   * transaction below, which moves the ticket or refuses with the reason.
   */
  private async move(action: AtCounterInput, name: 'start' | 'finish' | 'no_show', stamp: 'startedAt' | 'finishedAt'): Promise<Result<Ticket>> {
    const rule = RULES[name];
    const to = rule.to === 'same' ? undefined : rule.to;
    if (to) {
      const fast = await repo.moveAtCounter(this.db, {
        ticketId: action.ticketId, counterId: action.counterId ?? null, staffId: action.staffId ?? null, deviceId: action.deviceId ?? null,
        from: rule.from, to, event: rule.event, at: this.clock(), started: stamp === 'startedAt', finished: stamp === 'finishedAt',
      });
      if (fast) return this.moved(fast.row, fast.counter, fast.siteTimezone, fast.official ? staffRef(fast.official) : undefined);
    }
    const input = await this.counterOf(action);
    return this.transaction(async (trx) => {
      const { site, counter, row, official } = await this.ticketAtCounter(trx, input);
      const step = transition(row.status, name, row.code);
      const now = this.clock();
      const saved = await repo.updateTicketRecorded(trx, row.id, { status: step.to, [stamp]: now },
        this.eventRow(row, step.event, step.from, step.to, input, now, counter.id));
      const staffId = saved.staffId ?? counter.staffId;
      return this.moved(saved, counter, site.timezone, official?.id === staffId ? official : (await this.staffRefs(trx, [staffId])).get(staffId ?? ''));
    });
  }

  /** What a move tells: the ticket, and for a finished one the rating request naming the official. */
  private moved(saved: TicketRow, counter: Pick<CounterRow, 'id' | 'siteId'>, timezone: string, staff: StaffRef | undefined): Result<Ticket> {
    const ticket = toTicket(saved, timezone);
    const events: DomainEvent[] = [event('ticket:updated', counter.siteId, { ticket })];
    if (saved.status === 'done') {
      events.push(event('rating:requested', counter.siteId, {
        ticketId: saved.id, counterId: counter.id,
        staff: { displayName: staff?.displayName ?? '', ...(staff?.photoUrl ? { photoUrl: staff.photoUrl } : {}) },
      }, counter.id));
    }
    return { value: ticket, events };
  }

  /** The counter an action comes from: the one named, or the one the official works. */
  private async counterOf<T extends AtCounterInput>(input: T): Promise<T & { counterId: string }> {
    if (input.counterId) return input as T & { counterId: string };
    const working = input.staffId ? await this.workingCounterOf(input.staffId) : undefined;
    if (!working) {
      // another site's ticket is not found, rather than "open a counter first"
      const siteId = await this.siteOfTicket(input.ticketId);
      if (!siteId || (input.staffSiteIds && !input.staffSiteIds.includes(siteId))) throw new QueueError('TICKET_NOT_FOUND', `No ticket ${input.ticketId}`, 404);
      throw new QueueError('COUNTER_NOT_OPEN', 'You are not working a counter: open one first', 409);
    }
    return { ...input, counterId: working.id };
  }

  /**
   * The ticket, locked, checked to be at the counter the actor works, and the official its
   * history names (for the rating request). The counter and ticket are locked and read in one
   * round trip; when either does not exist, they are read one by one to say which.
   */
  private async ticketAtCounter(trx: Trx, input: TicketAtCounter): Promise<{ site: repo.SiteRules; counter: CounterRow; row: TicketRow; official?: StaffRef }> {
    const both = await repo.lockTicketAtCounter(trx, input.counterId, input.ticketId);
    const { counter, site } = both ? this.checkWorking(both, input, { mustBeOpen: false }) : await this.workingCounter(trx, input, { mustBeOpen: false });
    const row = both?.row ?? await repo.lockTicket(trx, input.ticketId);
    if (!row || row.siteId !== counter.siteId) throw notFound('ticket', input.ticketId);
    if (row.counterId !== counter.id && isAtCounter(row.status)) {
      const other = row.counterId
        ? await trx.selectFrom('counter').select('number').where('id', '=', row.counterId).executeTakeFirst()
        : undefined;
      throw new QueueError('TICKET_AT_OTHER_COUNTER', `${row.code} is being served at counter ${other?.number ?? '?'}`, 409,
        { code: row.code, counterNumber: other?.number });
    }
    return { site, counter, row, ...(both?.official ? { official: staffRef(both.official) } : {}) };
  }

  /** The counter, locked, and its site's rules; when an official acts, it must be the one working it. */
  private async workingCounter(trx: Trx, input: CounterAction, rule: { mustBeOpen: boolean }) {
    const found = await repo.lockCounterAtSite(trx, input.counterId);
    if (!found) throw notFound('counter', input.counterId);
    return this.checkWorking(found, input, rule);
  }

  /** A counter (locked) the actor may work from: active, open (or paused, unless it must be open), and the official's. */
  private checkWorking<T extends { counter: CounterRow }>(found: T, input: CounterAction, { mustBeOpen }: { mustBeOpen: boolean }): T {
    const { counter } = found;
    if (!counter.active) throw notFound('counter', input.counterId);
    if (counter.status === 'closed') throw counterRefusal('COUNTER_NOT_OPEN', counter.number);
    if (mustBeOpen && counter.status !== 'open') throw counterRefusal('COUNTER_PAUSED', counter.number);
    if (input.staffId && counter.staffId !== input.staffId) throw counterRefusal('NOT_COUNTER_OFFICIAL', counter.number);
    return found;
  }

  private async assertIdle(trx: Trx, counter: CounterRow): Promise<void> {
    const current = await repo.activeTicketAt(trx, counter.id);
    if (current) throw counterBusy(counter, current);
  }

  private async notWaiting(trx: Trx, row: TicketRow): Promise<QueueError> {
    if (row.counterId && isAtCounter(row.status)) {
      const other = await trx.selectFrom('counter').select('number').where('id', '=', row.counterId).executeTakeFirst();
      return new QueueError('TICKET_NOT_WAITING', `${row.code} was already called by counter ${other?.number ?? '?'}`, 409,
        { code: row.code, status: row.status, counterNumber: other?.number });
    }
    return new QueueError('TICKET_NOT_WAITING', `${row.code} is not waiting (it is ${row.status.replace('_', ' ')})`, 409,
      { code: row.code, status: row.status });
  }

  private async counterMove(input: CounterAction, from: CounterRow['status'][], to: CounterRow['status'], reason: string | null) {
    return this.transaction(async (trx) => {
      const { counter } = await this.workingCounter(trx, input, { mustBeOpen: false });
      if (!from.includes(counter.status)) {
        throw new QueueError(to === 'paused' ? 'COUNTER_NOT_OPEN' : 'COUNTER_NOT_PAUSED',
          `Counter ${counter.number} is ${counter.status}`, 409);
      }
      const e = await this.setCounterStatus(trx, counter, to, input.staffId ?? counter.staffId, reason);
      return { value: (e.payload as { counter: Counter }).counter, events: [e, ...(await this.servedBy(trx, [counter]))] };
    });
  }

  private async setCounterStatus(
    trx: Trx, counter: CounterRow, status: CounterRow['status'], staffId: string | null, reason: string | null,
  ): Promise<PublishedEvent> {
    const now = this.clock();
    const type = status === 'open' ? (counter.status === 'paused' ? 'resumed' : 'opened') : status;
    const updated = await trx.updateTable('counter')
      .set({
        status,
        staffId: status === 'closed' ? null : staffId,
        pauseReason: status === 'paused' ? reason : null,
        statusChangedAt: now,
        ...(status === 'open' && counter.status === 'closed' ? { normalStreak: null, bookedStreak: null } : {}),
      })
      .where('id', '=', counter.id).returningAll().executeTakeFirstOrThrow();
    await trx.insertInto('counterEvent').values({ counterId: counter.id, type, staffId, reason, at: now }).execute();
    return event('counter:updated', counter.siteId, { counter: await this.counterDto(trx, updated) });
  }

  private async counterDto(db: Db | Trx, row: CounterRow): Promise<Counter> {
    const site = await this.site(db, row.siteId);
    const [serviceIds, staff] = await Promise.all([
      repo.counterServiceIds(db, row.id),
      this.staffRefs(db, [row.staffId]),
    ]);
    const counter: Counter = {
      id: row.id, siteId: row.siteId, number: row.number, name: row.name, serviceIds, status: row.status,
      statusChangedAt: isoInZone(row.statusChangedAt, site.timezone),
    };
    if (row.staffId && staff.has(row.staffId)) counter.staff = staff.get(row.staffId)!;
    if (row.pauseReason) counter.pauseReason = row.pauseReason;
    return counter;
  }

  /** Officials as screens show them: name, and the URL of their photo when they have one. */
  private async staffRefs(db: Db | Trx, ids: (string | null)[]): Promise<Map<string, StaffRef>> {
    const wanted = [...new Set(ids.filter((id): id is string => !!id))];
    if (!wanted.length) return new Map();
    const rows = await db.selectFrom('appUser')
      .leftJoin('staffPhoto', 'staffPhoto.userId', 'appUser.id')
      .select(['appUser.id', 'appUser.displayName', 'staffPhoto.etag'])
      .where('appUser.id', 'in', wanted).execute();
    return new Map(rows.map((r) => [r.id, staffRef(r)]));
  }

  private async servicesOfCounters(db: Db | Trx, counterIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (!counterIds.length) return result;
    const rows = await db.selectFrom('counterService').select(['counterId', 'serviceId'])
      .where('counterId', 'in', counterIds).orderBy('counterId').orderBy('position').execute();
    for (const r of rows) result.set(r.counterId, [...(result.get(r.counterId) ?? []), r.serviceId]);
    return result;
  }

  /** A ticket as the API shows it: with its position and estimate while it waits. */
  private async describe(row: TicketRow): Promise<Ticket> {
    const site = await this.site(this.db, row.siteId);
    if (row.status !== 'waiting') return toTicket(row, site.timezone);
    const position = await repo.positionOf(this.db, row);
    const now = this.clock();
    const [load] = await repo.serviceLoads(this.db, row.siteId, now, [row.serviceId]);
    if (!load) return toTicket(row, site.timezone, { position, estimatedWaitSeconds: 0 });
    const opensAt = load.servingCounters === 0 ? await this.resumesAt(this.db, site, now) : null;
    return toTicket(row, site.timezone, { position, ...waitEstimate(load, position, now, opensAt) });
  }

  private async stats(db: Db | Trx, siteId: string, serviceIds: string[] | undefined, now: Date): Promise<ServiceQueue[]> {
    const loads = await repo.serviceLoads(db, siteId, now, serviceIds);
    // the calendar matters (and is read) only when one of the services has nobody serving it
    const opensAt = loads.some((l) => l.servingCounters === 0) ? await this.resumesAt(db, await this.site(db, siteId), now) : null;
    return loads.map((l) => ({
      serviceId: l.serviceId,
      waiting: l.waiting,
      longestWaitSeconds: l.oldestQueuedAt ? Math.max(0, seconds(new Date(l.oldestQueuedAt), now)) : 0,
      ...waitEstimate(l, l.waiting, now, opensAt),
      targetWaitSeconds: l.targetWaitSeconds,
      servingCounters: l.servingCounters,
    }));
  }

  /**
   * A counter opened, paused, resumed or closed: who serves its services changed, and with it
   * their estimates (and whether anyone serves them at all), so their figures are counted again.
   */
  private async servedBy(trx: Trx, counters: Pick<CounterRow, 'id' | 'siteId'>[]): Promise<StatsDue[]> {
    const services = await this.servicesOfCounters(trx, counters.map((c) => c.id));
    const serviceIds = [...services.values()].flat();
    return serviceIds.length ? [statsDue(counters[0]!.siteId, serviceIds, this.clock())] : [];
  }

  /** When the site's next session starts, if it is closed at `now` (null while it is open). */
  private async resumesAt(db: Db | Trx, site: SiteRow, now: Date): Promise<Date | null> {
    const opening = openingState(await repo.loadCalendar(db, site), now);
    return opening.open ? null : opening.opensAt;
  }

  private async site(db: Db | Trx, siteId: string): Promise<SiteRow> {
    const site = await repo.findSite(db, siteId);
    if (!site) throw notFound('site', siteId);
    return site;
  }

  /** The history event of a move of this ticket (its service is the one it is in after the move). */
  private eventRow(
    row: Pick<TicketRow, 'id' | 'siteId' | 'serviceId' | 'counterId'>, type: TicketEventType, from: TicketStatus | null, to: TicketStatus,
    by: Actor, at: Date, counterId: string | null = row.counterId, data: Record<string, unknown> | null = null,
  ): NewTicketEvent {
    return {
      ticketId: row.id, siteId: row.siteId, type, fromStatus: from, toStatus: to, serviceId: row.serviceId,
      counterId, staffId: by.staffId ?? null, deviceId: by.deviceId ?? null, at, data: data ? JSON.stringify(data) : null,
    };
  }

  private transaction<T>(work: (trx: Trx) => Promise<T>): Promise<T> {
    return retried(() => this.db.transaction().execute(work));
  }
}

/** What an issue has settled before it takes a number. */
interface NewIssue {
  input: IssueInput;
  site: repo.IssueSettings['site'];
  service: NonNullable<repo.IssueSettings['service']>;
  procedure: repo.IssueSettings['procedure'];
  priority: string;
  priorityRank: number | null;
  /** the end of the current session, if the site has one today */
  closesAt: Date | null;
  localDate: string;
  id: string;
  publicId: string;
  lang: string;
  channel: string;
}

function serviceClosing(issue: NewIssue, estimate: number): QueueError {
  return new QueueError('SERVICE_CLOSING', `The estimated wait (${Math.ceil(estimate / 60)} min) runs past closing time: please come back next session`,
    409, { closesAt: isoInZone(issue.closesAt!, issue.site.timezone), estimatedWaitSeconds: estimate });
}

/** Runs `work` again, up to five times in all, while it fails with a deadlock or a serialization failure. */
async function retried<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt < 5 && code && RETRYABLE.has(code)) continue;
      throw error;
    }
  }
}

function counterBusy(counter: Pick<CounterRow, 'number'>, current: { id: string; code: string }): QueueError {
  return new QueueError('COUNTER_BUSY',
    `Counter ${counter.number} is still with ${current.code}: finish it or mark it no-show first`, 409,
    { number: counter.number, ticketId: current.id, code: current.code });
}

/** A working counter's refusals, in the same words whether the engine (workingCounter) or qms_call_next found them. */
function counterRefusal(code: 'COUNTER_NOT_OPEN' | 'COUNTER_PAUSED' | 'NOT_COUNTER_OFFICIAL', number: number): QueueError {
  switch (code) {
    case 'COUNTER_NOT_OPEN': return new QueueError(code, `Counter ${number} is not open`, 409, { number });
    case 'COUNTER_PAUSED': return new QueueError(code, `Counter ${number} is paused: resume it first`, 409, { number });
    case 'NOT_COUNTER_OFFICIAL': return new QueueError(code, `Counter ${number} is worked by another official`, 403, { number });
  }
}

/** The engine's refusal for one raised by qms_call_next. */
function callNextError(r: repo.CallNextRefusal, counterId: string): QueueError {
  switch (r.code) {
    case 'COUNTER_NOT_FOUND': return notFound('counter', counterId);
    case 'NOT_SITE_STAFF': return new QueueError('FORBIDDEN', NOT_STAFF_OF_SITE, 403);
    case 'COUNTER_BUSY': return counterBusy({ number: r.number! }, { id: r.ticketId!, code: r.ticketCode! });
    default: return counterRefusal(r.code, r.number!);
  }
}

function counterRef(counter: Pick<CounterRow, 'id' | 'number' | 'name'>): CounterRef {
  return { id: counter.id, number: counter.number, name: counter.name };
}
