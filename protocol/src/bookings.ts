import { Type, type Static } from 'typebox';
import { Localized, Ticket } from './schemas.ts';
import { ProcedureCode } from './dossiers.ts';

// Appointments and remote tickets (docs/appointments.md): a centre's public page, slots booked
// ahead and confirmed by a one-time code, numbers taken from away for today, check-in at the
// kiosk, and the settings and capacities a manager keeps. The provincial portal uses the same
// operations with an integration key (scope bookings:write).

const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, millisecond precision' });
const Uuid = Type.String({ format: 'uuid' });
const LocalDay = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a local date, yyyy-MM-dd' });
const Lang = Type.Enum(['vi', 'en']);
const strict = { additionalProperties: false } as const;

// ---- procedures' information (the console keeps it; the public page shows it) ---------------

export const ProcedureInfo = Type.Object({
  steps: Type.Optional(Type.Array(Localized, { maxItems: 30 })),
  documents: Type.Optional(Type.Array(Localized, { maxItems: 40 })),
  processingTime: Type.Optional(Localized),
  fees: Type.Optional(Localized),
  url: Type.Optional(Type.String({ maxLength: 500, pattern: '^https?://' })),
}, strict);
export type ProcedureInfo = Static<typeof ProcedureInfo>;

// ---- a site's rules --------------------------------------------------------------------------

export const BookingSettings = Type.Object({
  /** slots can be booked on the public page and through the portal */
  enabled: Type.Boolean(),
  /** numbers for today can be taken from away */
  remoteEnabled: Type.Boolean(),
  /** a slot's length: capacities are set per block of this many minutes */
  blockMinutes: Type.Enum([15, 20, 30, 60]),
  /** how far ahead a slot can be booked */
  daysAhead: Type.Integer({ minimum: 1, maximum: 60 }),
  /** check-in opens this many minutes before the slot */
  earlyMinutes: Type.Integer({ minimum: 0, maximum: 240 }),
  /** after this many minutes past the slot's start a check-in gives a walk-in ticket, and an absent booking is missed */
  lateMinutes: Type.Integer({ minimum: 0, maximum: 120 }),
  /** a booked ticket is in line as if its holder had arrived this many minutes before the slot: the most a booking moves a walk-in back */
  walkInCapMinutes: Type.Integer({ minimum: 0, maximum: 120 }),
  /** at most this many booked tickets in a row at a counter while a walk-in waits */
  bookedInRow: Type.Integer({ minimum: 1, maximum: 20 }),
  /** live bookings (and remote tickets) per phone number or email per day */
  perContactPerDay: Type.Integer({ minimum: 1, maximum: 10 }),
  /** the reminder goes this many minutes before the slot (0: none) */
  reminderMinutes: Type.Integer({ minimum: 0, maximum: 1440 }),
  /** a remote ticket's holder has this many minutes after the time they were told to arrive */
  remoteWindowMinutes: Type.Integer({ minimum: 5, maximum: 240 }),
  /** the share of the counters' time the console's capacity proposal gives bookings (0.1..1) */
  bookingShare: Type.Number({ minimum: 0.1, maximum: 1 }),
}, strict);
export type BookingSettings = Static<typeof BookingSettings>;

export const DEFAULT_BOOKING_SETTINGS: BookingSettings = {
  enabled: false, remoteEnabled: false, blockMinutes: 30, daysAhead: 14, earlyMinutes: 30, lateMinutes: 15,
  walkInCapMinutes: 15, bookedInRow: 2, perContactPerDay: 2, reminderMinutes: 60, remoteWindowMinutes: 30, bookingShare: 0.5,
};

/** A field's capacity in one block of one weekday. */
export const CapacityBlock = Type.Object({
  serviceId: Uuid,
  /** ISO weekday as the opening hours: 1 = Monday … 7 = Sunday */
  weekday: Type.Integer({ minimum: 1, maximum: 7 }),
  /** the block's local start, HH:mm */
  starts: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
  capacity: Type.Integer({ minimum: 0, maximum: 1000 }),
}, strict);
export type CapacityBlock = Static<typeof CapacityBlock>;

