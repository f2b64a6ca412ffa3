import { Type, type Static } from 'typebox';
// a type only: bookings.ts imports this file, so its schema cannot be imported back
import type { ProcedureInfo } from './bookings.ts';

// The wire format of ../shared/API.md. Field names here are a public contract: add, never rename.

const Id = Type.String({ minLength: 1, maxLength: 64 });
export const Uuid = Type.String({ format: 'uuid' });
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, millisecond precision' });

export const Localized = Type.Object({ vi: Type.String(), en: Type.String() });
export type Localized = Static<typeof Localized>;

/** The kinds of paired screen: each has its rooms, its rights and its app. */
export const DEVICE_KINDS = ['kiosk', 'display', 'counter', 'rating'] as const;
export const DeviceKind = Type.Enum(DEVICE_KINDS);
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const TICKET_STATUSES = ['waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled', 'expired'] as const;
export const TicketStatus = Type.Enum(TICKET_STATUSES);
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const Ticket = Type.Object({
  id: Id,
  publicId: Type.String(),
  code: Type.String(),
  number: Type.Integer(),
  siteId: Id,
  serviceId: Id,
  status: TicketStatus,
  priority: Type.String({ description: "'none' or the code of a priority group of the site" }),
  lang: Type.String(),
  issuedAt: Instant,
  calledAt: Type.Optional(Instant),
  startedAt: Type.Optional(Instant),
  finishedAt: Type.Optional(Instant),
  counterId: Type.Optional(Id),
  transferCount: Type.Integer(),
  position: Type.Optional(Type.Integer({ description: 'people called before this ticket, while it waits' })),
  estimatedWaitSeconds: Type.Optional(Type.Number()),
  noCounterOpen: Type.Optional(Type.Boolean({ description: 'while it waits: no counter serving its service is open or paused, so nobody is being served yet (the estimate counts from when service can resume)' })),
  booking: Type.Optional(Type.Object({
    kind: Type.Enum(['slot', 'remote'], { description: "'slot': booked ahead, called around its slot (docs/appointments.md); 'remote': taken from away, in line from when it was taken" }),
    slotAt: Instant,
  }, { description: 'a ticket that came from a booking or a remote ticket, checked in' })),
});
export type Ticket = Static<typeof Ticket>;

export const COUNTER_STATUSES = ['closed', 'open', 'paused'] as const;
export const CounterStatus = Type.Enum(COUNTER_STATUSES);
export type CounterStatus = (typeof COUNTER_STATUSES)[number];

export const CounterRef = Type.Object({ id: Id, number: Type.Integer(), name: Type.String() });
export type CounterRef = Static<typeof CounterRef>;

export const StaffRef = Type.Object({
  id: Id,
  displayName: Type.String(),
  photoUrl: Type.Optional(Type.String({ description: "the official's photo (GET, with the caller's credentials), when there is one; a new photo has a new URL" })),
});
export type StaffRef = Static<typeof StaffRef>;

/**
 * Where an official's photo is read (GET /api/v1/users/:userId/photo, server/src/photos): `v` is
 * the photo's ETag, so the URL changes with the photo and a screen knows to fetch it again.
 */
export const staffPhotoUrl = (userId: string, etag: string) => `/api/v1/users/${userId}/photo?v=${encodeURIComponent(etag)}`;

/** An official as screens show them, from their account and their photo's ETag (null: no photo). */
export const staffRef = (official: { id: string; displayName: string; etag: string | null }): StaffRef =>
  ({ id: official.id, displayName: official.displayName, ...(official.etag ? { photoUrl: staffPhotoUrl(official.id, official.etag) } : {}) });

export const Counter = Type.Object({
  id: Id,
  siteId: Id,
  number: Type.Integer(),
  name: Type.String(),
  serviceIds: Type.Array(Id),
  status: CounterStatus,
  staff: Type.Optional(StaffRef),
  pauseReason: Type.Optional(Type.String()),
  statusChangedAt: Instant,
});
export type Counter = Static<typeof Counter>;

