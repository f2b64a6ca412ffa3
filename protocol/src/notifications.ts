import { Type, type Static } from 'typebox';

// Notifications and webhooks (docs/notifications.md): the wire format of the console's settings,
// the delivery logs, citizens' phone numbers and the dossier system's inbound call. Webhook
// paths and fields follow ../shared/API.md ("Outgoing webhooks").

const Instant = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Event types a webhook may subscribe to. */
export const WEBHOOK_EVENTS = ['ticket:issued', 'ticket:called', 'ticket:updated', 'rating:created', 'criticism:created', 'alert:raised', 'dossier:recorded'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.Enum([...WEBHOOK_EVENTS])),
  active: Type.Boolean(),
});
export type Webhook = Static<typeof Webhook>;

export const WebhookCreate = Type.Object({
  url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 }),
  secret: Type.String({ minLength: 16, maxLength: 200, description: 'signs every delivery (X-QMS-Signature); never returned' }),
  events: Type.Array(Type.Enum([...WEBHOOK_EVENTS]), { minItems: 1, uniqueItems: true }),
}, { additionalProperties: false });
export type WebhookCreate = Static<typeof WebhookCreate>;

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'cancelled'] as const;

/** One message: a webhook delivery (API.md's fields first) or an SMS, email or Zalo message. */
export const Delivery = Type.Object({
  id: Type.String(),
  eventId: Nullable(Type.String()),
  status: Type.Enum([...DELIVERY_STATUSES], { description: 'pending (waiting or retrying), sent, failed (no more tries: the dead letters), cancelled (no longer true when due: a wait that ended)' }),
  attempts: Type.Integer(),
  lastAttemptAt: Nullable(Instant),
  responseStatus: Type.Optional(Type.Integer()),
  // beyond API.md
  channel: Type.Enum(['webhook', 'sms', 'email', 'zalo']),
  purpose: Type.String(),
  type: Type.Optional(Type.String({ description: 'webhooks: the event type' })),
  /** the address, masked (0912***678, n***@example.vn); null once erased */
  to: Nullable(Type.String()),
  createdAt: Instant,
  sentAt: Nullable(Instant),
  nextAttemptAt: Nullable(Instant),
  latencyMs: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  segments: Nullable(Type.Integer()),
  cost: Nullable(Type.Number()),
});
export type Delivery = Static<typeof Delivery>;

export const NOTIFY_CHANNELS = ['sms', 'email', 'zalo'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** A channel's settings as the console sees them: never the secrets, only which are set. */
export const ChannelView = Type.Object({
  kind: Type.Enum([...NOTIFY_CHANNELS]),
  enabled: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  secretsSet: Type.Array(Type.String()),
  updatedAt: Instant,
});
export type ChannelView = Static<typeof ChannelView>;

export const ChannelUpdate = Type.Object({
  enabled: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown(), { description: "the provider's settings (docs/notifications.md); validated by the channel's schema" }),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 2000 }), {
    description: 'secrets to set; a field left out keeps its value, an empty string clears it',
  })),
}, { additionalProperties: false });
export type ChannelUpdate = Static<typeof ChannelUpdate>;

export const LEADER_TOPICS = ['complaint', 'wait', 'device'] as const;
export type LeaderTopic = (typeof LEADER_TOPICS)[number];

export const Recipient = Type.Object({
  id: Type.String(),
  name: Type.String(),
  channel: Type.Enum([...NOTIFY_CHANNELS]),
  address: Type.String(),
  lang: Type.Enum(['vi', 'en']),
  topics: Type.Array(Type.Enum([...LEADER_TOPICS])),
  active: Type.Boolean(),
});
export type Recipient = Static<typeof Recipient>;

export const RecipientInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 120 }),
  channel: Type.Enum([...NOTIFY_CHANNELS]),
  address: Type.String({ minLength: 3, maxLength: 254, description: 'a phone number (SMS, Zalo) or an email address' }),
  lang: Type.Optional(Type.Enum(['vi', 'en'])),
  topics: Type.Array(Type.Enum([...LEADER_TOPICS]), { uniqueItems: true, description: 'complaint: criticism and low ratings; wait: waits past target; device: printers and displays' }),
  active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type RecipientInput = Static<typeof RecipientInput>;

export const TEMPLATE_PURPOSES = [
  'ticket_ahead', 'ticket_called', 'ticket_reminder', 'dossier_ready', 'leader_complaint', 'leader_wait', 'leader_device',
  'booking_code', 'booking_confirmed', 'booking_reminder', 'remote_ticket',
] as const;
export type TemplatePurpose = (typeof TEMPLATE_PURPOSES)[number];

export const Template = Type.Object({
  purpose: Type.Enum([...TEMPLATE_PURPOSES]),
  lang: Type.Enum(['vi', 'en']),
  subject: Type.String(),
  body: Type.String(),
  /** the site's own wording (false: the built-in default) */
  custom: Type.Boolean(),
  placeholders: Type.Array(Type.String()),
});
export type Template = Static<typeof Template>;