export const CapacityReply = Type.Object({ blocks: Type.Array(CapacityBlock) });
export type CapacityReply = Static<typeof CapacityReply>;

/** The console's proposal: each block from the open counters and the recent service times. */
export const CapacityProposal = Type.Object({
  blocks: Type.Array(Type.Intersect([CapacityBlock, Type.Object({
    counters: Type.Integer({ description: 'counters serving the field' }),
    serviceSeconds: Type.Number({ description: 'the recent mean service time used' }),
  })])),
});
export type CapacityProposal = Static<typeof CapacityProposal>;

// ---- slots -----------------------------------------------------------------------------------

export const Slot = Type.Object({
  startsAt: Instant,
  endsAt: Instant,
  capacity: Type.Integer(),
  left: Type.Integer(),
});
export type Slot = Static<typeof Slot>;

export const SlotsQuery = Type.Object({ serviceId: Uuid, date: LocalDay }, strict);
export const SlotsReply = Type.Object({ date: LocalDay, serviceId: Uuid, slots: Type.Array(Slot) });
export type SlotsReply = Static<typeof SlotsReply>;

// ---- bookings --------------------------------------------------------------------------------

export const BOOKING_STATUSES = ['unconfirmed', 'confirmed', 'checked_in', 'cancelled', 'missed', 'lapsed'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

export const Booking = Type.Object({
  /** for the citizen's link and QR code (/b/<publicId>); unguessable */
  publicId: Type.String(),
  /** typed at the kiosk, said on the phone: 8 digits (shown "1234 5678") */
  code: Type.String(),
  siteId: Uuid,
  siteCode: Type.String(),
  siteName: Type.String(),
  serviceId: Uuid,
  serviceName: Localized,
  procedureCode: Type.Optional(Type.String()),
  kind: Type.Enum(['slot', 'remote']),
  status: Type.Enum([...BOOKING_STATUSES]),
  /** a slot's start; a remote ticket's: when it was taken */
  slotAt: Instant,
  slotEndsAt: Instant,
  /** a remote ticket: come by then */
  arriveBy: Type.Optional(Instant),
  /** check-in is possible from … until …; after `checkInUntil` a check-in gives a walk-in ticket (slot) or none (remote) */
  checkInFrom: Instant,
  checkInUntil: Instant,
  lang: Lang,
  /** masked: 09x xxx x123, n***@example.vn */
  contact: Type.Optional(Type.String()),
  /** an unconfirmed booking: the code sent expires then */
  verifyExpiresAt: Type.Optional(Instant),
  ticket: Type.Optional(Type.Object({ code: Type.String(), publicId: Type.String(), status: Type.String() })),
  createdAt: Instant,
});
export type Booking = Static<typeof Booking>;
export const BookingReply = Type.Object({ booking: Booking });
export type BookingReply = Static<typeof BookingReply>;

/** a chip ID card's (CCCD) number, 12 digits: kept only as a keyed digest, to find the booking from the card's QR code */
const IdNumber = Type.String({ pattern: '^\\d{12}$' });
/** Who and what, in every way of booking: the field, the procedure, where the code and the messages go, the ID card. */
const Requester = {
  serviceId: Uuid,
  procedureCode: Type.Optional(ProcedureCode),
  phone: Type.Optional(Type.String({ minLength: 9, maxLength: 16, pattern: '^\\+?[0-9 .-]+$' })),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, format: 'email' })),
  idNumber: Type.Optional(IdNumber),
  lang: Type.Optional(Lang),
};

/** A citizen books on the public page: a code goes to the phone or email, and the booking holds its place until it is confirmed. */
export const PublicBookingRequest = Type.Object({
  ...Requester,
  slotAt: Instant,
  consent: Type.Literal(true, { description: 'the citizen accepted the text on keeping their phone number or email' }),
}, strict);
export type PublicBookingRequest = Static<typeof PublicBookingRequest>;