export const ServiceQueue = Type.Object({
  serviceId: Id,
  waiting: Type.Integer(),
  longestWaitSeconds: Type.Number(),
  estimatedWaitSeconds: Type.Number(),
  targetWaitSeconds: Type.Integer(),
  servingCounters: Type.Optional(Type.Integer({ description: 'counters serving this service that are open or paused now' })),
  noCounterOpen: Type.Optional(Type.Boolean({ description: 'servingCounters is 0: nobody is being served yet; the estimate counts from when service can resume' })),
});
export type ServiceQueue = Static<typeof ServiceQueue>;

export const CounterQueue = Type.Object({
  counterId: Id,
  number: Type.Integer(),
  name: Type.String(),
  status: CounterStatus,
  serviceIds: Type.Array(Id),
  staff: Type.Optional(StaffRef),
  ticket: Type.Optional(Ticket),
  lastCallAt: Type.Optional(Type.String({
    format: 'date-time',
    description: "with a ticket: the instant of its latest call or recall (ISO-8601 with offset, as ticket:called's at); a recall's is later than the ticket's calledAt",
  })),
});
export type CounterQueue = Static<typeof CounterQueue>;

export const RecentCall = Type.Object({ ticket: Ticket, counter: CounterRef, at: Instant });
export type RecentCall = Static<typeof RecentCall>;

export const QueueSnapshot = Type.Object({
  siteId: Id,
  at: Instant,
  services: Type.Array(ServiceQueue),
  counters: Type.Array(CounterQueue),
  recentCalls: Type.Array(RecentCall),
});
export type QueueSnapshot = Static<typeof QueueSnapshot>;

export const PublicTicket = Type.Object({
  code: Type.String(),
  status: TicketStatus,
  position: Type.Optional(Type.Integer()),
  estimatedWaitSeconds: Type.Optional(Type.Number()),
  noCounterOpen: Type.Optional(Type.Boolean({ description: 'while it waits: no counter serving its service is open or paused yet' })),
  counter: Type.Optional(CounterRef),
  serviceId: Type.String(),
  issuedAt: Instant,
  /** a served ticket: whether it has its rating (from the tablet or the phone) (extension of API.md) */
  rated: Type.Optional(Type.Boolean()),
  /** a served ticket not yet rated: until when it may be rated (extension of API.md) */
  ratingOpenUntil: Type.Optional(Instant),
});
export type PublicTicket = Static<typeof PublicTicket>;

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Procedure = Type.Object({
  code: Type.String(), name: Localized, processingDays: Type.Union([Type.Integer(), Type.Null()]),
  /** what the public page shows of it (bookings.ts ProcedureInfo; PUT /sites/:siteId/procedures/:code/info) */
  info: Type.Optional(Type.Unsafe<ProcedureInfo>({ type: 'object', additionalProperties: true })),
});
export const ServiceConfig = Type.Object({
  id: Type.String(), code: Type.String(), prefix: Type.String(), name: Localized, targetWaitSeconds: Type.Integer(),
  procedures: Type.Array(Procedure), counterNumbers: Type.Array(Type.Integer()),
});
export type ServiceConfig = Static<typeof ServiceConfig>;
export const PriorityGroup = Type.Object({ code: Type.String(), name: Localized, rank: Type.Integer() });
export type PriorityGroup = Static<typeof PriorityGroup>;
export const RatingLevel = Type.Object({ score: Type.Integer(), label: Localized, asksReason: Type.Optional(Type.Boolean()) });
export type RatingLevel = Static<typeof RatingLevel>;

