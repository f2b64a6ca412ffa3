import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Hand-written to match the migrations; CamelCasePlugin maps snake_case columns.
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** `date` columns are read as 'yyyy-MM-dd' strings (see connection.ts). */
type LocalDate = ColumnType<string, string, string>;
type Json<T> = ColumnType<T, string | T, string | T>;
type JsonWithDefault<T> = ColumnType<T, string | T | undefined, string | T>;

export type Localized = { vi: string; en: string };
export type SiteLevel = 'province' | 'commune';
export type ServiceOrder = 'longest_wait' | 'strict';
export type CounterStatus = 'closed' | 'open' | 'paused';
export type DeviceKind = 'kiosk' | 'display' | 'counter' | 'rating';
export type UserRole = 'admin' | 'manager' | 'staff';
export type TicketStatus = 'waiting' | 'called' | 'serving' | 'done' | 'no_show' | 'transferred' | 'cancelled' | 'expired';
export type TicketEventType =
  | 'issued' | 'called' | 'recalled' | 'started' | 'finished' | 'no_show' | 'transferred' | 'cancelled' | 'expired';
export type CounterEventType = 'opened' | 'paused' | 'resumed' | 'closed';

export interface SiteSettings {
  ratingScale?: { score: number; label: Localized; asksReason?: boolean }[];
  ratingReasons?: { code: string; label: Localized }[];
  announcement?: Localized;
  [key: string]: unknown;
}

export interface SiteTable {
  id: Generated<string>;
  code: string;
  name: string;
  level: Generated<SiteLevel>;
  timezone: Generated<string>;
  serviceOrder: Generated<ServiceOrder>;
  priorityRatio: number | null;
  transferToFront: Generated<boolean>;
  codeDigits: Generated<number>;
  settings: JsonWithDefault<SiteSettings>;
  createdAt: DefaultTimestamp;
}

export interface OpeningHoursTable {
  id: Generated<string>;
  siteId: string;
  weekday: number;
  opens: string;
  closes: string;
}

export interface HolidayTable {
  siteId: string;
  date: LocalDate;
  name: Generated<string>;
}

export interface PriorityGroupTable {
  id: Generated<string>;
  siteId: string;
  code: string;
  name: Json<Localized>;
  rank: Generated<number>;
  active: Generated<boolean>;
}

export interface ServiceTable {
  id: Generated<string>;
  siteId: string;
  code: string;
  prefix: string;
  name: Json<Localized>;
  targetWaitSeconds: Generated<number>;
  position: Generated<number>;
  active: Generated<boolean>;
}

export interface ProcedureTable {
  id: Generated<string>;
  serviceId: string;
  code: string;
  name: Json<Localized>;
  processingDays: number | null;
  /** what the public page shows of it (docs/appointments.md) */
  info: JsonWithDefault<ProcedureInfo>;
}

/** A procedure's information for citizens, kept in the console; every text in both languages. */
export interface ProcedureInfo {
  steps?: Localized[];
  documents?: Localized[];
  processingTime?: Localized;
  fees?: Localized;
  /** the national portal's page of it */
  url?: string;
}

export type BookingKind = 'slot' | 'remote';
export type BookingStatus = 'unconfirmed' | 'confirmed' | 'checked_in' | 'cancelled' | 'missed' | 'lapsed';

export interface BookingCapacityTable {
  siteId: string;
  serviceId: string;
  /** ISO weekday, Monday = 1 … Sunday = 7, as opening_hours */
  weekday: number;
  /** the block's start, local 'HH:MM:SS' */
  starts: string;
  capacity: number;
}

