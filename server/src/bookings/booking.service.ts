import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { sql, type ExpressionBuilder, type Transaction } from 'kysely';
import type { BookingRow, Database, Db, SiteRow } from '@qms/db';
import type {
  Booking, BookingSettings, CheckInReply, PortalBookingRequest, PublicBookingRequest, RemoteTicketRequest, Slot, SlotsReply,
} from '@qms/protocol';
import { localDate, localParts, openingState, secondsOfDay, zonedInstant, type Calendar } from '@qms/protocol/calendar';
import { formatBookingCode, formatDate, formatTime } from '@qms/ui-shared/format';
import { isEmail, masked, vietnameseMobile } from '../notifications/addresses.ts';
import type { MessagePurpose } from '../notifications/channels/channel.ts';
import { LIFETIME_SECONDS } from '../notifications/relay.ts';
import { notificationSettings } from '../notifications/settings.ts';
import { messageText } from '../notifications/wording.ts';
import { dayEndsAt, nextDate } from '../queue/day-end.ts';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import * as repo from '../queue/queue.repository.ts';
import { isoInZone } from '../queue/time.ts';
import { estimateWait } from '../queue/wait.estimate.ts';
import type { IssueTicket } from '../use-cases/issue-ticket.ts';
import { bookingSettings } from './settings.ts';

// Appointments and remote tickets (docs/appointments.md).
//
// A booking holds a place in a field's time block (booking_capacity) from the moment it is asked
// for: unconfirmed, it holds it while its one-time code is valid; confirmed, until it is checked
// in, cancelled or missed. Two requests for the last place are serialised on the block's
// capacity row (FOR UPDATE), so a block is never overbooked.
//
// At check-in the booking becomes a ticket, in the issue's transaction. A booked ticket is in
// line as if its holder had arrived `walkInCapMinutes` before the slot (or before they arrived,
// if later): that is its queued_at, and the call order and every position are counted from it.
// A remote ticket is in line from when it was taken. Too late for the slot: an ordinary ticket.
//
// Personal data: the contact (a phone number or an email) and the keyed digest of an ID number
// are erased at the end of the booking's day (sweep); the ID number itself is never stored, and
// neither is what a scanner read.

type Trx = Transaction<Database>;
type Lang = 'vi' | 'en';

const CODE_TTL_SECONDS = LIFETIME_SECONDS.booking_code;
const MAX_ATTEMPTS = 5;
const MAX_SENDS = 3;
/** one-time codes a contact may be sent in an hour, over all its bookings */
const SENDS_PER_CONTACT_HOUR = 6;
/** a remote ticket's holder is told to come this long before the estimate, to be there in time */
const REMOTE_LEAD_SECONDS = 10 * 60;

export interface BookingServiceOptions {
  db: Db;
  now: () => Date;
  issueTicket: IssueTicket;
  /** a message was written: deliver it now */
  wake: () => void;
  dayEndGraceSeconds: number;
}

interface Contact { kind: 'phone' | 'email'; address: string; channel: 'sms' | 'zalo' | 'email' }

interface SiteContext {
  site: SiteRow;
  settings: BookingSettings;
  calendar: Calendar;
}

export class BookingService {
  private idKey: Promise<string> | undefined;

  constructor(private readonly o: BookingServiceOptions) {}

  private get db() {
    return this.o.db;
  }

  // ---- slots ----------------------------------------------------------------------------

  async siteIdOfCode(siteCode: string): Promise<string> {
    const site = await this.db.selectFrom('site').select('id').where('code', '=', siteCode).executeTakeFirst();
    if (!site) throw notFound('site', siteCode);
    return site.id;
  }

  /** The slots of a field on a local date, with the places left; none outside the booking horizon. */
  async slots(siteId: string, serviceId: string, date: string): Promise<SlotsReply> {
    const ctx = await this.context(siteId);
    const service = await this.service(siteId, serviceId);
    const now = this.o.now();
    const today = localDate(now, ctx.site.timezone);
    if (!ctx.settings.enabled || date < today || date > addDays(today, ctx.settings.daysAhead)) return { date, serviceId: service.id, slots: [] };
    const blocks = await this.blocksOn(this.db, ctx, service.id, date);
    const taken = await this.taken(this.db, service.id, blocks.map((b) => b.startsAt), now);
    const slots: Slot[] = blocks.filter((b) => b.startsAt > now).map((b) => ({
      startsAt: isoInZone(b.startsAt, ctx.site.timezone), endsAt: isoInZone(b.endsAt, ctx.site.timezone),
      capacity: b.capacity, left: Math.max(0, b.capacity - (taken.get(b.startsAt.getTime()) ?? 0)),
    }));
    return { date, serviceId: service.id, slots };
  }