/** Everything a screen needs to draw a site (GET /sites/:siteId). */
export const SiteConfig = Type.Object({
  id: Type.String(), code: Type.String(), name: Type.String(), level: Type.String(), timezone: Type.String(),
  serviceOrder: Type.String(), priorityRatio: Type.Union([Type.Integer(), Type.Null()]), transferToFront: Type.Boolean(),
  ratingScale: Type.Array(RatingLevel),
  ratingReasons: Type.Array(Type.Object({ code: Type.String(), label: Localized })),
  announcement: Type.Union([Localized, Type.Null()]),
  /** displays speak with the browser's vi-VN voice when one is installed (else the shipped clips); default false */
  preferSystemVoice: Type.Optional(Type.Boolean()),
  /** the kiosk and the phone page offer to take a phone number for SMS or Zalo notices (docs/notifications.md) */
  offerPhone: Type.Optional(Type.Boolean()),
  /** the site takes bookings or numbers from away: the kiosk offers check-in (docs/appointments.md) */
  takesBookings: Type.Optional(Type.Boolean()),
  openingHours: Type.Array(Type.Object({ weekday: Type.Integer(), opens: Type.String(), closes: Type.String() })),
  holidays: Type.Array(Type.Object({ date: Type.String(), name: Type.String() })),
  services: Type.Array(ServiceConfig),
  priorityGroups: Type.Array(PriorityGroup),
  counters: Type.Array(Type.Object({ id: Type.String(), number: Type.Integer(), name: Type.String(), status: CounterStatus, serviceIds: Type.Array(Type.String()) })),
});
export type SiteConfig = Static<typeof SiteConfig>;

export const AuthUser = Type.Object({ id: Type.String(), username: Type.String(), displayName: Type.String(), role: Type.String() });
export type AuthUser = Static<typeof AuthUser>;
export const DeviceInfo = Type.Object({
  id: Type.String(), siteId: Type.String(), kind: Type.String(), name: Type.String(), counterId: Type.Union([Type.String(), Type.Null()]),
});
export type DeviceInfo = Static<typeof DeviceInfo>;

// ---- manager console (extensions of API.md) -------------------------------------------------

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const ALERT_KINDS = ['criticism', 'low_rating', 'printer', 'wait_over_target', 'device_offline'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** An alert as managers see it (HTTP and the `alert:raised` / `alert:acknowledged` events). */
export const Alert = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  kind: Type.String({ description: "'criticism' (rating tablet, kiosk or staff), 'low_rating', 'printer', 'wait_over_target', 'device_offline', 'channel_failing' (SMS, email or Zalo keeps failing) or 'webhook_failed' (a delivery gave up)" }),
  createdAt: Instant,
  counter: Nullable(CounterRef),
  staff: Nullable(StaffRef),
  ticket: Nullable(Type.Object({ id: Type.String(), code: Type.String() })),
  deviceId: Nullable(Type.String()),
  comment: Nullable(Type.String()),
  /** low_rating: the score and reason given; printer: the failure (paper_out, offline, ...) */
  score: Nullable(Type.Integer()),
  reason: Nullable(Type.String()),
  acknowledgedAt: Nullable(Instant),
  acknowledgedBy: Nullable(StaffRef),
  // present only for the kinds they describe
  service: Type.Optional(Type.Object({ id: Type.String(), code: Type.String(), name: Localized })),
  device: Type.Optional(Type.Object({ id: Type.String(), kind: Type.String(), name: Type.String() })),
  /** wait_over_target: the longest wait when it crossed, and the service's target */
  waitSeconds: Type.Optional(Type.Number()),
  targetWaitSeconds: Type.Optional(Type.Integer()),
  /** printer: failures merged into this alert; device_offline: when the device was last seen */
  count: Type.Optional(Type.Integer()),
  lastSeenAt: Type.Optional(Instant),
  /** wait_over_target, device_offline: when the condition ended (the wait fell back, the device came back) */
  clearedAt: Type.Optional(Instant),
  /** channel_failing: the channel (sms, email, zalo) whose last attempts all failed; webhook_failed: 'webhook' */
  channel: Type.Optional(Type.String()),
  /** complaints (criticism, low_rating): who handles it, where it stands, how it was resolved */
  case: Type.Optional(Type.Object({
    status: Type.Enum(['new', 'investigating', 'resolved']),
    owner: Nullable(StaffRef),
    resolutionNote: Nullable(Type.String()),
  })),
});
export type Alert = Static<typeof Alert>;