export interface BookingTable {
  id: Generated<string>;
  publicId: string;
  code: string;
  siteId: string;
  serviceId: string;
  procedureCode: string | null;
  kind: BookingKind;
  status: BookingStatus;
  source: 'public' | 'portal' | 'console';
  localDate: LocalDate;
  /** a slot's start; a remote ticket's: when it was taken (its place in the queue) */
  slotAt: Timestamp;
  slotMinutes: number;
  /** a remote ticket: when its holder is told to arrive */
  arriveBy: Date | null;
  lang: Generated<string>;
  contactKind: 'phone' | 'email' | null;
  contact: string | null;
  idDigest: string | null;
  verifyDigest: string | null;
  verifyAttempts: Generated<number>;
  verifySends: Generated<number>;
  verifyExpiresAt: Date | null;
  ticketId: string | null;
  checkedInLate: Generated<boolean>;
  createdAt: Timestamp;
  confirmedAt: Date | null;
  cancelledAt: Date | null;
  checkedInAt: Date | null;
  movedCount: Generated<number>;
  eraseAfter: Date | null;
}

export interface AppUserTable {
  id: Generated<string>;
  username: string;
  passwordHash: string;
  displayName: string;
  role: UserRole;
  active: Generated<boolean>;
  createdAt: DefaultTimestamp;
}

/** An official's photo as the server re-encoded it (server/src/photos). */
export interface StaffPhotoTable {
  userId: string;
  image: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** digest of `image`: the HTTP ETag and the version in the photo's URL */
  etag: string;
  updatedAt: DefaultTimestamp;
  updatedBy: string | null;
}

export interface SiteMembershipTable {
  siteId: string;
  userId: string;
}

export interface UserSessionTable {
  id: Generated<string>;
  userId: string;
  tokenHash: string;
  createdAt: DefaultTimestamp;
  expiresAt: Timestamp;
}

export interface CounterTable {
  id: Generated<string>;
  siteId: string;
  number: number;
  name: string;
  status: Generated<CounterStatus>;
  staffId: string | null;
  pauseReason: string | null;
  statusChangedAt: DefaultTimestamp;
  normalStreak: number | null;
  /** booked tickets called in a row here (the site's bookedInRow bound) */
  bookedStreak: ColumnType<number | null, number | null | undefined, number | null>;
  active: Generated<boolean>;
}

export interface CounterServiceTable {
  counterId: string;
  serviceId: string;
  position: Generated<number>;
}

export interface CounterEventTable {
  id: Generated<string>;
  counterId: string;
  type: CounterEventType;
  staffId: string | null;
  reason: string | null;
  at: DefaultTimestamp;
}

export interface DeviceTable {
  id: Generated<string>;
  siteId: string;
  kind: DeviceKind;
  name: string;
  counterId: string | null;
  tokenHash: string | null;
  pairingCodeHash: string | null;
  pairingExpiresAt: Date | null;
  settings: JsonWithDefault<Record<string, unknown>>;
  createdAt: DefaultTimestamp;
  lastSeenAt: Date | null;
  revokedAt: Date | null;
}

export interface DailySequenceTable {
  serviceId: string;
  localDate: LocalDate;
  lastNumber: number;
}