/** A number for today, taken from away. */
export const RemoteTicketRequest = Type.Object({ ...Requester, consent: Type.Literal(true) }, strict);
export type RemoteTicketRequest = Static<typeof RemoteTicketRequest>;

export const ConfirmRequest = Type.Object({ otp: Type.String({ pattern: '^\\d{6}$' }) }, strict);
export const MoveRequest = Type.Object({ slotAt: Instant }, strict);

/** The provincial portal books for a citizen it has identified: confirmed at once, contact optional. */
export const PortalBookingRequest = Type.Object({ ...Requester, slotAt: Instant }, strict);
export type PortalBookingRequest = Static<typeof PortalBookingRequest>;

export const BookingListQuery = Type.Object({
  date: LocalDay,
  serviceId: Type.Optional(Uuid),
  status: Type.Optional(Type.Enum([...BOOKING_STATUSES])),
}, strict);
export const BookingList = Type.Object({ bookings: Type.Array(Booking) });
export type BookingList = Static<typeof BookingList>;

// ---- check-in at the kiosk -------------------------------------------------------------------

/**
 * What the kiosk read: a booking code typed on its keypad, or what its 2D scanner typed (a
 * booking's QR code, i.e. its link; or a chip ID card's QR code, whose ID number is used only to
 * find that person's bookings today and is neither stored nor logged).
 */
export const CheckInRequest = Type.Object({
  code: Type.Optional(Type.String({ minLength: 4, maxLength: 12, pattern: '^[A-Za-z0-9 -]{4,12}$' })),
  scan: Type.Optional(Type.String({ minLength: 4, maxLength: 600 })),
  lang: Type.Optional(Lang),
}, strict);
export type CheckInRequest = Static<typeof CheckInRequest>;

export const CheckInReply = Type.Object({
  /** 'booked': in line by its slot; 'remote': in line from when it was taken; 'late': too late for the slot, a walk-in ticket */
  outcome: Type.Enum(['booked', 'remote', 'late']),
  booking: Booking,
  ticket: Ticket,
  print: Type.Object({ status: Type.String() }, { additionalProperties: true }),
  phoneUrl: Type.String(),
}, { additionalProperties: false });
export type CheckInReply = Static<typeof CheckInReply>;

// ---- the public page -------------------------------------------------------------------------

export const PublicProcedure = Type.Object({
  code: Type.String(),
  name: Localized,
  processingDays: Type.Union([Type.Integer(), Type.Null()]),
  info: ProcedureInfo,
});
export type PublicProcedure = Static<typeof PublicProcedure>;

export const PublicService = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Localized,
  waiting: Type.Integer(),
  estimatedWaitSeconds: Type.Number(),
  /** counters open for it now */
  openCounters: Type.Integer(),
  bookable: Type.Boolean(),
  procedures: Type.Array(PublicProcedure),
});
export type PublicService = Static<typeof PublicService>;

export const PublicCentre = Type.Object({
  code: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  /** opening hours, ISO weekday (1 = Monday … 7 = Sunday), local HH:mm */
  hours: Type.Array(Type.Object({ weekday: Type.Integer(), opens: Type.String(), closes: Type.String() })),
  /** holidays from today on */
  holidays: Type.Array(Type.Object({ date: LocalDay, name: Type.String() })),
  openNow: Type.Boolean(),
  bookings: Type.Object({ enabled: Type.Boolean(), remoteEnabled: Type.Boolean(), daysAhead: Type.Integer(), earlyMinutes: Type.Integer(), lateMinutes: Type.Integer() }),
  /** which contact a code can go to: a phone number (SMS or Zalo) and/or an email */
  contacts: Type.Object({ phone: Type.Boolean(), email: Type.Boolean() }),
  services: Type.Array(PublicService),
});
export type PublicCentre = Static<typeof PublicCentre>;
