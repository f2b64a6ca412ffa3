import { sql, type Kysely } from 'kysely';
import type { AuditActorKind, Database, Db } from '@qms/db';
import type { AuditEntry, AuditPage, AuditQuery } from '@qms/protocol';
import { QueueError } from '../queue/queue.errors.ts';
import { isoInZone } from '../queue/time.ts';

// The audit log (docs/audit.md): every change of configuration, accounts and roles, and every
// sign-in, failed sign-in and sign-out, with who, when, from where and what changed. Commands
// write their entry in their own transaction where they have one (the change and its entry
// commit together or not at all); the few that are one statement write it right after, and say so.
// The table is append-only (db/src/functions/audit_log_append_only.ts): nothing here updates it.

/** Who did it: an account (its username as it is now), a device, an integration or the system itself. */
export interface AuditActor {
  /** the account's id (devices, integrations and the system have none in the log) */
  id: string | null;
  name: string;
  kind: AuditActorKind;
  /** the client's address (behind a trusted proxy: the one it forwarded) */
  ip?: string | null;
}

/** The server itself: the first start's accounts and devices, the demo centre. */
export const SYSTEM: AuditActor = { id: null, name: 'system', kind: 'system' };

export interface AuditRecord {
  actor: AuditActor;
  /** null: an entry of no one site (an administrator's sign-in, an account of several sites) */
  siteId: string | null;
  action: string;
  target?: { type: string; id: string };
  /** updates: {field: {from, to}}; creations: the values given; secrets and passwords: CHANGED */
  changes?: Record<string, unknown>;
}

/** What an entry says of a secret or a password: that it changed, never to what. */
export const CHANGED = Object.freeze({ changed: true as const });

/**
 * Names that only ever hold secrets or personal data: whatever a command hands in under one of
 * them is written as CHANGED (the commands already do; this is the net under them).
 */
const SENSITIVE = /^(password|passwordHash|newPassword|currentPassword|secret|secrets|token|deviceToken|key|apiKey|accessToken|secretKey|authorization|cookie|pairingCode|phone|phoneNumber|address|email|idNumber)$/i;

const isMarker = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  && Object.keys(v).length === 1 && (v as { changed?: unknown }).changed === true;

/** Every sensitive field as CHANGED, at any depth; an object of markers (which secrets changed) stays. */
export function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => {
    if (!SENSITIVE.test(k)) return [k, scrub(v)];
    if (isMarker(v)) return [k, CHANGED];
    const markers = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isMarker);
    return [k, markers && Object.keys(v).length ? v : CHANGED];
  }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** {field: {from, to}} of the fields of `after` whose value differs from `before`'s. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [field, to] of Object.entries(after)) {
    if (to === undefined) continue;
    const from = before[field];
    if (!same(from, to)) out[field] = { from: from ?? null, to };
  }
  return out;
}

/** A URL as the log keeps it: no credentials, no query (a webhook's address may carry a token in either). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '';
  }
}

export interface AuditSearch {
  /** the sites whose entries to read; null: every entry, also those of no site (administrators) */
  siteIds: string[] | null;
  from?: Date;
  to?: Date;
  /** part of the actor's name, or an account's id */
  actor?: string;
  /** actions, comma-separated; `family.*` for a family */
  action?: string;
  q?: string;
  limit: number;
  /** the id of the last entry of the previous page */
  before?: string;
}

const DEFAULT_ZONE = 'Asia/Ho_Chi_Minh';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const like = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const FIRST = new Date('2000-01-01T00:00:00Z');
const LAST = new Date('2999-12-31T00:00:00Z');

export class AuditService {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /**
   * Writes one entry: in `trx` when the command has a transaction (then it commits, or rolls
   * back, with the change), else on its own. Never throws for what is in `changes`: it is
   * scrubbed of secrets first.
   */
  async record(entry: AuditRecord, trx: Kysely<Database> = this.db): Promise<void> {
    await trx.insertInto('auditLog').values({
      at: this.now(),
      actorId: entry.actor.id,
      actorName: entry.actor.name.slice(0, 200),
      actorKind: entry.actor.kind,
      siteId: entry.siteId,
      action: entry.action,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      changes: JSON.stringify(scrub(entry.changes ?? {})),
      ip: entry.actor.ip ?? null,
    }).execute();
  }

  /** The site of an account's entries: its one site, or null when it has none or several. */
  async siteOfUser(userId: string, db: Kysely<Database> = this.db): Promise<string | null> {
    const sites = await db.selectFrom('siteMembership').select('siteId').where('userId', '=', userId).limit(2).execute();
    return sites.length === 1 ? sites[0]!.siteId : null;
  }

  /** GET /sites/:siteId/audit: the site's entries (404 for no such site). */
  async forSite(siteId: string, query: AuditQuery): Promise<AuditPage> {
    const site = await this.db.selectFrom('site').select('id').where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new QueueError('SITE_NOT_FOUND', `No site ${siteId}`, 404);
    return this.search(searchOf([siteId], query));
  }

  /** GET /audit: every entry, those of no site included (administrators). */
  forAll(query: AuditQuery): Promise<AuditPage> {
    return this.search(searchOf(null, query));
  }