export interface TicketTable {
  id: Generated<string>;
  publicId: string;
  siteId: string;
  issuedServiceId: string;
  serviceId: string;
  localDate: LocalDate;
  number: number;
  code: string;
  status: TicketStatus;
  priority: Generated<string>;
  priorityRank: number | null;
  lang: Generated<string>;
  channel: Generated<string>;
  deviceId: string | null;
  counterId: string | null;
  staffId: string | null;
  issuedAt: Timestamp;
  queuedAt: Timestamp;
  calledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  estimatedWaitSeconds: number | null;
  positionAtIssue: number | null;
  transferCount: Generated<number>;
  /** the issuer's key of the press that made it (Idempotency-Key), if it sent one */
  issueKey: ColumnType<string | null, string | null | undefined, string | null>;
  /** a booked ticket ('slot') or a remote one, checked in; null for a walk-in */
  bookingKind: ColumnType<BookingKind | null, BookingKind | null | undefined, BookingKind | null>;
  slotAt: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface TicketEventTable {
  id: Generated<string>;
  ticketId: string;
  siteId: string;
  type: TicketEventType;
  fromStatus: TicketStatus | null;
  toStatus: TicketStatus;
  serviceId: string;
  counterId: string | null;
  staffId: string | null;
  deviceId: string | null;
  at: Timestamp;
  data: Json<Record<string, unknown>> | null;
}

export interface RatingTable {
  id: Generated<string>;
  ticketId: string;
  siteId: string;
  counterId: string | null;
  staffId: string | null;
  score: number;
  reason: string | null;
  comment: string | null;
  channel: Generated<string>;
  deviceId: string | null;
  createdAt: DefaultTimestamp;
}

export interface AlertTable {
  id: Generated<string>;
  siteId: string;
  kind: string;
  counterId: string | null;
  staffId: string | null;
  ticketId: string | null;
  deviceId: string | null;
  data: JsonWithDefault<Record<string, unknown>>;
  createdAt: DefaultTimestamp;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  /** complaints (criticism, low_rating): the case; null reads as 'new' */
  caseStatus: ColumnType<CaseStatus | null, CaseStatus | null | undefined, CaseStatus | null>;
  caseOwnerId: ColumnType<string | null, string | null | undefined, string | null>;
  resolutionNote: ColumnType<string | null, string | null | undefined, string | null>;
}

export type CaseStatus = 'new' | 'investigating' | 'resolved';

export interface AlertCaseEventTable {
  id: Generated<string>;
  alertId: string;
  at: Timestamp;
  byId: string | null;
  status: CaseStatus;
  ownerId: string | null;
  note: string | null;
}

export interface OutboxTable {
  id: Generated<string>;
  seq: Generated<string>;
  siteId: string;
  type: string;
  ticketId: string | null;
  sourceId: string;
  occurredAt: Timestamp;
  data: JsonWithDefault<Record<string, unknown>>;
  relayedAt: Date | null;
}

export type NotifyChannelKind = 'sms' | 'email' | 'zalo';
export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

export interface NotificationChannelTable {
  siteId: string;
  kind: NotifyChannelKind;
  enabled: Generated<boolean>;
  settings: Json<Record<string, unknown>>;
  secrets: JsonWithDefault<Record<string, unknown>>;
  updatedAt: DefaultTimestamp;
  updatedBy: string | null;
}

export interface WebhookTable {
  id: Generated<string>;
  siteId: string;
  url: string;
  secret: string;
  events: string[];
  active: Generated<boolean>;
  createdAt: DefaultTimestamp;
  createdBy: string | null;
}

export interface NotificationRecipientTable {
  id: Generated<string>;
  siteId: string;
  name: string;
  channel: NotifyChannelKind;
  address: string;
  lang: Generated<string>;
  topics: string[];
  active: Generated<boolean>;
  createdAt: DefaultTimestamp;
}

export interface NotificationTemplateTable {
  siteId: string;
  purpose: string;
  lang: string;
  subject: string | null;
  body: string;
  updatedAt: DefaultTimestamp;
}

export interface NotificationTable {
  id: Generated<string>;
  siteId: string;
  eventId: string | null;
  dedupeKey: string;
  channel: NotifyChannelKind | 'webhook';
  purpose: string;
  webhookId: string | null;
  recipientId: string | null;
  ticketId: string | null;
  address: string | null;
  lang: Generated<string>;
  subject: string | null;
  body: string | null;
  params: JsonWithDefault<Record<string, string>>;
  status: Generated<NotificationStatus>;
  attempts: Generated<number>;
  nextAttemptAt: Timestamp;
  lockedUntil: Date | null;
  expiresAt: Timestamp;
  lastAttemptAt: Date | null;
  lastError: string | null;
  responseStatus: number | null;
  latencyMs: number | null;
  providerId: string | null;
  segments: number | null;
  cost: string | null;
  eraseAfter: Date | null;
  createdAt: Timestamp;
  sentAt: Date | null;
}

export interface TicketContactTable {
  ticketId: string;
  siteId: string;
  phone: string;
  channel: 'sms' | 'zalo';
  lang: Generated<string>;
  consentedAt: Timestamp;
  eraseAfter: Timestamp;
  aheadSent: Generated<boolean>;
}

export interface IntegrationKeyTable {
  id: Generated<string>;
  siteId: string;
  name: string;
  keyHash: string;
  /** what the key may do: 'dossiers:read', 'dossier-results:write' */
  scopes: Generated<string[]>;
  createdAt: DefaultTimestamp;
  lastUsedAt: Date | null;
}

export interface DossierResultTable {
  id: Generated<string>;
  siteId: string;
  dossierCode: string;
  receivedAt: Timestamp;
  eraseAfter: Timestamp;
}

export interface TicketProcedureTable {
  ticketId: string;
  siteId: string;
  procedureCode: string;
  procedureName: Json<Localized>;
  serviceId: string | null;
  source: 'kiosk' | 'counter';
  addedAt: Timestamp;
  addedBy: string | null;
}

export interface TicketDossierTable {
  id: Generated<string>;
  ticketId: string;
  siteId: string;
  dossierCode: string;
  direction: 'received' | 'returned';
  recordedAt: Timestamp;
  recordedBy: string | null;
}

export type AuditActorKind = 'user' | 'device' | 'integration' | 'system';

/** Append-only (a trigger refuses UPDATE and DELETE): docs/audit.md. */
export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  actorId: string | null;
  actorName: string;
  actorKind: AuditActorKind;
  siteId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: JsonWithDefault<Record<string, unknown>>;
  ip: string | null;
}