export const REPORT_GROUPS = ['service', 'counter', 'staff', 'day', 'hour', 'procedure'] as const;
export type ReportGroupBy = (typeof REPORT_GROUPS)[number];

const figureFields = {
  issued: Type.Integer(),
  served: Type.Integer(),
  noShow: Type.Integer(),
  waitAvgSeconds: Nullable(Type.Number()),
  waitP50Seconds: Nullable(Type.Number()),
  waitP90Seconds: Nullable(Type.Number()),
  serviceAvgSeconds: Nullable(Type.Number()),
  serviceP90Seconds: Nullable(Type.Number()),
  ratings: Type.Integer(),
  ratingAvg: Nullable(Type.Number()),
  // ---- beyond the v1 contract (server/src/reports/README.md has the definitions)
  transferred: Type.Integer({ description: 'transfers out of the group: stints that ended in a transfer, counted where they happened (a ticket transferred twice counts twice in the totals)' }),
  transfersIn: Type.Integer({ description: 'transfers into the group: stints that began with a transfer (the target service, the counter and official that called them)' }),
  cancelled: Type.Integer(),
  expired: Type.Integer({ description: "tickets still waiting, called or being served when their site's day ended (status expired): counted apart from no-shows, at their final stint" }),
  waits: Type.Integer({ description: 'called stints: how many waits the wait figures cover' }),
  withinTargetShare: Nullable(Type.Number({ description: "share (0..1) of called stints whose wait was at most their service's target" })),
  ratingShares: Type.Record(Type.String(), Type.Number(), { description: 'score → share (0..1) of the ratings' }),
  notSatisfiedShare: Nullable(Type.Number({ description: "share of ratings with the lowest score of the site's scale" })),
  estimateMaeSeconds: Nullable(Type.Number({ description: 'median |estimated wait − actual wait of the first stint|' })),
};
export const ReportTotals = Type.Object(figureFields);
export type ReportTotals = Static<typeof ReportTotals>;
export const ReportRow = Type.Object({
  key: Type.String({ description: "service, counter or user id; local date 'yyyy-MM-dd'; local hour '0'..'23'; procedure code ('' for tickets with no procedure)" }),
  label: Type.String(),
  /** service and counter rows: the site they belong to (reports over several sites) */
  siteId: Type.Optional(Type.String()),
  ...figureFields,
});
export type ReportRow = Static<typeof ReportRow>;
export const SummaryReport = Type.Object({
  rows: Type.Array(ReportRow),
  totals: ReportTotals,
  // ---- extension: what the report covers
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  groupBy: Type.Optional(Type.String()),
  siteIds: Type.Optional(Type.Array(Type.String())),
});
export type SummaryReport = Static<typeof SummaryReport>;

// ---- satisfaction and visits per dossier (Decision 766/QĐ-TTg's indicators; definitions in
// server/src/reports/README.md)

export const SATISFACTION_GROUPS = ['staff', 'counter', 'service', 'procedure', 'site'] as const;
export type SatisfactionGroupBy = (typeof SATISFACTION_GROUPS)[number];