  /** The blocks a field offers on a date: its capacities for that weekday, inside the opening sessions, none on a holiday. */
  private async blocksOn(db: Db | Trx, ctx: SiteContext, serviceId: string, date: string) {
    if (ctx.calendar.holidays.includes(date)) return [];
    const weekday = localParts(zonedInstant(date, '12:00', ctx.site.timezone), ctx.site.timezone).weekday;
    const rows = await db.selectFrom('bookingCapacity').select(['starts', 'capacity'])
      .where('serviceId', '=', serviceId).where('weekday', '=', weekday).where('capacity', '>', 0).orderBy('starts').execute();
    const sessions = ctx.calendar.hours.filter((h) => h.weekday === weekday);
    const length = ctx.settings.blockMinutes * 60;
    return rows.filter((r) => {
      const start = secondsOfDay(r.starts);
      // a site without opening hours is open at all times (API.md)
      return !ctx.calendar.hours.length || sessions.some((s) => start >= secondsOfDay(s.opens) && start + length <= secondsOfDay(s.closes));
    }).map((r) => {
      const startsAt = zonedInstant(date, r.starts, ctx.site.timezone);
      return { starts: r.starts, capacity: r.capacity, startsAt, endsAt: new Date(startsAt.getTime() + length * 1000) };
    });
  }

  /** Places held in each slot: confirmed or checked in, or unconfirmed with a code still valid. */
  private async taken(db: Db | Trx, serviceId: string, slotStarts: Date[], now: Date): Promise<Map<number, number>> {
    if (!slotStarts.length) return new Map();
    const rows = await db.selectFrom('booking').select(['slotAt', (eb) => eb.fn.countAll<number>().as('n')])
      .where('serviceId', '=', serviceId).where('kind', '=', 'slot').where('slotAt', 'in', slotStarts)
      .where((eb) => holdsPlace(eb, now))
      .groupBy('slotAt').execute();
    return new Map(rows.map((r) => [new Date(r.slotAt).getTime(), Number(r.n)]));
  }

  // ---- booking ---------------------------------------------------------------------------

  /** A citizen books on the public page: the place is held and a one-time code goes to their phone or email. */
  async book(siteId: string, input: PublicBookingRequest, baseUrl: string): Promise<Booking> {
    const contact = await this.contactOf(siteId, input, true);
    return this.create(siteId, { ...input, kind: 'slot', source: 'public', contact, baseUrl });
  }

  /** The provincial portal books for a citizen it has identified: confirmed at once; a contact, if given, gets the confirmation. */
  async bookForPortal(siteId: string, input: PortalBookingRequest, baseUrl: string): Promise<Booking> {
    const contact = await this.contactOf(siteId, input, false);
    return this.create(siteId, { ...input, kind: 'slot', source: 'portal', contact, baseUrl });
  }

  /** A number for today taken from away: held once confirmed, in line from then. */
  async takeRemote(siteId: string, input: RemoteTicketRequest, baseUrl: string): Promise<Booking> {
    const contact = await this.contactOf(siteId, input, true);
    const ctx = await this.context(siteId);
    if (!ctx.settings.remoteEnabled) throw new QueueError('REMOTE_NOT_OFFERED', 'This centre does not give numbers from away', 409);
    // (create refuses it when the centre is closed, or when the wait runs past closing)
    return this.create(siteId, { ...input, kind: 'remote', source: 'public', contact, baseUrl, slotAt: this.o.now().toISOString() });
  }

  private async create(siteId: string, input: {
    kind: 'slot' | 'remote'; source: 'public' | 'portal'; serviceId: string; procedureCode?: string | undefined; slotAt: string;
    contact: Contact | null; idNumber?: string | undefined; lang?: Lang | undefined; baseUrl: string;
  }): Promise<Booking> {
    const ctx = await this.context(siteId);
    if (!ctx.settings.enabled && input.kind === 'slot') throw new QueueError('BOOKINGS_CLOSED', 'This centre does not take bookings', 409);
    const service = await this.service(siteId, input.serviceId);
    if (input.procedureCode && !(await repo.findProcedure(this.db, service.id, input.procedureCode))) {
      throw new QueueError('UNKNOWN_PROCEDURE', `This service does not list the procedure "${input.procedureCode}"`, 400, { procedureCode: input.procedureCode });
    }
    const now = this.o.now();
    const slotAt = new Date(input.slotAt);
    if (input.kind === 'slot') refuseOutsideHorizon(slotAt, now, ctx);
    const date = localDate(slotAt, ctx.site.timezone);
    const idDigest = input.idNumber ? await this.idDigest(input.idNumber) : null;
    const confirmed = input.source === 'portal';
    const otp = confirmed ? null : String(randomInt(0, 1_000_000)).padStart(6, '0');
    const eraseAfter = dayEndsAt(ctx.calendar, date, this.o.dayEndGraceSeconds);

    const row = await this.db.transaction().execute(async (trx) => {
      let slotMinutes = ctx.settings.blockMinutes;
      if (input.kind === 'slot') {
        const offered = await this.lockedSlot(trx, ctx, service.id, slotAt, now);
        slotMinutes = ctx.settings.blockMinutes;
        const held = (await this.taken(trx, service.id, [slotAt], now)).get(slotAt.getTime()) ?? 0;
        if (held >= offered.capacity) throw new QueueError('SLOT_FULL', 'This time is fully booked: please choose another', 409, { slotAt: isoInZone(slotAt, ctx.site.timezone) });
      }
      if (input.contact) {
        // asking again (a mistyped number, a page reloaded) replaces the same person's holds still waiting for their code
        await trx.updateTable('booking').set({ status: 'cancelled', cancelledAt: now })
          .where('siteId', '=', siteId).where('contact', '=', input.contact.address).where('status', '=', 'unconfirmed').execute();
        await this.checkLimits(trx, ctx, input.contact.address, date, now);
      }
      const arriveBy = input.kind === 'remote' ? await this.remoteArrival(ctx, service.id, now) : null;
      for (let attempt = 0; ; attempt++) {
        try {
          return await trx.insertInto('booking').values({
            publicId: randomBytes(16).toString('base64url'), code: String(randomInt(0, 100_000_000)).padStart(8, '0'),
            siteId, serviceId: service.id, procedureCode: input.procedureCode ?? null, kind: input.kind,
            status: confirmed ? 'confirmed' : 'unconfirmed', source: input.source, localDate: date, slotAt, slotMinutes, arriveBy,
            lang: input.lang ?? 'vi', contactKind: input.contact?.kind ?? null, contact: input.contact?.address ?? null, idDigest,
            verifyDigest: otp ? otpDigest(otp) : null, verifySends: otp ? 1 : 0,
            verifyExpiresAt: otp ? new Date(now.getTime() + CODE_TTL_SECONDS * 1000) : null,
            createdAt: now, confirmedAt: confirmed ? now : null, eraseAfter,
          }).returningAll().executeTakeFirstOrThrow();
        } catch (error) {
          // eight random digits met another booking's code at this site: draw again
          if (attempt < 5 && (error as { code?: string }).code === '23505') continue;
          throw error;
        }
      }
    });
    if (otp && input.contact) await this.send(row, ctx, input.contact, 'booking_code', { otp, minutes: String(CODE_TTL_SECONDS / 60) }, `code:1`);
    if (confirmed && input.contact) await this.sendConfirmation(row, ctx, input.contact, input.baseUrl);
    return this.view(row, ctx);
  }