export const TemplateUpdate = Type.Object({
  subject: Type.Optional(Type.String({ maxLength: 200 })),
  body: Type.String({ minLength: 1, maxLength: 1000 }),
}, { additionalProperties: false });

export const TemplatePreviewRequest = Type.Object({
  purpose: Type.Enum([...TEMPLATE_PURPOSES]),
  lang: Type.Enum(['vi', 'en']),
  subject: Type.Optional(Type.String({ maxLength: 200 })),
  body: Type.String({ minLength: 1, maxLength: 1000 }),
}, { additionalProperties: false });

const SmsCost = Type.Object({
  encoding: Type.Enum(['gsm7', 'ucs2']),
  text: Type.String(),
  chars: Type.Integer(),
  segments: Type.Integer(),
  cost: Nullable(Type.Number()),
});
export const TemplatePreview = Type.Object({
  subject: Type.String(),
  text: Type.String(),
  /** placeholders the text names that the purpose does not have */
  unknown: Type.Array(Type.String()),
  /** as an SMS: unaccented (GSM-7) and with accents (UCS-2), with segments and cost */
  sms: Type.Object({ unaccented: SmsCost, ucs2: SmsCost }),
});
export type TemplatePreview = Static<typeof TemplatePreview>;

export const TestSendRequest = Type.Object({
  to: Type.String({ minLength: 3, maxLength: 254 }),
  lang: Type.Optional(Type.Enum(['vi', 'en'])),
}, { additionalProperties: false });
export const TestSendReply = Type.Object({
  ok: Type.Boolean(),
  latencyMs: Type.Integer(),
  error: Type.Optional(Type.String()),
  segments: Type.Optional(Type.Integer()),
  cost: Type.Optional(Type.Number()),
});
export type TestSendReply = Static<typeof TestSendReply>;

/** A site's notification options (GET/PUT /sites/:siteId/notification-settings). */
export const NotificationSettings = Type.Object({
  /** the kiosk and the phone page offer to take a phone number */
  offerPhone: Type.Boolean(),
  /** how a citizen's messages go: sms or zalo */
  citizenChannel: Type.Enum(['sms', 'zalo']),
  /** "N people ahead of you" once N or fewer are ahead */
  aheadThreshold: Type.Integer({ minimum: 1, maximum: 50 }),
  /** citizens' numbers are erased after this many hours; null: at the end of the site's day */
  retentionHours: Nullable(Type.Integer({ minimum: 1, maximum: 720 })),
  /** leaders hear of a wait once it is this many minutes past its target */
  leaderWaitOverMinutes: Type.Integer({ minimum: 0, maximum: 240 }),
}, { additionalProperties: false });
export type NotificationSettings = Static<typeof NotificationSettings>;

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  offerPhone: true, citizenChannel: 'sms', aheadThreshold: 3, retentionHours: null, leaderWaitOverMinutes: 10,
};

/** A citizen's phone number for their ticket (kiosk or phone page), with consent. */
export const ContactRequest = Type.Object({
  phone: Type.String({ minLength: 9, maxLength: 16, pattern: '^\\+?[0-9 .-]+$' }),
  consent: Type.Literal(true, { description: 'the citizen accepted the consent text' }),
  lang: Type.Optional(Type.Enum(['vi', 'en'])),
}, { additionalProperties: false });
export const ContactReply = Type.Object({
  /** masked */
  phone: Type.String(),
  channel: Type.Enum(['sms', 'zalo']),
  eraseAfter: Instant,
});
export type ContactReply = Static<typeof ContactReply>;

/** The dossier system: "your result is ready" (mã hồ sơ). */
export const DossierResultRequest = Type.Object({
  dossierCode: Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9._/-]+$' }),
  phone: Type.Optional(Type.String({ minLength: 9, maxLength: 16, pattern: '^\\+?[0-9 .-]+$' })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  lang: Type.Optional(Type.Enum(['vi', 'en'])),
  /** where to collect it, e.g. "Quầy trả kết quả số 2" */
  place: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });
export const DossierResultReply = Type.Object({
  id: Type.String(),
  dossierCode: Type.String(),
  messages: Type.Integer({ description: 'messages queued (0 when the same dossier code was sent before)' }),
  replayed: Type.Boolean(),
});

export const CASE_STATUSES = ['new', 'investigating', 'resolved'] as const;
export const CaseUpdate = Type.Object({
  status: Type.Optional(Type.Enum([...CASE_STATUSES])),
  ownerId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  note: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });
export const CaseEvent = Type.Object({
  at: Instant,
  by: Nullable(Type.Object({ id: Type.String(), displayName: Type.String() })),
  status: Type.Enum([...CASE_STATUSES]),
  owner: Nullable(Type.Object({ id: Type.String(), displayName: Type.String() })),
  note: Nullable(Type.String()),
});
export type CaseEvent = Static<typeof CaseEvent>;