const satisfactionFields = {
  ratings: Type.Integer({ description: 'ratings of the tickets issued in the range' }),
  ratingAvg: Nullable(Type.Number()),
  levels: Type.Array(Type.Object({
    score: Type.Integer(),
    count: Type.Integer(),
    share: Nullable(Type.Number({ description: 'count / ratings (0..1)' })),
  }), { description: "each level of the site's scale (and any other score given), highest first" }),
  satisfied: Type.Integer({ description: 'ratings above the lowest level of the scale' }),
  satisfiedShare: Nullable(Type.Number({ description: 'satisfied / ratings (0..1)' })),
  criticisms: Type.Integer({ description: "alerts of kind 'criticism' raised in the range" }),
  criticismsNew: Type.Integer(),
  criticismsInvestigating: Type.Integer(),
  criticismsResolved: Type.Integer(),
  resolutionP50Seconds: Nullable(Type.Number({ description: 'median time from a criticism to its resolution, over resolved ones' })),
  resolutionsTimed: Type.Integer({ description: 'resolved criticisms whose resolution instant is known' }),
};
export const SatisfactionFigures = Type.Object(satisfactionFields);
export type SatisfactionFigures = Static<typeof SatisfactionFigures>;
export const SatisfactionRow = Type.Object({
  key: Type.String({ description: "user, counter, service or site id; procedure code ('' for tickets with no procedure)" }),
  label: Type.String(),
  ...satisfactionFields,
});
export type SatisfactionRow = Static<typeof SatisfactionRow>;
export const SatisfactionReport = Type.Object({
  scale: Type.Array(Type.Object({ score: Type.Integer(), label: Localized })),
  rows: Type.Array(SatisfactionRow),
  totals: SatisfactionFigures,
  from: Instant,
  to: Instant,
  groupBy: Type.String(),
});
export type SatisfactionReport = Static<typeof SatisfactionReport>;

const dossierFields = {
  dossiers: Type.Integer({ description: 'distinct dossier codes whose first visit (ticket carrying the code) is in the range' }),
  visits: Type.Integer(),
  visitsAvg: Nullable(Type.Number()),
  oneVisit: Type.Integer(),
  twoVisits: Type.Integer(),
  threeVisits: Type.Integer(),
  fourOrMoreVisits: Type.Integer(),
  withinTwoVisitsShare: Nullable(Type.Number({ description: 'share of dossiers with at most two visits (0..1)' })),
};
export const DossierFigures = Type.Object(dossierFields);
export type DossierFigures = Static<typeof DossierFigures>;
export const DossierRow = Type.Object({
  key: Type.String({ description: "procedure code; '' for dossiers with no procedure recorded" }),
  label: Type.String(),
  ...dossierFields,
});
export type DossierRow = Static<typeof DossierRow>;
export const DossierReport = Type.Object({
  rows: Type.Array(DossierRow),
  totals: DossierFigures,
  from: Instant,
  to: Instant,
});
export type DossierReport = Static<typeof DossierReport>;

// ---- appointments and remote tickets (definitions in server/src/reports/README.md) ----------

