import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  BookingList, BookingListQuery, BookingReply, CheckInReply, CheckInRequest, ConfirmRequest, ErrorBody, MoveRequest, PortalBookingRequest,
  PublicBookingRequest, RemoteTicketRequest, SlotsQuery, SlotsReply,
} from '@qms/protocol';
import { deviceOfSite, managerOfSite, staffOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { requireIntegrationScope } from '../http/integration-key.ts';
import { errors } from '../http/replies.ts';
import { publicBaseUrl } from '../printing/phone-url.ts';

// Appointments and remote tickets (docs/appointments.md):
// - the citizen, without signing in: slots, a booking or a remote ticket confirmed by a code
//   sent to their phone or email, then their link (/b/<publicId>) to see, move or cancel it;
// - the provincial portal, with an integration key of scope bookings:write: the same
//   operations for a citizen it has identified (no code), by the booking's code;
// - the kiosk: check-in by code, by the booking's QR code or by a chip ID card's QR code.

const tags = ['bookings'];
const SiteCodeParams = Type.Object({ siteCode: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' }) }, { additionalProperties: false });
const SiteParams = Type.Object({ siteId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });
const CodeParams = Type.Object({
  siteId: Type.String({ format: 'uuid' }),
  code: Type.String({ minLength: 8, maxLength: 10, pattern: '^[0-9 -]+$' }),
}, { additionalProperties: false });
const publicErrors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

export const bookingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { bookings, notifications } = app.services;
  const baseUrl = (request: FastifyRequest) => publicBaseUrl(app.config, request);
  const limit = (max: number) => ({ rateLimit: app.config.rateLimits ? { max, timeWindow: 60_000 } : false as const });

  // ---- the citizen --------------------------------------------------------------------------

  app.get('/public/sites/:siteCode/slots', {
    schema: { tags, params: SiteCodeParams, querystring: SlotsQuery, response: { 200: SlotsReply, ...publicErrors }, description: 'The slots of a field on a local date with the places left: none outside the booking horizon, on holidays, or for a field without capacity.' },
    config: limit(120),
  }, async (request) => {
    const siteId = await bookings.siteIdOfCode(request.params.siteCode);
    return bookings.slots(siteId, request.query.serviceId, request.query.date);
  });

  app.post('/public/sites/:siteCode/bookings', {
    schema: {
      tags, params: SiteCodeParams, body: PublicBookingRequest, response: { 201: BookingReply, ...publicErrors },
      description: 'Books a slot: the place is held (status unconfirmed) while the 6-digit code sent to the phone (the site\'s citizen channel) or email is valid (10 minutes). 409 SLOT_FULL, SLOT_NOT_OFFERED, BOOKINGS_CLOSED, BOOKING_LIMIT (live bookings per contact per day), CHANNEL_NOT_SET_UP; 400 CONTACT_REQUIRED, INVALID_PHONE.',
    },
    config: limit(10),
  }, async (request, reply) => {
    const siteId = await bookings.siteIdOfCode(request.params.siteCode);
    return reply.code(201).send({ booking: await bookings.book(siteId, request.body, baseUrl(request)) });
  });

  app.post('/public/sites/:siteCode/remote-tickets', {
    schema: {
      tags, params: SiteCodeParams, body: RemoteTicketRequest, response: { 201: BookingReply, ...publicErrors },
      description: 'Takes a number for today from away (kind remote), confirmed by a code like a booking. Once confirmed it holds its place in line from then; `arriveBy` says when to come, and it lapses if not checked in within the site\'s window after that. 409 REMOTE_NOT_OFFERED, SITE_CLOSED, SERVICE_CLOSING.',
    },
    config: limit(10),
  }, async (request, reply) => {
    const siteId = await bookings.siteIdOfCode(request.params.siteCode);
    return reply.code(201).send({ booking: await bookings.takeRemote(siteId, request.body, baseUrl(request)) });
  });

  app.get('/public/bookings/:publicId', {
    schema: { tags, params: PublicIdParams, response: { 200: BookingReply, ...publicErrors } },
    config: limit(120),
  }, async (request) => ({ booking: await bookings.get(request.params.publicId) }));

  app.post('/public/bookings/:publicId/confirm', {
    schema: {
      tags, params: PublicIdParams, body: ConfirmRequest, response: { 200: BookingReply, ...publicErrors },
      description: 'The code sent: 200 with the booking confirmed (a confirmation, and for a slot a reminder, are sent). 400 VERIFICATION_FAILED (details.attemptsLeft), 409 VERIFICATION_EXPIRED, VERIFICATION_LOCKED after five wrong codes.',
    },
    config: limit(20),
  }, async (request) => ({ booking: await bookings.confirm(request.params.publicId, request.body.otp, baseUrl(request)) }));

  app.post('/public/bookings/:publicId/resend', {
    schema: { tags, params: PublicIdParams, response: { 200: BookingReply, ...publicErrors }, description: 'A new code (three at most per booking), valid 10 minutes.' },
    config: limit(5),
  }, async (request) => ({ booking: await bookings.resend(request.params.publicId) }));

  app.post('/public/bookings/:publicId/cancel', {
    schema: { tags, params: PublicIdParams, response: { 200: BookingReply, ...publicErrors } },
    config: limit(20),
  }, async (request) => ({ booking: await bookings.cancel(request.params.publicId) }));

  app.post('/public/bookings/:publicId/move', {
    schema: { tags, params: PublicIdParams, body: MoveRequest, response: { 200: BookingReply, ...publicErrors }, description: 'Moves a confirmed booking to another slot of its field: the new place is taken before the old one is given up.' },
    config: limit(20),
  }, async (request) => ({ booking: await bookings.move(request.params.publicId, request.body.slotAt, baseUrl(request)) }));

  app.get('/public/bookings/:publicId/booking.ics', {
    schema: { tags, params: PublicIdParams, produces: ['text/calendar'], response: { 200: Type.String(), ...publicErrors }, description: 'The booking as an iCalendar event.' },
    config: limit(60),
  }, async (request, reply) => {
    const ics = await bookings.ics(request.params.publicId, baseUrl(request));
    return reply.type('text/calendar; charset=utf-8').header('content-disposition', 'attachment; filename="lich-hen.ics"').send(ics);
  });

  // ---- the provincial portal and the console ---------------------------------------------

  /** An integration key of the site with bookings:write, or a manager of the site. */
  const portal = async (request: FastifyRequest, siteId: string) => {
    if (!managerOfSite(request.principal, siteId)) await requireIntegrationScope(notifications, request.headers.authorization, siteId, 'bookings:write');
  };

  app.get('/sites/:siteId/booking-slots', {
    schema: { tags, params: SiteParams, querystring: SlotsQuery, response: { 200: SlotsReply, ...errors }, description: 'As the public slots, by site id. Authorization: an integration key with bookings:write, or a manager.' },
  }, async (request) => {
    await portal(request, request.params.siteId);
    return bookings.slots(request.params.siteId, request.query.serviceId, request.query.date);
  });

  app.post('/sites/:siteId/bookings', {
    schema: {
      tags, params: SiteParams, body: PortalBookingRequest, response: { 201: BookingReply, ...errors },
      description: 'The portal books for a citizen it has identified: confirmed at once, no code; a phone or email given receives the confirmation and the reminder. Same refusals as the public booking.',
    },
  }, async (request, reply) => {
    await portal(request, request.params.siteId);
    return reply.code(201).send({ booking: await bookings.bookForPortal(request.params.siteId, request.body, baseUrl(request)) });
  });

  app.get('/sites/:siteId/bookings', {
    schema: { tags, params: SiteParams, querystring: BookingListQuery, response: { 200: BookingList, ...errors }, description: 'A day\'s bookings and remote tickets (not the unconfirmed), by slot.' },
  }, async (request) => {
    await portal(request, request.params.siteId);
    return { bookings: await bookings.list(request.params.siteId, request.query) };
  });

  app.get('/sites/:siteId/bookings/:code', {
    schema: { tags, params: CodeParams, response: { 200: BookingReply, ...errors } },
  }, async (request) => {
    await portal(request, request.params.siteId);
    return { booking: await bookings.byCode(request.params.siteId, request.params.code) };
  });

  app.post('/sites/:siteId/bookings/:code/cancel', {
    schema: { tags, params: CodeParams, response: { 200: BookingReply, ...errors } },
  }, async (request) => {
    await portal(request, request.params.siteId);
    return { booking: await bookings.cancel(await bookings.publicIdOfCode(request.params.siteId, request.params.code)) };
  });

  app.post('/sites/:siteId/bookings/:code/move', {
    schema: { tags, params: CodeParams, body: MoveRequest, response: { 200: BookingReply, ...errors } },
  }, async (request) => {
    await portal(request, request.params.siteId);
    const publicId = await bookings.publicIdOfCode(request.params.siteId, request.params.code);
    return { booking: await bookings.move(publicId, request.body.slotAt, baseUrl(request)) };
  });

  // ---- the kiosk --------------------------------------------------------------------------

  app.post('/sites/:siteId/check-in', {
    schema: {
      tags, params: SiteParams, body: CheckInRequest, response: { 201: CheckInReply, ...errors },
      description: 'A booking becomes a ticket (printed on the kiosk\'s printer): `code` typed, or `scan` as the scanner read it (the booking\'s link, or a chip ID card\'s QR code, whose ID number only finds today\'s booking and is not kept). Outcome booked (in line by its slot), remote, or late (past the late window: an ordinary ticket). 404 BOOKING_NOT_FOUND; 409 BOOKING_TOO_EARLY (details.checkInFrom), BOOKING_OTHER_DAY, BOOKING_USED, BOOKING_CANCELLED, BOOKING_MISSED, BOOKING_LAPSED, BOOKING_NOT_CONFIRMED. A kiosk of the site or its staff.',
    },
    config: { rateLimit: app.rateLimits.issue },
  }, async (request, reply) => {
    const { siteId } = request.params;
    const p = who(request);
    allow(deviceOfSite(p, siteId, ['kiosk']) || staffOfSite(p, siteId), 'Only a kiosk or staff of this site can check a booking in');
    const checkedIn = await bookings.checkIn(siteId, { ...request.body, ...(p.kind === 'device' ? { deviceId: p.device.id, kioskId: p.device.id } : { staffId: p.user.id }) }, baseUrl(request));
    return reply.code(201).send(checkedIn);
  });
};