export interface Database {
  site: SiteTable;
  openingHours: OpeningHoursTable;
  holiday: HolidayTable;
  priorityGroup: PriorityGroupTable;
  service: ServiceTable;
  procedure: ProcedureTable;
  appUser: AppUserTable;
  staffPhoto: StaffPhotoTable;
  siteMembership: SiteMembershipTable;
  userSession: UserSessionTable;
  counter: CounterTable;
  counterService: CounterServiceTable;
  counterEvent: CounterEventTable;
  device: DeviceTable;
  dailySequence: DailySequenceTable;
  ticket: TicketTable;
  ticketEvent: TicketEventTable;
  rating: RatingTable;
  alert: AlertTable;
  alertCaseEvent: AlertCaseEventTable;
  outbox: OutboxTable;
  notificationChannel: NotificationChannelTable;
  webhook: WebhookTable;
  notificationRecipient: NotificationRecipientTable;
  notificationTemplate: NotificationTemplateTable;
  notification: NotificationTable;
  ticketContact: TicketContactTable;
  dossierResult: DossierResultTable;
  integrationKey: IntegrationKeyTable;
  ticketProcedure: TicketProcedureTable;
  ticketDossier: TicketDossierTable;
  auditLog: AuditLogTable;
  bookingCapacity: BookingCapacityTable;
  booking: BookingTable;
  appSecret: { name: string; value: string };
}

export type SiteRow = Selectable<SiteTable>;
export type ServiceRow = Selectable<ServiceTable>;
export type CounterRow = Selectable<CounterTable>;
export type DeviceRow = Selectable<DeviceTable>;
export type AppUserRow = Selectable<AppUserTable>;
export type TicketRow = Selectable<TicketTable>;
export type BookingRow = Selectable<BookingTable>;
export type NewTicket = Insertable<TicketTable>;
export type TicketUpdate = Updateable<TicketTable>;
export type TicketEventRow = Selectable<TicketEventTable>;
export type NewTicketEvent = Insertable<TicketEventTable>;
export type PriorityGroupRow = Selectable<PriorityGroupTable>;
export type RatingRow = Selectable<RatingTable>;