export const BOOKING_TICKET_KINDS = ['walk_in', 'booked', 'remote'] as const;
export const BookingKindFigures = Type.Object({
  kind: Type.Enum([...BOOKING_TICKET_KINDS], { description: "ticket.booking_kind: NULL walk-in, 'slot' booked, 'remote'" }),
  issued: Type.Integer({ description: 'tickets issued in the range' }),
  served: Type.Integer({ description: 'of those, done' }),
  waits: Type.Integer({ description: 'of those, called at least once' }),
  waitAvgSeconds: Nullable(Type.Number({ description: 'first call − issue' })),
  waitP90Seconds: Nullable(Type.Number()),
});
export type BookingKindFigures = Static<typeof BookingKindFigures>;
export const BookingReport = Type.Object({
  kinds: Type.Array(BookingKindFigures),
  slots: Type.Object({
    confirmed: Type.Integer({ description: 'slot bookings whose slot is in the range, once confirmed' }),
    pending: Type.Integer({ description: 'still confirmed: neither checked in, cancelled nor missed yet' }),
    checkedIn: Type.Integer(),
    checkedInOnTime: Type.Integer(),
    checkedInLate: Type.Integer({ description: 'after slot + lateMinutes: given a walk-in ticket' }),
    missed: Type.Integer(),
    cancelled: Type.Integer(),
    noShowRate: Nullable(Type.Number({ description: 'missed / (checked in + missed)' })),
  }),
  remote: Type.Object({
    taken: Type.Integer({ description: 'remote tickets taken in the range, once confirmed' }),
    pending: Type.Integer(),
    checkedIn: Type.Integer(),
    lapsed: Type.Integer(),
    cancelled: Type.Integer(),
    lapseRate: Nullable(Type.Number({ description: 'lapsed / (checked in + lapsed)' })),
  }),
  punctuality: Type.Object({
    withinMinutes: Type.Integer({ description: 'X: on time when called by slot + X minutes' }),
    booked: Type.Integer({ description: 'booked tickets whose slot is in the range' }),
    called: Type.Integer(),
    notCalled: Type.Integer({ description: 'never called (cancelled, expired, still waiting)' }),
    onTime: Type.Integer({ description: 'called by slot + X, including those called before their slot' }),
    calledEarly: Type.Integer({ description: 'called before their slot' }),
    onTimeShare: Nullable(Type.Number({ description: 'onTime / called' })),
    lateAvgSeconds: Nullable(Type.Number({ description: 'mean of max(0, first call − slot)' })),
    lateP90Seconds: Nullable(Type.Number()),
  }),
  slotUse: Type.Array(Type.Object({
    serviceId: Type.String(),
    label: Type.String({ description: "the field's Vietnamese name" }),
    hour: Type.Integer({ description: 'local hour of the slots, 0..23' }),
    booked: Type.Integer({ description: 'confirmed, checked in or missed bookings of slots starting in that hour' }),
    capacity: Type.Integer({ description: 'the blocks starting in that hour, on each day of the range (holidays excluded), at the current capacities' }),
    useShare: Nullable(Type.Number({ description: 'booked / capacity' })),
  })),
  from: Instant,
  to: Instant,
});
export type BookingReport = Static<typeof BookingReport>;

/** The periodic satisfaction export: a local month or quarter of the site. */
export const REPORT_PERIODS = ['month', 'quarter'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** Tickets issued per local day and hour (the report screen's heat map). */
export const ArrivalsHeatmap = Type.Object({
  cells: Type.Array(Type.Object({ day: Type.String({ description: "local 'yyyy-MM-dd'" }), hour: Type.Integer({ minimum: 0, maximum: 23 }), issued: Type.Integer() })),
});
export type ArrivalsHeatmap = Static<typeof ArrivalsHeatmap>;

// configuration updates (PUT / POST / DELETE of the manager console)
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Code = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' });
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const LocalizedInput = Type.Object({ vi: Name, en: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
const strict = { additionalProperties: false } as const;

export const SiteUpdate = Type.Object({
  name: Type.Optional(Name),
  level: Type.Optional(Type.Enum(['province', 'commune'])),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  serviceOrder: Type.Optional(Type.Enum(['longest_wait', 'strict'], { description: "'longest_wait': a counter takes the ticket that waited longest among its services; 'strict': its services in their listed order" })),
  priorityRatio: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 20, description: 'null: priority tickets always first; n: at most n normal tickets between two priority ones' }))),
  transferToFront: Type.Optional(Type.Boolean({ description: 'a transferred ticket goes to the front of its new queue' })),
  codeDigits: Type.Optional(Type.Integer({ minimum: 1, maximum: 6 })),
}, strict);
export type SiteUpdate = Static<typeof SiteUpdate>;

export const OpeningSession = Type.Object({ weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday, 1 = Monday, 6 = Saturday' }), opens: ClockTime, closes: ClockTime }, strict);
export const OpeningHoursUpdate = Type.Object({ openingHours: Type.Array(OpeningSession, { maxItems: 42 }) }, strict);
export type OpeningHoursUpdate = Static<typeof OpeningHoursUpdate>;
export const HolidaysUpdate = Type.Object({
  holidays: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), name: Type.String({ maxLength: 200 }) }, strict), { maxItems: 400 }),
}, strict);
export type HolidaysUpdate = Static<typeof HolidaysUpdate>;

