import { createHash, randomBytes } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Db, NotificationTable, NotifyChannelKind } from '@qms/db';
import {
  TEMPLATE_PURPOSES, type ChannelUpdate, type ChannelView, type ContactReply, type Delivery, type NotificationSettings,
  type Recipient, type RecipientInput, type Template, type TemplatePreview, type TemplatePurpose, type TestSendReply,
  type Webhook, type WebhookCreate, type IntegrationScope, normaliseDossierCode,
} from '@qms/protocol';
import { localDate } from '@qms/protocol/calendar';
import type { Committed } from '../app/after-commit.ts';
import { CHANGED, diff, withoutCredentials, type AuditActor, type AuditService } from '../audit/audit.service.ts';
import { dayEndsAt } from '../queue/day-end.ts';
import { notFound, QueueError } from '../queue/queue.errors.ts';
import { siteUpdated } from '../queue/queue.events.ts';
import * as repo from '../queue/queue.repository.ts';
import { isoInZone } from '../queue/time.ts';
import { isEmail, masked, vietnameseMobile } from './addresses.ts';
import { CHANNELS } from './channels/index.ts';
import { smsCost, smsParts } from './channels/sms/sms-text.ts';
import { LIFETIME_SECONDS } from './relay.ts';
import { notificationSettings } from './settings.ts';
import { DEFAULT_TEMPLATES, PLACEHOLDERS, render, SAMPLE_PARAMS, type Lang } from './templates.ts';
import { messageText, wordingOf } from './wording.ts';
import type { ChannelFactory } from './worker.ts';

// What the manager console, the kiosk, the phone page and the dossier system ask of
// notifications: channel settings (secrets kept, never answered), webhooks and their delivery
// log, leaders and their topics, templates with a preview, a test send, citizens' numbers
// with consent, and the dossier system's "result ready". Messages themselves are written by the
// relay (relay.ts) or here, in the transaction of what causes them, and sent by the worker.
// Every change of settings is in the audit log, in the change's transaction: secrets only as
// which of them changed, leaders' addresses only as {changed: true}, webhook URLs without their
// query or credentials.

type MessageRow = Selectable<NotificationTable>;

export interface NotificationServiceOptions {
  db: Db;
  now: () => Date;
  buildChannel: ChannelFactory;
  /** a message was written outside the outbox (a dossier result, a redelivery): deliver it now */
  wake: () => void;
  dayEndGraceSeconds: number;
  audit: AuditService;
}

export class NotificationService {
  constructor(private readonly o: NotificationServiceOptions) {}

  private get db() {
    return this.o.db;
  }

  // ---- site options ---------------------------------------------------------------------

  async settings(siteId: string): Promise<NotificationSettings> {
    return notificationSettings(await this.site(siteId));
  }

