import { Type, type Static } from 'typebox';

// The audit log (docs/audit.md): configuration, account, role and sign-in changes, who made them
// and when. GET /sites/:siteId/audit (managers of the site, admins) and GET /audit (admins: every
// site, and the entries of no site). Most recent first; `next` is the `before` of the next page.

const strict = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, e.g. 2026-11-24T00:00:00+07:00' });

export const AUDIT_ACTOR_KINDS = ['user', 'device', 'integration', 'system'] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/** One action name, or a family of them: `user.*` is every action starting with `user.`. */
const ACTION = '[a-z_]+(?:[.][a-z_]+)*(?:[.][*])?';

/**
 * The actions recorded, by family (docs/audit.md lists what each records). A screen groups its
 * filter by these; the log may hold others later, so readers treat an unknown action as text.
 */
export const AUDIT_ACTIONS = {
  signIn: ['login', 'login_failed', 'logout'],
  site: ['site.create', 'site.update', 'opening_hours.update', 'holidays.update', 'rating.update', 'announcement.update', 'priority_groups.update'],
  services: ['service.create', 'service.update', 'service.procedures', 'service.deactivate'],
  counters: ['counter.create', 'counter.update', 'counter.deactivate'],
  accounts: ['staff.create', 'user.update', 'user.role', 'user.password', 'user.active', 'user.photo.update', 'user.photo.remove', 'membership.add', 'membership.remove'],
  devices: ['device.create', 'device.update', 'device.pairing_code', 'device.paired', 'device.revoke', 'device.zone', 'printer.update'],
  notifications: [
    'notification_settings.update', 'notification_channel.update', 'webhook.create', 'webhook.delete', 'recipient.create', 'recipient.update',
    'recipient.delete', 'template.update', 'template.reset', 'integration_key.create', 'integration_key.delete',
  ],
  bookings: ['booking_settings.update', 'booking_capacity.update', 'procedure.info'],
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS][number];

export const AuditEntry = Type.Object({
  id: Type.String({ description: 'increasing; the `before` of the next page' }),
  at: Instant,
  actor: Type.Object({
    id: Type.Optional(Type.String({ description: "the account's id, while it exists" })),
    name: Type.String({ description: "username as it was (a device's name; for login_failed the username typed)" }),
    kind: Type.Enum([...AUDIT_ACTOR_KINDS]),
  }),
  siteId: Type.Optional(Type.String()),
  action: Type.String({ description: 'e.g. login, login_failed, service.update, user.role (docs/audit.md)' }),
  targetType: Type.Optional(Type.String()),
  targetId: Type.Optional(Type.String()),
  changes: Type.Record(Type.String(), Type.Unknown(), {
    description: 'updates: {field: {from, to}}; creations: the values given; a secret or password only ever {changed: true}',
  }),
  ip: Type.Optional(Type.String()),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  next: Type.Optional(Type.String({ description: 'more entries: ask again with before=next' })),
});
export type AuditPage = Static<typeof AuditPage>;

export const AuditQuery = Type.Object({
  from: Type.Optional(Instant),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "part of the actor's name, or the account's id" })),
  action: Type.Optional(Type.String({
    maxLength: 400, pattern: `^${ACTION}(?:,${ACTION}){0,19}$`,
    description: 'one action or several, comma-separated; `user.*` for a family',
  })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'text anywhere in the entry: action, actor, target, changes' })),
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$', description: '1..200, default 50' })),
  before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: "the previous page's `next`" })),
}, strict);
export type AuditQuery = Static<typeof AuditQuery>;

/** What the client sends (numbers as numbers). */
export interface AuditFilter {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
  q?: string;
  limit?: number;
  before?: string;
}