  /** The capacity row of a slot, locked: the slot must be one the field offers, in the horizon and not past. */
  private async lockedSlot(trx: Trx, ctx: SiteContext, serviceId: string, slotAt: Date, now: Date) {
    const date = localDate(slotAt, ctx.site.timezone);
    const today = localDate(now, ctx.site.timezone);
    const block = date >= today && date <= addDays(today, ctx.settings.daysAhead) && slotAt > now
      ? (await this.blocksOn(trx, ctx, serviceId, date)).find((b) => b.startsAt.getTime() === slotAt.getTime())
      : undefined;
    if (!block) throw new QueueError('SLOT_NOT_OFFERED', 'This field takes no booking at that time', 409, { slotAt: isoInZone(slotAt, ctx.site.timezone) });
    const weekday = localParts(slotAt, ctx.site.timezone).weekday;
    const locked = await trx.selectFrom('bookingCapacity').select('capacity')
      .where('serviceId', '=', serviceId).where('weekday', '=', weekday).where('starts', '=', block.starts).forUpdate().executeTakeFirst();
    if (!locked) throw new QueueError('SLOT_NOT_OFFERED', 'This field takes no booking at that time', 409);
    return locked;
  }

  /** Hoarding: live bookings per contact per day, and codes sent to a contact per hour. */
  private async checkLimits(trx: Trx, ctx: SiteContext, address: string, date: string, now: Date) {
    const live = await trx.selectFrom('booking').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('siteId', '=', ctx.site.id).where('contact', '=', address).where('localDate', '=', date)
      .where((eb) => holdsPlace(eb, now))
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= ctx.settings.perContactPerDay) {
      throw new QueueError('BOOKING_LIMIT', `At most ${ctx.settings.perContactPerDay} bookings a day for one phone number or email`, 409, { limit: ctx.settings.perContactPerDay });
    }
    const sent = await trx.selectFrom('booking').select((eb) => eb.fn.sum<number>('verifySends').as('n'))
      .where('siteId', '=', ctx.site.id).where('contact', '=', address).where('createdAt', '>', new Date(now.getTime() - 3_600_000))
      .executeTakeFirstOrThrow();
    if (Number(sent.n ?? 0) >= SENDS_PER_CONTACT_HOUR) throw new QueueError('RATE_LIMITED', 'Too many codes sent to this address: try again later', 429);
  }

  /** When a remote ticket taken now should be here: the estimated wait of a ticket taken now, less a margin. */
  private async remoteArrival(ctx: SiteContext, serviceId: string, now: Date): Promise<Date> {
    const opening = openingState(ctx.calendar, now);
    if (!opening.open) throw new QueueError('SITE_CLOSED', 'The centre is closed now', 409, { opensAt: opening.opensAt ? isoInZone(opening.opensAt, ctx.site.timezone) : null });
    const [load] = await repo.serviceLoads(this.db, ctx.site.id, now, [serviceId]);
    if (!load) throw notFound('service', serviceId);
    const estimate = estimateWait(load, load.waiting);
    if (opening.closesAt && now.getTime() + estimate * 1000 > opening.closesAt.getTime()) {
      throw new QueueError('SERVICE_CLOSING', `The estimated wait (${Math.ceil(estimate / 60)} min) runs past closing time`, 409,
        { closesAt: isoInZone(opening.closesAt, ctx.site.timezone), estimatedWaitSeconds: estimate });
    }
    return new Date(now.getTime() + Math.max(0, estimate - REMOTE_LEAD_SECONDS) * 1000);
  }

  // ---- the citizen's link ----------------------------------------------------------------

  async get(publicId: string): Promise<Booking> {
    const row = await this.byPublicId(publicId);
    return this.view(row, await this.context(row.siteId));
  }

  /** The one-time code: five tries, ten minutes. A remote ticket is in line from its confirmation. */
  async confirm(publicId: string, otp: string, baseUrl: string): Promise<Booking> {
    const now = this.o.now();
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('booking').selectAll().where('publicId', '=', publicId).forUpdate().executeTakeFirst();
      if (!row) throw notFound('booking', publicId);
      if (row.status !== 'unconfirmed') {
        if (row.status === 'confirmed' || row.status === 'checked_in') return { row, fresh: false };
        throw new QueueError('BOOKING_NOT_CHANGEABLE', 'This booking can no longer be confirmed', 409, { status: row.status });
      }
      if (row.verifyAttempts >= MAX_ATTEMPTS) throw new QueueError('VERIFICATION_LOCKED', 'Too many wrong codes: book again', 409);
      if (!row.verifyExpiresAt || row.verifyExpiresAt <= now) throw new QueueError('VERIFICATION_EXPIRED', 'The code has expired: ask for a new one', 409);
      if (!row.verifyDigest || !sameDigest(row.verifyDigest, otpDigest(otp))) {
        await trx.updateTable('booking').set({ verifyAttempts: row.verifyAttempts + 1 }).where('id', '=', row.id).execute();
        return { failed: MAX_ATTEMPTS - row.verifyAttempts - 1 };
      }
      const ctx = await this.context(row.siteId);
      const remote = row.kind === 'remote' ? { slotAt: now, arriveBy: await this.remoteArrival(ctx, row.serviceId, now) } : {};
      const confirmed = await trx.updateTable('booking').set({ status: 'confirmed', confirmedAt: now, verifyDigest: null, ...remote })
        .where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
      return { row: confirmed, fresh: true };
    });
    if ('failed' in outcome) {
      throw new QueueError('VERIFICATION_FAILED', 'That is not the code we sent', 400, { attemptsLeft: Math.max(0, outcome.failed ?? 0) });
    }
    const ctx = await this.context(outcome.row.siteId);
    const contact = contactOfRow(outcome.row, ctx);
    if (outcome.fresh && contact) await this.sendConfirmation(outcome.row, ctx, contact, baseUrl);
    return this.view(outcome.row, ctx);
  }

  /** A new code for an unconfirmed booking: three sends, each valid ten minutes. */
  async resend(publicId: string): Promise<Booking> {
    const now = this.o.now();
    const otp = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const row = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('booking').selectAll().where('publicId', '=', publicId).forUpdate().executeTakeFirst();
      if (!row) throw notFound('booking', publicId);
      if (row.status !== 'unconfirmed') throw new QueueError('BOOKING_NOT_CHANGEABLE', 'This booking is not waiting for a code', 409, { status: row.status });
      if (row.verifySends >= MAX_SENDS || row.verifyAttempts >= MAX_ATTEMPTS) throw new QueueError('VERIFICATION_LOCKED', 'No more codes for this booking: book again', 409);
      return trx.updateTable('booking').set({
        verifyDigest: otpDigest(otp), verifySends: row.verifySends + 1, verifyExpiresAt: new Date(now.getTime() + CODE_TTL_SECONDS * 1000),
      }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
    });
    const ctx = await this.context(row.siteId);
    const contact = contactOfRow(row, ctx);
    if (contact) await this.send(row, ctx, contact, 'booking_code', { otp, minutes: String(CODE_TTL_SECONDS / 60) }, `code:${row.verifySends}`);
    return this.view(row, ctx);
  }

  async cancel(publicId: string): Promise<Booking> {
    const row = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('booking').selectAll().where('publicId', '=', publicId).forUpdate().executeTakeFirst();
      if (!row) throw notFound('booking', publicId);
      if (row.status === 'cancelled') return row;
      if (row.status !== 'confirmed' && row.status !== 'unconfirmed') throw new QueueError('BOOKING_NOT_CHANGEABLE', 'This booking can no longer be cancelled', 409, { status: row.status });
      await this.dropReminder(trx, row.id);
      return trx.updateTable('booking').set({ status: 'cancelled', cancelledAt: this.o.now() }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
    });
    return this.view(row, await this.context(row.siteId));
  }

  /** Another slot of the same field: the new place is taken before the old one is given up, in one transaction. */
  async move(publicId: string, slotAtIso: string, baseUrl: string): Promise<Booking> {
    const now = this.o.now();
    const slotAt = new Date(slotAtIso);
    const first = await this.byPublicId(publicId);
    const ctx = await this.context(first.siteId);
    refuseOutsideHorizon(slotAt, now, ctx);
    const row = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('booking').selectAll().where('publicId', '=', publicId).forUpdate().executeTakeFirstOrThrow();
      if (row.kind !== 'slot' || row.status !== 'confirmed') throw new QueueError('BOOKING_NOT_CHANGEABLE', 'Only a confirmed booking can be moved', 409, { status: row.status });
      if (row.slotAt.getTime() === slotAt.getTime()) return row;
      const offered = await this.lockedSlot(trx, ctx, row.serviceId, slotAt, now);
      const held = (await this.taken(trx, row.serviceId, [slotAt], now)).get(slotAt.getTime()) ?? 0;
      if (held >= offered.capacity) throw new QueueError('SLOT_FULL', 'This time is fully booked: please choose another', 409, { slotAt: isoInZone(slotAt, ctx.site.timezone) });
      const date = localDate(slotAt, ctx.site.timezone);
      if (row.contact && date !== row.localDate) await this.checkLimits(trx, ctx, row.contact, date, now);
      await this.dropReminder(trx, row.id);
      return trx.updateTable('booking').set({
        slotAt, localDate: date, movedCount: row.movedCount + 1, eraseAfter: dayEndsAt(ctx.calendar, date, this.o.dayEndGraceSeconds),
      }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
    });
    const contact = contactOfRow(row, ctx);
    if (contact && row.movedCount !== first.movedCount) await this.sendConfirmation(row, ctx, contact, baseUrl);
    return this.view(row, ctx);
  }

  /** The booking as an iCalendar event (RFC 5545), for the citizen's calendar. */
  async ics(publicId: string, baseUrl: string): Promise<string> {
    const row = await this.byPublicId(publicId);
    const ctx = await this.context(row.siteId);
    const service = await this.service(row.siteId, row.serviceId);
    const utc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const text = (s: string) => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
    const ends = new Date(row.slotAt.getTime() + row.slotMinutes * 60_000);
    const lines = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//qms//bookings//VI', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH', 'BEGIN:VEVENT',
      `UID:${row.id}@qms`, `DTSTAMP:${utc(this.o.now())}`, `DTSTART:${utc(row.slotAt)}`, `DTEND:${utc(ends)}`,
      `SUMMARY:${text(`${ctx.site.name}: ${service.name.vi} / ${service.name.en}`)}`,
      `DESCRIPTION:${text(`Mã lịch hẹn / Booking code: ${formatBookingCode(row.code)}\nQuét mã QR hoặc nhập mã tại ki-ốt / Scan the QR code or type the code at the kiosk.\n${bookingUrl(baseUrl, row.publicId)}`)}`,
      `LOCATION:${text(ctx.site.name)}`, `URL:${bookingUrl(baseUrl, row.publicId)}`, `STATUS:${row.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT1H', `DESCRIPTION:${text(service.name.vi)}`, 'END:VALARM',
      'END:VEVENT', 'END:VCALENDAR',
    ];
    return lines.map(fold).join('\r\n') + '\r\n';
  }

  // ---- the portal's and the console's view ------------------------------------------------

  async list(siteId: string, query: { date: string; serviceId?: string | undefined; status?: string | undefined }): Promise<Booking[]> {
    const ctx = await this.context(siteId);
    let q = this.db.selectFrom('booking').selectAll().where('siteId', '=', siteId).where('localDate', '=', query.date).where('status', '<>', 'unconfirmed');
    if (query.serviceId) q = q.where('serviceId', '=', query.serviceId);
    if (query.status) q = q.where('status', '=', query.status as BookingRow['status']);
    const rows = await q.orderBy('slotAt').orderBy('createdAt').limit(2000).execute();
    return Promise.all(rows.map((r) => this.view(r, ctx)));
  }

  async byCode(siteId: string, code: string): Promise<Booking> {
    const row = await this.db.selectFrom('booking').selectAll().where('siteId', '=', siteId).where('code', '=', code.replace(/[\s-]/g, '')).executeTakeFirst();
    if (!row || row.status === 'unconfirmed') throw notFound('booking', code);
    return this.view(row, await this.context(siteId));
  }

  async publicIdOfCode(siteId: string, code: string): Promise<string> {
    const row = await this.db.selectFrom('booking').select(['publicId', 'status']).where('siteId', '=', siteId).where('code', '=', code.replace(/[\s-]/g, '')).executeTakeFirst();
    if (!row || row.status === 'unconfirmed') throw notFound('booking', code);
    return row.publicId;
  }

  // ---- check-in -------------------------------------------------------------------------

  /**
   * At the kiosk: the code typed, or what the scanner read (the booking's link, or a chip ID
   * card's QR code: its ID number finds today's booking of that person and is then forgotten).
   */
  async checkIn(siteId: string, input: { code?: string | undefined; scan?: string | undefined; lang?: Lang | undefined; kioskId?: string; deviceId?: string; staffId?: string },
    baseUrl: string): Promise<CheckInReply> {
    const ctx = await this.context(siteId);
    const now = this.o.now();
    const row = await this.find(ctx, input, now);
    refuseUnless(row, ctx, now);
    let kind: 'slot' | 'remote' | null;
    let placeAt: Date;
    if (row.kind === 'remote') {
      // (the sweep marks it lapsed; a refusal changes nothing)
      if (now.getTime() > (row.arriveBy ?? row.slotAt).getTime() + ctx.settings.remoteWindowMinutes * 60_000) {
        throw new QueueError('BOOKING_LAPSED', 'This number was not claimed in time', 409, { arriveBy: isoInZone(row.arriveBy ?? row.slotAt, ctx.site.timezone) });
      }
      kind = 'remote';
      placeAt = row.slotAt;
    } else if (now.getTime() > row.slotAt.getTime() + ctx.settings.lateMinutes * 60_000) {
      kind = null;
      placeAt = now;
    } else {
      kind = 'slot';
      // from the slot, or from the arrival if it was after the slot (within the late window)
      placeAt = new Date(Math.max(row.slotAt.getTime(), now.getTime()) - ctx.settings.walkInCapMinutes * 60_000);
    }
    const issued = await this.o.issueTicket.run({
      siteId, serviceId: row.serviceId, lang: input.lang ?? (row.lang as Lang), channel: 'booking',
      ...(row.procedureCode ? { procedureCode: row.procedureCode } : {}),
      ...(input.deviceId ? { deviceId: input.deviceId } : {}), ...(input.staffId ? { staffId: input.staffId } : {}),
      ...(input.kioskId ? { kioskId: input.kioskId } : {}), baseUrl,
      booking: { id: row.id, kind, slotAt: row.slotAt, placeAt },
    });
    await this.dropReminder(this.db, row.id);
    const checkedIn = await this.byPublicId(row.publicId);
    return {
      outcome: kind === 'slot' ? 'booked' : kind === 'remote' ? 'remote' : 'late',
      booking: await this.view(checkedIn, ctx), ticket: issued.ticket, print: issued.print, phoneUrl: issued.phoneUrl,
    };
  }

  private async find(ctx: SiteContext, input: { code?: string | undefined; scan?: string | undefined }, now: Date): Promise<BookingRow> {
    const siteId = ctx.site.id;
    const byCode = (code: string) => this.db.selectFrom('booking').selectAll().where('siteId', '=', siteId).where('code', '=', code).executeTakeFirst();
    let row: BookingRow | undefined;
    const scan = input.scan?.trim();
    const link = scan?.match(/\/b\/([A-Za-z0-9_-]{16,64})(?:[/?#]|$)/);
    const card = scan?.match(/^(\d{12})\|/);
    if (link) {
      row = await this.db.selectFrom('booking').selectAll().where('publicId', '=', link[1]!).where('siteId', '=', siteId).executeTakeFirst();
    } else if (card) {
      // the card's number, digested with the server's key, finds that person's bookings today;
      // the one whose window is open (or nearest) is checked in
      const digest = await this.idDigest(card[1]!);
      const today = localDate(now, ctx.site.timezone);
      const rows = await this.db.selectFrom('booking').selectAll().where('siteId', '=', siteId).where('idDigest', '=', digest)
        .where('localDate', '=', today).where('status', '<>', 'unconfirmed').orderBy('slotAt').execute();
      row = rows.find((r) => r.status === 'confirmed') ?? rows[0];
    } else {
      const code = (input.code ?? scan ?? '').replace(/[\s-]/g, '');
      if (/^\d{8}$/.test(code)) row = await byCode(code);
    }
    if (!row) throw new QueueError('BOOKING_NOT_FOUND', 'No booking of this centre has that code', 404);
    return row;
  }

  // ---- time passing -----------------------------------------------------------------------

  /**
   * Bookings whose day is over are missed; remote tickets not claimed in their window lapse;
   * contacts and ID digests are erased at the end of the booking's day. Returns the rows changed.
   */
  async sweep(): Promise<number> {
    const now = this.o.now();
    const missed = await sql`
      UPDATE booking b SET status = 'missed' FROM site s
      WHERE s.id = b.site_id AND b.kind = 'slot' AND b.status = 'confirmed' AND b.local_date < (${now}::timestamptz AT TIME ZONE s.timezone)::date`.execute(this.db);
    const lapsed = await sql`
      UPDATE booking b SET status = 'lapsed' FROM site s
      WHERE s.id = b.site_id AND b.kind = 'remote' AND b.status = 'confirmed'
        AND (coalesce(b.arrive_by, b.slot_at) + make_interval(mins => coalesce((s.settings->'bookings'->>'remoteWindowMinutes')::int, 30)) < ${now}
          OR b.local_date < (${now}::timestamptz AT TIME ZONE s.timezone)::date)`.execute(this.db);
    const erased = await this.db.updateTable('booking').set({ contact: null, idDigest: null, verifyDigest: null, eraseAfter: null })
      .where('eraseAfter', '<=', now).executeTakeFirst();
    return Number(missed.numAffectedRows ?? 0) + Number(lapsed.numAffectedRows ?? 0) + Number(erased.numUpdatedRows);
  }

  // ---- messages --------------------------------------------------------------------------

  private async sendConfirmation(row: BookingRow, ctx: SiteContext, contact: Contact, baseUrl: string) {
    const service = await this.service(row.siteId, row.serviceId);
    const lang = row.lang as Lang;
    const at = row.kind === 'remote' ? (row.arriveBy ?? row.slotAt) : row.slotAt;
    const params = {
      service: service.name[lang], date: formatDate(at, ctx.site.timezone), time: formatTime(at, ctx.site.timezone),
      code: formatBookingCode(row.code), link: bookingUrl(baseUrl, row.publicId),
    };
    if (row.kind === 'remote') {
      await this.send(row, ctx, contact, 'remote_ticket', params, 'confirmed');
      return;
    }
    await this.send(row, ctx, contact, 'booking_confirmed', params, `confirmed:${row.movedCount}`);
    const remindAt = new Date(row.slotAt.getTime() - ctx.settings.reminderMinutes * 60_000);
    // no reminder when the slot is nearer than the reminder's lead: the confirmation just said it
    if (ctx.settings.reminderMinutes > 0 && remindAt > this.o.now()) {
      await this.send(row, ctx, contact, 'booking_reminder', params, `reminder:${row.movedCount}`, remindAt);
    }
  }

  private async send(row: BookingRow, ctx: SiteContext, contact: Contact, purpose: MessagePurpose, params: Record<string, string>, key: string, at?: Date) {
    const now = this.o.now();
    const sendAt = at ?? now;
    const templates = await this.db.selectFrom('notificationTemplate').selectAll().where('siteId', '=', row.siteId).execute();
    const text = messageText({ siteName: ctx.site.name, templates }, purpose, row.lang as Lang, params);
    const expiresAt = purpose === 'booking_reminder' ? row.slotAt : new Date(sendAt.getTime() + LIFETIME_SECONDS[purpose] * 1000);
    await this.db.insertInto('notification').values({
      siteId: row.siteId, eventId: null, dedupeKey: `${row.id}:${key}`, channel: contact.channel, purpose, address: contact.address,
      eraseAfter: row.eraseAfter ?? new Date(expiresAt.getTime() + 86_400_000), nextAttemptAt: sendAt, createdAt: now, expiresAt, ...text,
    }).onConflict((oc) => oc.column('dedupeKey').doNothing()).execute();
    if (!at) this.o.wake();
  }

  private async dropReminder(db: Db | Trx, bookingId: string) {
    await db.updateTable('notification').set({ status: 'cancelled' })
      .where('dedupeKey', 'like', `${bookingId}:reminder:%`).where('status', '=', 'pending').execute();
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The contact a code or a confirmation goes to, and the channel that reaches it. */
  private async contactOf(siteId: string, input: { phone?: string | undefined; email?: string | undefined }, required: boolean): Promise<Contact | null> {
    if (!input.phone && !input.email) {
      if (required) throw new QueueError('CONTACT_REQUIRED', 'A mobile number or an email is needed to send the code', 400);
      return null;
    }
    const site = await this.db.selectFrom('site').select('settings').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw notFound('site', siteId);
    const enabled = new Set((await this.db.selectFrom('notificationChannel').select('kind').where('siteId', '=', siteId).where('enabled', '=', true).execute()).map((c) => c.kind));
    if (input.phone) {
      const phone = vietnameseMobile(input.phone);
      if (!phone) throw new QueueError('INVALID_PHONE', 'Not a Vietnamese mobile number', 400);
      const channel = notificationSettings(site).citizenChannel;
      if (!enabled.has(channel)) throw new QueueError('CHANNEL_NOT_SET_UP', 'This centre cannot send text messages', 409);
      return { kind: 'phone', address: phone, channel };
    }
    const email = input.email!.trim().toLowerCase();
    if (!isEmail(email)) throw new QueueError('INVALID_ADDRESS', 'Not an email address', 400);
    if (!enabled.has('email')) throw new QueueError('CHANNEL_NOT_SET_UP', 'This centre cannot send email', 409);
    return { kind: 'email', address: email, channel: 'email' };
  }

  private async idDigest(idNumber: string): Promise<string> {
    this.idKey ??= (async () => {
      await this.db.insertInto('appSecret').values({ name: 'booking-id-digest', value: randomBytes(32).toString('base64') })
        .onConflict((oc) => oc.column('name').doNothing()).execute();
      return (await this.db.selectFrom('appSecret').select('value').where('name', '=', 'booking-id-digest').executeTakeFirstOrThrow()).value;
    })();
    const key = await this.idKey.catch((error: unknown) => {
      this.idKey = undefined;
      throw error;
    });
    return createHmac('sha256', key).update(idNumber).digest('hex');
  }

  private async context(siteId: string): Promise<SiteContext> {
    const site = await repo.findSite(this.db, siteId);
    if (!site) throw notFound('site', siteId);
    return { site, settings: bookingSettings(site), calendar: await repo.loadCalendar(this.db, site) };
  }

  private async service(siteId: string, serviceId: string) {
    const service = await repo.findService(this.db, serviceId);
    if (!service || service.siteId !== siteId || !service.active) throw notFound('service', serviceId);
    return service;
  }

  private async byPublicId(publicId: string): Promise<BookingRow> {
    const row = await this.db.selectFrom('booking').selectAll().where('publicId', '=', publicId).executeTakeFirst();
    if (!row) throw notFound('booking', publicId);
    return row;
  }

  private async view(row: BookingRow, ctx: SiteContext): Promise<Booking> {
    const tz = ctx.site.timezone;
    const [service, ticket] = await Promise.all([
      this.service(row.siteId, row.serviceId).catch(() => undefined),
      row.ticketId ? this.db.selectFrom('ticket').select(['code', 'publicId', 'status']).where('id', '=', row.ticketId).executeTakeFirst() : undefined,
    ]);
    const window = checkInWindow(row, ctx.settings);
    return {
      publicId: row.publicId, code: row.code, siteId: row.siteId, siteCode: ctx.site.code, siteName: ctx.site.name, serviceId: row.serviceId,
      serviceName: service?.name ?? { vi: '', en: '' }, ...(row.procedureCode ? { procedureCode: row.procedureCode } : {}),
      kind: row.kind, status: row.status, slotAt: isoInZone(row.slotAt, tz), slotEndsAt: isoInZone(new Date(row.slotAt.getTime() + row.slotMinutes * 60_000), tz),
      ...(row.arriveBy ? { arriveBy: isoInZone(row.arriveBy, tz) } : {}),
      checkInFrom: isoInZone(window.from, tz), checkInUntil: isoInZone(window.until, tz), lang: row.lang === 'en' ? 'en' : 'vi',
      ...(row.contact && row.contactKind ? { contact: masked(row.contact, row.contactKind === 'phone' ? 'sms' : 'email') ?? '' } : {}),
      ...(row.status === 'unconfirmed' && row.verifyExpiresAt ? { verifyExpiresAt: isoInZone(row.verifyExpiresAt, tz) } : {}),
      ...(ticket ? { ticket } : {}), createdAt: isoInZone(row.createdAt, tz),
    };
  }
}

/** A booking that holds its place: confirmed or checked in, or waiting for a code still valid. */
function holdsPlace(eb: ExpressionBuilder<Database, 'booking'>, now: Date) {
  return eb.or([eb('status', 'in', ['confirmed', 'checked_in']), eb.and([eb('status', '=', 'unconfirmed'), eb('verifyExpiresAt', '>', now)])]);
}

/** When a booking can be checked in: a slot from `earlyMinutes` before to `lateMinutes` after; a remote ticket until its window closes. */
export function checkInWindow(row: Pick<BookingRow, 'kind' | 'slotAt' | 'arriveBy'>, settings: BookingSettings): { from: Date; until: Date } {
  if (row.kind === 'remote') {
    return { from: row.slotAt, until: new Date((row.arriveBy ?? row.slotAt).getTime() + settings.remoteWindowMinutes * 60_000) };
  }
  return { from: new Date(row.slotAt.getTime() - settings.earlyMinutes * 60_000), until: new Date(row.slotAt.getTime() + settings.lateMinutes * 60_000) };
}

/** A time nowhere near the booking horizon (year 0, year 9999…) is refused before any calendar arithmetic on it. */
function refuseOutsideHorizon(slotAt: Date, now: Date, ctx: SiteContext) {
  const days = (slotAt.getTime() - now.getTime()) / 86_400_000;
  if (!Number.isFinite(days) || days < 0 || days > ctx.settings.daysAhead + 1) {
    throw new QueueError('SLOT_NOT_OFFERED', 'This field takes no booking at that time', 409, { slotAt: Number.isFinite(days) ? slotAt.toISOString() : null });
  }
}

function refuseUnless(row: BookingRow, ctx: SiteContext, now: Date) {
  const tz = ctx.site.timezone;
  const at = isoInZone(row.slotAt, tz);
  switch (row.status) {
    case 'unconfirmed': throw new QueueError('BOOKING_NOT_CONFIRMED', 'This booking was never confirmed', 409);
    case 'cancelled': throw new QueueError('BOOKING_CANCELLED', 'This booking was cancelled', 409, { slotAt: at });
    case 'checked_in': throw new QueueError('BOOKING_USED', 'This booking has already been checked in', 409, { slotAt: at });
    case 'missed': throw new QueueError('BOOKING_MISSED', 'The day of this booking is over', 409, { slotAt: at });
    case 'lapsed': throw new QueueError('BOOKING_LAPSED', 'This number was not claimed in time', 409, { slotAt: at });
    default: break;
  }
  if (row.localDate !== localDate(now, tz)) throw new QueueError('BOOKING_OTHER_DAY', 'This booking is for another day', 409, { slotAt: at });
  const from = checkInWindow(row, ctx.settings).from;
  if (now < from) throw new QueueError('BOOKING_TOO_EARLY', 'Check-in for this booking has not opened yet', 409, { checkInFrom: isoInZone(from, tz), slotAt: at });
}

function contactOfRow(row: BookingRow, ctx: SiteContext): Contact | null {
  if (!row.contact || !row.contactKind) return null;
  return row.contactKind === 'email'
    ? { kind: 'email', address: row.contact, channel: 'email' }
    : { kind: 'phone', address: row.contact, channel: notificationSettings(ctx.site).citizenChannel };
}

const otpDigest = (otp: string) => createHash('sha256').update(`booking-otp:${otp}`).digest('hex');
const sameDigest = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
export const bookingUrl = (baseUrl: string, publicId: string) => `${baseUrl}/b/${encodeURIComponent(publicId)}`;

function addDays(date: string, days: number): string {
  let d = date;
  for (let i = 0; i < days; i++) d = nextDate(d);
  return d;
}

/** RFC 5545 lines are folded at 75 octets. */
function fold(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + (start === 0 ? 75 : 74), bytes.length);
    // never split a UTF-8 sequence
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return parts.join('\r\n ');
}
