import { Type, type Static } from 'typebox';

// The wire format of ../shared/API.md. Field names here are a public contract: add, never rename.

const Id = Type.String({ minLength: 1, maxLength: 64 });
export const Uuid = Type.String({ format: 'uuid' });
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, millisecond precision' });

export const Localized = Type.Object({ vi: Type.String(), en: Type.String() });
export type Localized = Static<typeof Localized>;

export const TICKET_STATUSES = ['waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled'] as const;
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
});
export type Ticket = Static<typeof Ticket>;

export const COUNTER_STATUSES = ['closed', 'open', 'paused'] as const;
export const CounterStatus = Type.Enum(COUNTER_STATUSES);
export type CounterStatus = (typeof COUNTER_STATUSES)[number];

export const CounterRef = Type.Object({ id: Id, number: Type.Integer(), name: Type.String() });
export type CounterRef = Static<typeof CounterRef>;

export const StaffRef = Type.Object({ id: Id, displayName: Type.String() });
export type StaffRef = Static<typeof StaffRef>;

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
  counter: Type.Optional(CounterRef),
  serviceId: Type.String(),
  issuedAt: Instant,
});
export type PublicTicket = Static<typeof PublicTicket>;

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Procedure = Type.Object({ code: Type.String(), name: Localized, processingDays: Type.Union([Type.Integer(), Type.Null()]) });
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