  /**
   * Entries most recent first, a page at a time. A site's entries are those written for it,
   * and those of no site about an account that belongs to it now (its sign-ins when it also
   * belongs to another site).
   */
  async search(s: AuditSearch): Promise<AuditPage> {
    if (s.from && s.to && !(s.from < s.to)) throw new QueueError('INVALID_RANGE', 'The range must end after it starts', 400);
    for (const d of [s.from, s.to]) {
      if (d && (d < FIRST || d > LAST)) throw new QueueError('INVALID_RANGE', 'The audit log covers the years 2000 to 2999', 400);
    }
    const rows = await this.query(s).limit(s.limit + 1).execute();
    const more = rows.length > s.limit;
    const entries = rows.slice(0, s.limit).map(toEntry);
    return more ? { entries, next: entries[entries.length - 1]!.id } : { entries };
  }

  /** Every entry of the scope in [from, to), oldest first, a page at a time (the CSV export). */
  async *all(siteIds: string[] | null, from: Date, to: Date, pageSize = 500): AsyncGenerator<AuditEntry & { siteCode: string | null }> {
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      let q = this.scoped(siteIds).where('auditLog.at', '>=', from).where('auditLog.at', '<', to);
      if (after) {
        const { at, id } = after;
        q = q.where(sql<boolean>`(audit_log.at, audit_log.id) > (${at}::timestamptz, ${id}::bigint)`);
      }
      const rows = await q.orderBy('auditLog.at').orderBy('auditLog.id').limit(pageSize).execute();
      for (const r of rows) yield { ...toEntry(r), siteCode: r.siteCode };
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  async count(siteIds: string[] | null, from: Date, to: Date): Promise<number> {
    const row = await this.db.selectFrom('auditLog').select((eb) => eb.fn.countAll<string>().as('n'))
      .where(this.visible(siteIds)).where('at', '>=', from).where('at', '<', to).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private query(s: AuditSearch) {
    let q = this.scoped(s.siteIds);
    if (s.from) q = q.where('auditLog.at', '>=', s.from);
    if (s.to) q = q.where('auditLog.at', '<', s.to);
    if (s.actor) {
      const actor = s.actor.trim();
      q = q.where((eb) => eb.or([
        eb('auditLog.actorName', 'ilike', like(actor)),
        ...(UUID.test(actor) ? [eb('auditLog.actorId', '=', actor)] : []),
      ]));
    }
    if (s.action) {
      const names = s.action.split(',');
      q = q.where((eb) => eb.or(names.map((name) => (name.endsWith('.*')
        ? eb('auditLog.action', 'like', `${name.slice(0, -1).replace(/_/g, '\\_')}%`)
        : eb('auditLog.action', '=', name)))));
    }
    if (s.q) {
      const text = like(s.q.trim());
      q = q.where((eb) => eb.or([
        eb('auditLog.action', 'ilike', text),
        eb('auditLog.actorName', 'ilike', text),
        eb('auditLog.targetType', 'ilike', text),
        eb('auditLog.targetId', 'ilike', text),
        eb(sql<string>`audit_log.changes::text`, 'ilike', text),
      ]));
    }
    if (s.before) {
      const before = s.before;
      q = q.where(sql<boolean>`(audit_log.at, audit_log.id) < (SELECT b.at, b.id FROM audit_log b WHERE b.id = ${before}::bigint)`);
    }
    return q.orderBy('auditLog.at', 'desc').orderBy('auditLog.id', 'desc');
  }

  private scoped(siteIds: string[] | null) {
    return this.db.selectFrom('auditLog').leftJoin('site', 'site.id', 'auditLog.siteId')
      .select([
        'auditLog.id', 'auditLog.at', 'auditLog.actorId', 'auditLog.actorName', 'auditLog.actorKind', 'auditLog.siteId', 'auditLog.action',
        'auditLog.targetType', 'auditLog.targetId', 'auditLog.changes', 'auditLog.ip', 'site.timezone', 'site.code as siteCode',
      ])
      .where(this.visible(siteIds));
  }

  /** The entries of these sites (null: all); see search. */
  private visible(siteIds: string[] | null) {
    if (siteIds === null) return sql<boolean>`true`;
    const ids = siteIds.length ? siteIds : ['00000000-0000-0000-0000-000000000000'];
    return sql<boolean>`(audit_log.site_id IN (${sql.join(ids)}) OR (audit_log.site_id IS NULL AND audit_log.target_type = 'user'
      AND audit_log.target_id IN (SELECT m.user_id::text FROM site_membership m WHERE m.site_id IN (${sql.join(ids)}))))`;
  }
}

/** The query string, validated by its schema (AuditQuery), as a search. */
function searchOf(siteIds: string[] | null, q: AuditQuery): AuditSearch {
  return {
    siteIds,
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
    ...(q.actor?.trim() ? { actor: q.actor } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.q?.trim() ? { q: q.q } : {}),
    ...(q.before ? { before: q.before } : {}),
    limit: q.limit ? Number(q.limit) : 50,
  };
}

type Row = {
  id: string; at: Date; actorId: string | null; actorName: string; actorKind: AuditActorKind; siteId: string | null; action: string;
  targetType: string | null; targetId: string | null; changes: Record<string, unknown>; ip: string | null; timezone: string | null;
};

function toEntry(r: Row): AuditEntry {
  return {
    id: r.id,
    at: isoInZone(r.at, r.timezone ?? DEFAULT_ZONE),
    actor: { ...(r.actorId ? { id: r.actorId } : {}), name: r.actorName, kind: r.actorKind },
    ...(r.siteId ? { siteId: r.siteId } : {}),
    action: r.action,
    ...(r.targetType ? { targetType: r.targetType } : {}),
    ...(r.targetId ? { targetId: r.targetId } : {}),
    changes: r.changes,
    ...(r.ip ? { ip: r.ip } : {}),
  };
}