export const RatingUpdate = Type.Object({
  ratingScale: Type.Array(Type.Object({ score: Type.Integer({ minimum: 1, maximum: 10 }), label: LocalizedInput, asksReason: Type.Optional(Type.Boolean()) }, strict), { minItems: 2, maxItems: 10 }),
  ratingReasons: Type.Array(Type.Object({ code: Code, label: LocalizedInput }, strict), { maxItems: 30 }),
}, strict);
export type RatingUpdate = Static<typeof RatingUpdate>;

export const AnnouncementUpdate = Type.Object({
  announcement: Type.Object({
    vi: Type.String({ minLength: 1, maxLength: 300, description: 'spoken on displays; {code} and {counter} are replaced' }),
    en: Type.String({ maxLength: 300 }),
  }, strict),
  preferSystemVoice: Type.Optional(Type.Boolean({ description: "speak with the browser's vi-VN voice where one is installed, instead of the recorded clips (default false)" })),
}, strict);
export type AnnouncementUpdate = Static<typeof AnnouncementUpdate>;

export const ServiceUpdate = Type.Object({
  code: Type.Optional(Code),
  name: Type.Optional(LocalizedInput),
  prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 3, pattern: '^[A-Z0-9]+$' })),
  targetWaitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  position: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
}, strict);
export type ServiceUpdate = Static<typeof ServiceUpdate>;
export const ProceduresUpdate = Type.Object({
  procedures: Type.Array(Type.Object({
    code: Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9A-Za-z.]+$' }),
    name: LocalizedInput,
    processingDays: Nullable(Type.Integer({ minimum: 0, maximum: 365 })),
  }, strict), { maxItems: 500 }),
}, strict);
export type ProceduresUpdate = Static<typeof ProceduresUpdate>;

export const CounterUpdate = Type.Object({
  number: Type.Optional(Type.Integer({ minimum: 1, maximum: 9999 })),
  name: Type.Optional(Name),
  serviceIds: Type.Optional(Type.Array(Uuid, { maxItems: 50, description: 'the services it serves, in the order it serves them' })),
}, strict);
export type CounterUpdate = Static<typeof CounterUpdate>;

export const PriorityGroupsUpdate = Type.Object({
  priorityGroups: Type.Array(Type.Object({
    code: Code, name: LocalizedInput, rank: Type.Integer({ minimum: 1, maximum: 9, description: 'lower is called first' }),
  }, strict), { maxItems: 20 }),
}, strict);
export type PriorityGroupsUpdate = Static<typeof PriorityGroupsUpdate>;

export const StaffMember = Type.Object({
  id: Type.String(), username: Type.String(), displayName: Type.String(), role: Type.String(), active: Type.Boolean(),
  siteIds: Type.Array(Type.String()),
  /** extension: the official's photo, when there is one (see StaffRef) */
  photoUrl: Type.Optional(Type.String()),
});
export type StaffMember = Static<typeof StaffMember>;
export const StaffUpdate = Type.Object({
  displayName: Type.Optional(Name),
  role: Type.Optional(Type.Enum(['admin', 'manager', 'staff'])),
  active: Type.Optional(Type.Boolean()),
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
}, strict);
export type StaffUpdate = Static<typeof StaffUpdate>;

/** PUT /users/:userId/photo: the photo as stored (re-encoded by the server). */
export const StaffPhoto = Type.Object({
  userId: Type.String(),
  photoUrl: Type.String(),
  contentType: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  bytes: Type.Integer({ description: 'size of the stored image' }),
});
export type StaffPhoto = Static<typeof StaffPhoto>;

export const DeviceListItem = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.String(), counterId: Nullable(Type.String()), createdAt: Instant,
  lastSeenAt: Nullable(Instant), revoked: Type.Boolean(), pairingPending: Type.Boolean(),
  /** extension: a socket of this device is connected to some server process right now */
  online: Type.Optional(Type.Boolean()),
});
export type DeviceListItem = Static<typeof DeviceListItem>;