  /** Kiosks and phone pages learn whether to offer a number (site:updated, part 'notifications'). */
  async setSettings(siteId: string, settings: NotificationSettings, by: AuditActor): Promise<Committed<NotificationSettings>> {
    const before = notificationSettings(await this.site(siteId));
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('site').set({ settings: sql`settings || jsonb_build_object('notifications', ${JSON.stringify(settings)}::jsonb)` })
        .where('id', '=', siteId).execute();
      const changes = diff(before, settings);
      if (Object.keys(changes).length) {
        await this.o.audit.record({ actor: by, siteId, action: 'notification_settings.update', target: { type: 'site', id: siteId }, changes }, trx);
      }
    });
    return { value: settings, events: [siteUpdated(siteId, ['notifications'])] };
  }

  // ---- channels -------------------------------------------------------------------------

  async channels(siteId: string): Promise<ChannelView[]> {
    const rows = await this.db.selectFrom('notificationChannel').selectAll().where('siteId', '=', siteId).orderBy('kind').execute();
    return rows.map((r) => ({
      kind: r.kind, enabled: r.enabled, settings: r.settings, updatedAt: r.updatedAt.toISOString(),
      secretsSet: Object.entries(r.secrets).filter(([, v]) => typeof v === 'string' && v !== '').map(([k]) => k).sort(),
    }));
  }

  /** Saves a channel. Secrets left out keep their value; the answer says which are set, never what. */
  async setChannel(siteId: string, kind: NotifyChannelKind, update: ChannelUpdate, by: AuditActor): Promise<Committed<ChannelView>> {
    await this.site(siteId);
    const spec = CHANNELS[kind];
    const problems = spec.check(update.settings);
    if (problems.length) throw new QueueError('INVALID_CHANNEL_SETTINGS', `The ${kind} settings are not valid: ${problems.join('; ')}`, 400);
    const allowed = new Set(spec.secretFields(update.settings));
    const unknown = Object.keys(update.secrets ?? {}).filter((k) => !allowed.has(k));
    if (unknown.length) throw new QueueError('INVALID_CHANNEL_SETTINGS', `No such secret for this ${kind} provider: ${unknown.join(', ')}`, 400);
    const old = await this.db.selectFrom('notificationChannel').select(['secrets', 'settings', 'enabled']).where('siteId', '=', siteId).where('kind', '=', kind).executeTakeFirst();
    const secrets = Object.fromEntries(Object.entries({ ...old?.secrets, ...update.secrets })
      .filter(([k, v]) => allowed.has(k) && typeof v === 'string' && v !== ''));
    const values = { enabled: update.enabled, settings: JSON.stringify(update.settings), secrets: JSON.stringify(secrets), updatedAt: this.o.now(), updatedBy: by.id };
    // which secrets were set, replaced or cleared: their names only
    const secretsChanged = Object.fromEntries([...new Set([...Object.keys(old?.secrets ?? {}), ...Object.keys(secrets)])]
      .filter((k) => old?.secrets[k] !== secrets[k]).sort().map((k) => [k, CHANGED]));
    const changes = {
      ...diff({ enabled: old?.enabled ?? null }, { enabled: update.enabled }),
      ...Object.fromEntries(Object.entries(diff(old?.settings ?? {}, update.settings)).map(([k, v]) => [`settings.${k}`, v])),
      ...Object.fromEntries(Object.keys(old?.settings ?? {}).filter((k) => !(k in update.settings)).map((k) => [`settings.${k}`, { from: old!.settings[k], to: null }])),
      ...(Object.keys(secretsChanged).length ? { secrets: secretsChanged } : {}),
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('notificationChannel').values({ siteId, kind, ...values })
        .onConflict((oc) => oc.columns(['siteId', 'kind']).doUpdateSet(values)).execute();
      if (Object.keys(changes).length) {
        await this.o.audit.record({ actor: by, siteId, action: 'notification_channel.update', target: { type: 'notification_channel', id: kind }, changes }, trx);
      }
    });
    const view = (await this.channels(siteId)).find((c) => c.kind === kind)!;
    // the kiosk offers a number only while the citizens' channel works
    return { value: view, events: [siteUpdated(siteId, ['notifications'])] };
  }

  /** Sends a test message now, through the saved settings, and says how it went. */
  async testSend(siteId: string, kind: NotifyChannelKind, to: string, lang: Lang = 'vi'): Promise<TestSendReply> {
    const site = await this.site(siteId);
    const row = await this.db.selectFrom('notificationChannel').selectAll().where('siteId', '=', siteId).where('kind', '=', kind).executeTakeFirst();
    if (!row) throw new QueueError('CHANNEL_NOT_SET_UP', `Save the ${kind} settings first`, 409);
    const address = this.address(kind, to);
    const channel = this.o.buildChannel(kind, row.settings, row.secrets);
    const text = messageText({ siteName: site.name, templates: [] }, 'channel_test', lang, {});
    const started = performance.now();
    try {
      const sent = await channel.send({ key: `test-${randomBytes(8).toString('hex')}`, to: address, purpose: 'channel_test', lang, subject: text.subject, text: text.body, params: text.params },
        AbortSignal.timeout(20_000));
      return { ok: true, latencyMs: Math.round(performance.now() - started), ...(sent.segments ? { segments: sent.segments } : {}), ...(sent.cost !== undefined ? { cost: sent.cost } : {}) };
    } catch (error) {
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
    } finally {
      await channel.close().catch(() => {});
    }
  }

  private address(kind: NotifyChannelKind, to: string): string {
    if (kind === 'email') {
      if (!isEmail(to.trim())) throw new QueueError('INVALID_ADDRESS', 'Not an email address', 400);
      return to.trim();
    }
    const phone = vietnameseMobile(to);
    if (!phone) throw new QueueError('INVALID_PHONE', 'Not a Vietnamese mobile number (0912 345 678 or +84 912 345 678)', 400);
    return phone;
  }

  // ---- webhooks (API.md "Outgoing webhooks") ---------------------------------------------

  async createWebhook(siteId: string, input: WebhookCreate, by: AuditActor): Promise<Webhook> {
    await this.site(siteId);
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('webhook').values({ siteId, url: input.url, secret: input.secret, events: input.events, createdBy: by.id, createdAt: this.o.now() })
        .returning(['id', 'url', 'events', 'active']).executeTakeFirstOrThrow();
      await this.o.audit.record({
        actor: by, siteId, action: 'webhook.create', target: { type: 'webhook', id: row.id },
        changes: { url: withoutCredentials(input.url), events: input.events, secret: CHANGED },
      }, trx);
      return row as Webhook;
    });
  }

  async webhooks(siteId: string): Promise<Webhook[]> {
    return await this.db.selectFrom('webhook').select(['id', 'url', 'events', 'active']).where('siteId', '=', siteId).orderBy('createdAt').execute() as Webhook[];
  }

  async webhookSite(webhookId: string): Promise<string> {
    const row = await this.db.selectFrom('webhook').select('siteId').where('id', '=', webhookId).executeTakeFirst();
    if (!row) throw new QueueError('WEBHOOK_NOT_FOUND', `No webhook ${webhookId}`, 404);
    return row.siteId;
  }

  /** Deleting stops its deliveries too (they go with it). */
  async deleteWebhook(webhookId: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('webhook').where('id', '=', webhookId).returning(['siteId', 'url', 'events']).executeTakeFirst();
      if (gone) {
        await this.o.audit.record({
          actor: by, siteId: gone.siteId, action: 'webhook.delete', target: { type: 'webhook', id: webhookId },
          changes: { url: withoutCredentials(gone.url), events: gone.events },
        }, trx);
      }
    });
  }

  async deliveries(filter: { webhookId?: string; siteId?: string; channel?: string; status?: string; limit: number }): Promise<Delivery[]> {
    let q = this.db.selectFrom('notification').selectAll();
    if (filter.webhookId) q = q.where('webhookId', '=', filter.webhookId);
    if (filter.siteId) q = q.where('siteId', '=', filter.siteId);
    if (filter.channel) q = q.where('channel', '=', filter.channel as MessageRow['channel']);
    if (filter.status) q = q.where('status', '=', filter.status as MessageRow['status']);
    const rows = await q.orderBy('createdAt', 'desc').orderBy('id').limit(filter.limit).execute();
    return rows.map(delivery);
  }

  async deliverySite(deliveryId: string): Promise<string> {
    const row = await this.db.selectFrom('notification').select('siteId').where('id', '=', deliveryId).executeTakeFirst();
    if (!row) throw new QueueError('DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`, 404);
    return row.siteId;
  }

  /** "Send again": the same message, with the same key (a receiver that had it drops it), due now and for another lifetime. */
  async redeliver(deliveryId: string): Promise<Delivery> {
    const now = this.o.now();
    const row = await this.db.selectFrom('notification').selectAll().where('id', '=', deliveryId).executeTakeFirst();
    if (!row) throw new QueueError('DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`, 404);
    if (!row.address) throw new QueueError('DELIVERY_NOT_FOUND', 'This message\'s address was erased (retention): it cannot be sent again', 409);
    const life = LIFETIME_SECONDS[row.channel === 'webhook' ? 'webhook' : row.purpose as keyof typeof LIFETIME_SECONDS] ?? 3600;
    const updated = await this.db.updateTable('notification').set({
      status: 'pending', nextAttemptAt: now, expiresAt: new Date(now.getTime() + life * 1000), lockedUntil: null,
    }).where('id', '=', deliveryId).where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<', now)]))
      .returningAll().executeTakeFirst();
    this.o.wake();
    return delivery(updated ?? row);
  }

  // ---- leaders --------------------------------------------------------------------------

  async recipients(siteId: string): Promise<Recipient[]> {
    return await this.db.selectFrom('notificationRecipient').select(['id', 'name', 'channel', 'address', 'lang', 'topics', 'active'])
      .where('siteId', '=', siteId).orderBy('createdAt').execute() as Recipient[];
  }

  /** A leader, new or changed; in the audit log without the address (only whether it changed). */
  async saveRecipient(siteId: string, input: RecipientInput, by: AuditActor, recipientId?: string): Promise<Recipient> {
    await this.site(siteId);
    const values = { name: input.name.trim(), channel: input.channel, address: this.address(input.channel, input.address), lang: input.lang ?? 'vi', topics: input.topics, active: input.active ?? true };
    const columns = ['id', 'name', 'channel', 'address', 'lang', 'topics', 'active'] as const;
    const row = await this.db.transaction().execute(async (trx) => {
      const { address, ...shown } = values;
      if (!recipientId) {
        const made = await trx.insertInto('notificationRecipient').values({ siteId, ...values }).returning(columns).executeTakeFirstOrThrow();
        await this.o.audit.record({ actor: by, siteId, action: 'recipient.create', target: { type: 'recipient', id: made.id }, changes: { ...shown, address: CHANGED } }, trx);
        return made;
      }
      const before = await trx.selectFrom('notificationRecipient').select(columns).where('id', '=', recipientId).where('siteId', '=', siteId).forNoKeyUpdate().executeTakeFirst();
      if (!before) return undefined;
      const saved = await trx.updateTable('notificationRecipient').set(values).where('id', '=', recipientId).returning(columns).executeTakeFirstOrThrow();
      const changes = { ...diff(before, shown), ...(before.address !== address ? { address: CHANGED } : {}) };
      if (Object.keys(changes).length) {
        await this.o.audit.record({ actor: by, siteId, action: 'recipient.update', target: { type: 'recipient', id: recipientId }, changes }, trx);
      }
      return saved;
    });
    if (!row) throw new QueueError('RECIPIENT_NOT_FOUND', `No recipient ${recipientId}`, 404);
    return row as Recipient;
  }

  async recipientSite(recipientId: string): Promise<string> {
    const row = await this.db.selectFrom('notificationRecipient').select('siteId').where('id', '=', recipientId).executeTakeFirst();
    if (!row) throw new QueueError('RECIPIENT_NOT_FOUND', `No recipient ${recipientId}`, 404);
    return row.siteId;
  }

  async deleteRecipient(recipientId: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('notificationRecipient').where('id', '=', recipientId).returning(['siteId', 'name', 'channel']).executeTakeFirst();
      if (gone) {
        await this.o.audit.record({
          actor: by, siteId: gone.siteId, action: 'recipient.delete', target: { type: 'recipient', id: recipientId }, changes: { name: gone.name, channel: gone.channel },
        }, trx);
      }
    });
  }

  // ---- templates ------------------------------------------------------------------------

  async templates(siteId: string): Promise<Template[]> {
    const site = await this.site(siteId);
    const own = await this.db.selectFrom('notificationTemplate').selectAll().where('siteId', '=', siteId).execute();
    const wording = { siteName: site.name, templates: own };
    return TEMPLATE_PURPOSES.flatMap((purpose) => (['vi', 'en'] as const).map((lang) => {
      const w = wordingOf(wording, purpose, lang);
      return { purpose, lang, subject: w.subject, body: w.body, custom: w.custom, placeholders: [...PLACEHOLDERS[purpose]] };
    }));
  }

  async setTemplate(siteId: string, purpose: TemplatePurpose, lang: Lang, update: { subject?: string; body: string }, by: AuditActor): Promise<Template> {
    const before = (await this.templates(siteId)).find((t) => t.purpose === purpose && t.lang === lang);
    const values = { subject: update.subject?.trim() || null, body: update.body.trim(), updatedAt: this.o.now() };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('notificationTemplate').values({ siteId, purpose, lang, ...values })
        .onConflict((oc) => oc.columns(['siteId', 'purpose', 'lang']).doUpdateSet(values)).execute();
      const changes = diff({ subject: before?.subject ?? null, body: before?.body ?? null }, { subject: values.subject, body: values.body });
      if (Object.keys(changes).length) {
        await this.o.audit.record({ actor: by, siteId, action: 'template.update', target: { type: 'template', id: `${purpose}/${lang}` }, changes }, trx);
      }
    });
    return (await this.templates(siteId)).find((t) => t.purpose === purpose && t.lang === lang)!;
  }

  /** Back to the built-in wording. */
  async resetTemplate(siteId: string, purpose: TemplatePurpose, lang: Lang, by: AuditActor): Promise<Template> {
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('notificationTemplate').where('siteId', '=', siteId).where('purpose', '=', purpose).where('lang', '=', lang)
        .returning(['subject', 'body']).executeTakeFirst();
      if (gone) {
        await this.o.audit.record({
          actor: by, siteId, action: 'template.reset', target: { type: 'template', id: `${purpose}/${lang}` }, changes: { subject: gone.subject, body: gone.body },
        }, trx);
      }
    });
    return (await this.templates(siteId)).find((t) => t.purpose === purpose && t.lang === lang)!;
  }

  /** A text as a recipient would read it, with example values, and what it costs as an SMS. */
  async preview(siteId: string, input: { purpose: TemplatePurpose; lang: Lang; subject?: string; body: string }): Promise<TemplatePreview> {
    const site = await this.site(siteId);
    const sms = await this.db.selectFrom('notificationChannel').select('settings').where('siteId', '=', siteId).where('kind', '=', 'sms').executeTakeFirst();
    const price = typeof sms?.settings.pricePerSegment === 'number' ? sms.settings.pricePerSegment : null;
    const { subject, text, unknown } = render({ subject: input.subject ?? DEFAULT_TEMPLATES[input.purpose][input.lang].subject, body: input.body },
      input.purpose, { ...SAMPLE_PARAMS, site: site.name });
    const cost = (encoding: 'unaccented' | 'ucs2') => {
      const parts = smsParts(text, encoding);
      return { ...parts, cost: price === null ? null : smsCost(parts, price) };
    };
    return { subject, text, unknown, sms: { unaccented: cost('unaccented'), ucs2: cost('ucs2') } };
  }

  // ---- citizens -------------------------------------------------------------------------

  /**
   * A citizen's number for their ticket, given on the kiosk or the phone page with consent.
   * Kept until the site's retention ends (default: the end of its day), then erased by the
   * worker. A second number replaces the first.
   */
  async addContact(publicId: string, input: { phone: string; lang?: Lang }): Promise<ContactReply> {
    const ticket = await this.db.selectFrom('ticket').selectAll().where('publicId', '=', publicId).executeTakeFirst();
    if (!ticket) throw new QueueError('TICKET_NOT_FOUND', 'No such ticket', 404);
    if (ticket.status !== 'waiting' && ticket.status !== 'called') throw new QueueError('TICKET_NOT_LIVE', 'This ticket is no longer waiting', 409, { status: ticket.status });
    const site = await this.site(ticket.siteId);
    const settings = notificationSettings(site);
    const enabled = await this.db.selectFrom('notificationChannel').select('kind').where('siteId', '=', site.id).where('kind', '=', settings.citizenChannel)
      .where('enabled', '=', true).executeTakeFirst();
    if (!settings.offerPhone || !enabled) throw new QueueError('CONTACT_NOT_OFFERED', 'This centre does not send messages', 409);
    const phone = vietnameseMobile(input.phone);
    if (!phone) throw new QueueError('INVALID_PHONE', 'Not a Vietnamese mobile number (0912 345 678)', 400);
    const now = this.o.now();
    const eraseAfter = await this.retentionEnd(site, now);
    // already within the threshold: no "N ahead" (the citizen is about to be called anyway)
    const ahead = ticket.status === 'waiting' ? await repo.positionOf(this.db, ticket) : 0;
    const values = { phone, channel: settings.citizenChannel, lang: input.lang ?? (ticket.lang === 'en' ? 'en' : 'vi'), consentedAt: now, eraseAfter, aheadSent: ahead <= settings.aheadThreshold };
    await this.db.insertInto('ticketContact').values({ ticketId: ticket.id, siteId: site.id, ...values })
      .onConflict((oc) => oc.column('ticketId').doUpdateSet(values)).execute();
    return { phone: masked(phone, 'sms')!, channel: settings.citizenChannel, eraseAfter: isoInZone(eraseAfter, site.timezone) };
  }

  /** The citizen withdraws: the number is erased now. */
  async removeContact(publicId: string): Promise<void> {
    const ticket = await this.db.selectFrom('ticket').select('id').where('publicId', '=', publicId).executeTakeFirst();
    if (!ticket) throw new QueueError('TICKET_NOT_FOUND', 'No such ticket', 404);
    await this.db.deleteFrom('ticketContact').where('ticketId', '=', ticket.id).execute();
    await this.db.updateTable('notification').set({ address: null, status: sql`CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END` })
      .where('ticketId', '=', ticket.id).where('channel', 'in', ['sms', 'zalo']).execute();
  }

  private async retentionEnd(site: Awaited<ReturnType<NotificationService['site']>>, now: Date): Promise<Date> {
    const hours = notificationSettings(site).retentionHours;
    if (hours) return new Date(now.getTime() + hours * 3_600_000);
    const calendar = await repo.loadCalendar(this.db, site);
    return dayEndsAt(calendar, localDate(now, site.timezone), this.o.dayEndGraceSeconds);
  }

  // ---- the dossier system ---------------------------------------------------------------

  /** scopes: what the key may do; a key made without says only "result ready", as keys did before scopes */
  async createIntegrationKey(siteId: string, name: string, by: AuditActor, scopes: readonly IntegrationScope[] = ['dossier-results:write']) {
    await this.site(siteId);
    const key = `qmsk_${randomBytes(24).toString('base64url')}`;
    const row = await this.db.transaction().execute(async (trx) => {
      const made = await trx.insertInto('integrationKey').values({ siteId, name: name.trim(), keyHash: digest(key), scopes: [...scopes], createdAt: this.o.now() })
        .returning(['id', 'name', 'scopes']).executeTakeFirstOrThrow();
      await this.o.audit.record({
        actor: by, siteId, action: 'integration_key.create', target: { type: 'integration_key', id: made.id }, changes: { name: made.name, scopes: made.scopes, key: CHANGED },
      }, trx);
      return made;
    });
    return { id: row.id, name: row.name, scopes: row.scopes as IntegrationScope[], key };
  }

  async integrationKeys(siteId: string) {
    const rows = await this.db.selectFrom('integrationKey').select(['id', 'name', 'scopes', 'createdAt', 'lastUsedAt']).where('siteId', '=', siteId).orderBy('createdAt').execute();
    return rows.map((r) => ({
      id: r.id, name: r.name, scopes: r.scopes as IntegrationScope[], createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    }));
  }

  async deleteIntegrationKey(siteId: string, keyId: string, by: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('integrationKey').where('id', '=', keyId).where('siteId', '=', siteId).returning('name').executeTakeFirst();
      if (gone) {
        await this.o.audit.record({ actor: by, siteId, action: 'integration_key.delete', target: { type: 'integration_key', id: keyId }, changes: { name: gone.name } }, trx);
      }
    });
  }

  /**
   * What this key may do at the site: null when it is not one of the site's keys, else its
   * scopes. Marks it used.
   */
  async keyOfSite(key: string | undefined, siteId: string): Promise<IntegrationScope[] | null> {
    if (!key) return null;
    const row = await this.db.updateTable('integrationKey').set({ lastUsedAt: this.o.now() })
      .where('keyHash', '=', digest(key)).where('siteId', '=', siteId).returning('scopes').executeTakeFirst();
    return row ? row.scopes as IntegrationScope[] : null;
  }

  /**
   * "Your result is ready" (mã hồ sơ), to the citizen's phone (the site's citizen channel) and
   * email, written with the record of it in one transaction. The same dossier code again is
   * answered as before and sends nothing (the dossier system may retry). Without a phone or an
   * email it is only recorded: the dossier's record (GET /sites/:siteId/dossiers/:code) shows it.
   */
  async dossierResult(siteId: string, request: { dossierCode: string; phone?: string; email?: string; lang?: Lang; place?: string }) {
    const input = { ...request, dossierCode: normaliseDossierCode(request.dossierCode) };
    const site = await this.site(siteId);
    const settings = notificationSettings(site);
    const phone = input.phone === undefined ? null : vietnameseMobile(input.phone);
    if (input.phone !== undefined && !phone) throw new QueueError('INVALID_PHONE', 'Not a Vietnamese mobile number', 400);
    const enabled = new Set((await this.db.selectFrom('notificationChannel').select('kind').where('siteId', '=', siteId).where('enabled', '=', true).execute()).map((c) => c.kind));
    const targets = [
      ...(phone && enabled.has(settings.citizenChannel) ? [{ channel: settings.citizenChannel, address: phone }] : []),
      ...(input.email && enabled.has('email') ? [{ channel: 'email' as const, address: input.email }] : []),
    ];
    // an address no channel of the centre reaches is refused; no address at all only records it
    if ((phone || input.email) && !targets.length) throw new QueueError('CHANNEL_NOT_SET_UP', 'No channel of this centre can reach that address', 409);
    const now = this.o.now();
    const eraseAfter = new Date(now.getTime() + LIFETIME_SECONDS.dossier_ready * 1000 + 86_400_000);
    const templates = await this.db.selectFrom('notificationTemplate').selectAll().where('siteId', '=', siteId).execute();
    const lang = input.lang ?? 'vi';
    const text = messageText({ siteName: site.name, templates }, 'dossier_ready', lang,
      { dossierCode: input.dossierCode, place: input.place ?? (lang === 'vi' ? 'bộ phận trả kết quả' : 'the results desk') });
    const result = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto('dossierResult').values({ siteId, dossierCode: input.dossierCode, receivedAt: now, eraseAfter })
        .onConflict((oc) => oc.columns(['siteId', 'dossierCode']).doNothing()).returning('id').executeTakeFirst();
      if (!inserted) {
        const earlier = await trx.selectFrom('dossierResult').select('id').where('siteId', '=', siteId).where('dossierCode', '=', input.dossierCode).executeTakeFirstOrThrow();
        return { id: earlier.id, messages: 0, replayed: true };
      }
      if (targets.length) await trx.insertInto('notification').values(targets.map((t) => ({
        siteId, eventId: null, dedupeKey: `${inserted.id}:dossier:${t.channel}`, channel: t.channel, purpose: 'dossier_ready', address: t.address,
        eraseAfter, nextAttemptAt: now, createdAt: now, expiresAt: new Date(now.getTime() + LIFETIME_SECONDS.dossier_ready * 1000), ...text,
      }))).execute();
      return { id: inserted.id, messages: targets.length, replayed: false };
    });
    if (result.messages) this.o.wake();
    return { ...result, dossierCode: input.dossierCode };
  }

  private async site(siteId: string) {
    const site = await this.db.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
    if (!site) throw notFound('site', siteId);
    return site;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

function delivery(r: MessageRow): Delivery {
  return {
    id: r.id, eventId: r.eventId, status: r.status, attempts: r.attempts, lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
    ...(r.responseStatus !== null ? { responseStatus: r.responseStatus } : {}),
    channel: r.channel, purpose: r.purpose, ...(r.channel === 'webhook' ? { type: r.purpose } : {}),
    to: masked(r.address, r.channel), createdAt: r.createdAt.toISOString(), sentAt: r.sentAt?.toISOString() ?? null,
    nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt.toISOString() : null, latencyMs: r.latencyMs, lastError: r.lastError,
    segments: r.segments, cost: r.cost === null ? null : Number(r.cost),
  };
}
