import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { Database, Db, NotificationTable, OutboxTable, SiteRow, TicketContactTable } from '@qms/db';
import type { Alert, LeaderTopic, NotificationSettings } from '@qms/protocol';
import { wallClock } from '@qms/protocol/calendar';
import type { AlertService } from '../alerts/alert.service.ts';
import { isoInZone } from '../queue/time.ts';
import * as repo from '../queue/queue.repository.ts';
import type { MessagePurpose } from './channels/channel.ts';
import { notificationSettings } from './settings.ts';
import { messageText, type SiteWording } from './wording.ts';

// The outbox's relay: turns each fact the triggers wrote (db/src/functions/qms_outbox.ts) into
// the messages it causes, in one transaction that also marks the fact relayed. So a fact is
// relayed once however many processes run the relay (FOR UPDATE SKIP LOCKED), and a crash
// between the two leaves the fact to relay again, whose messages dedupe_key then keeps single.
// - webhooks: every event type a site's webhook subscribed to;
// - citizens: "called to counter X" and, on a recall, a reminder before the no-show; and
//   "N people ahead" once, when a waiting ticket with a number comes within the threshold;
// - leaders: complaints, waits past target (by the threshold), device faults, by their topics.

type Trx = Transaction<Database>;
type OutboxRow = Selectable<OutboxTable>;
export type NewMessage = Insertable<NotificationTable>;
/** A citizen's contact on a called ticket, with the ticket's code. */
type Contact = Pick<Selectable<TicketContactTable>, 'ticketId' | 'phone' | 'channel' | 'lang' | 'eraseAfter'> & { code: string };

/** outbox facts relayed in one transaction */
export const RELAY_BATCH = 200;

/** How long a message is worth trying: a call is old news in minutes, a webhook is promised a day. */
export const LIFETIME_SECONDS: Record<MessagePurpose | 'webhook', number> = {
  webhook: 25 * 3600,
  ticket_called: 10 * 60,
  ticket_reminder: 10 * 60,
  ticket_ahead: 15 * 60,
  dossier_ready: 24 * 3600,
  leader_complaint: 3600,
  leader_wait: 3600,
  leader_device: 3600,
  channel_test: 60,
  // a one-time code is worth nothing after it expires; a reminder after the slot
  booking_code: 10 * 60,
  booking_confirmed: 3600,
  booking_reminder: 3600,
  remote_ticket: 15 * 60,
};

const TOPIC_OF_KIND: Record<string, LeaderTopic> = {
  criticism: 'complaint', low_rating: 'complaint', wait_over_target: 'wait', printer: 'device', device_offline: 'device',
};
const PURPOSE_OF_TOPIC: Record<LeaderTopic, MessagePurpose> = { complaint: 'leader_complaint', wait: 'leader_wait', device: 'leader_device' };

/** What the relay needs of a site, read once a batch. */
interface SiteContext {
  site: SiteRow;
  settings: NotificationSettings;
  wording: SiteWording;
  channels: Set<string>;
  webhooks: { id: string; url: string; events: string[] }[];
  recipients: { id: string; channel: string; address: string; lang: string; topics: string[] }[];
}

export class NotificationRelay {
  constructor(private readonly db: Db, private readonly now: () => Date, private readonly alerts: Pick<AlertService, 'describe'>,
    private readonly log: { warn(obj: object, msg: string): void }) {}

  /** Relays up to `limit` facts; returns how many. A fact that cannot be relayed is logged and set aside, never retried forever. */
  async relay(limit = RELAY_BATCH): Promise<number> {
    try {
      return await this.db.transaction().execute((trx) => this.relayIn(trx, limit));
    } catch (error) {
      // one bad fact must not hold the others back: one at a time, and the bad one set aside
      this.log.warn({ err: error }, 'the outbox relay failed on a batch; relaying one at a time');
      let relayed = 0;
      for (;;) {
        try {
          const n = await this.db.transaction().execute((trx) => this.relayIn(trx, 1));
          if (!n) return relayed;
          relayed += n;
        } catch (single) {
          await this.setAside(single);
          relayed += 1;
        }
      }
    }
  }

  private async setAside(error: unknown): Promise<void> {
    const row = await this.db.selectFrom('outbox').select(['id', 'type']).where('relayedAt', 'is', null).orderBy('seq').limit(1).executeTakeFirst();
    if (!row) return;
    this.log.warn({ err: error, outboxId: row.id, type: row.type }, 'an outbox fact could not be relayed: set aside');
    await this.db.updateTable('outbox').set({ relayedAt: this.now(), data: sql`data || jsonb_build_object('relayError', ${String((error as Error)?.message ?? error)}::text)` })
      .where('id', '=', row.id).execute();
  }

  private async relayIn(trx: Trx, limit: number): Promise<number> {
    const rows = await trx.selectFrom('outbox').selectAll().where('relayedAt', 'is', null).orderBy('seq').limit(limit)
      .forUpdate().skipLocked().execute();
    if (!rows.length) return 0;
    const now = this.now();
    const contexts = new Map<string, SiteContext>();
    const messages: NewMessage[] = [];
    const ticketSites = new Set<string>();
    for (const row of rows) if (!contexts.has(row.siteId)) contexts.set(row.siteId, await this.context(trx, row.siteId));
    const contacts = await this.contactsOf(trx, rows.filter((r) => r.type === 'ticket:called' && contexts.get(r.siteId)!.channels.size));
    for (const row of rows) {
      messages.push(...await this.messagesOf(trx, row, contexts.get(row.siteId)!, contacts, now));
      if (row.type.startsWith('ticket:')) ticketSites.add(row.siteId);
    }
    // "N people ahead" goes through a citizen channel: a site with none has nothing to look at
    for (const siteId of ticketSites) {
      const context = contexts.get(siteId)!;
      if (context.channels.size) messages.push(...await this.aheadMessages(trx, context, now));
    }
    if (messages.length) await trx.insertInto('notification').values(messages).onConflict((oc) => oc.column('dedupeKey').doNothing()).execute();
    await trx.updateTable('outbox').set({ relayedAt: now }).where('id', 'in', rows.map((r) => r.id)).execute();
    return rows.length;
  }

  /** A site's notification settings, channels, webhooks, recipients and templates, in one round trip per site and batch. */
  private async context(trx: Trx, siteId: string): Promise<SiteContext> {
    const { rows } = await sql<SiteRow & {
      contextChannels: string[]; contextWebhooks: SiteContext['webhooks']; contextRecipients: SiteContext['recipients'];
      contextTemplates: SiteWording['templates'];
    }>`
      SELECT s.*,
        (SELECT coalesce(json_agg(c.kind), '[]') FROM notification_channel c WHERE c.site_id = s.id AND c.enabled) AS context_channels,
        (SELECT coalesce(json_agg(json_build_object('id', w.id, 'url', w.url, 'events', w.events)), '[]')
          FROM webhook w WHERE w.site_id = s.id AND w.active) AS context_webhooks,
        (SELECT coalesce(json_agg(json_build_object('id', r.id, 'channel', r.channel, 'address', r.address, 'lang', r.lang, 'topics', r.topics)), '[]')
          FROM notification_recipient r WHERE r.site_id = s.id AND r.active) AS context_recipients,
        (SELECT coalesce(json_agg(json_build_object('purpose', t.purpose, 'lang', t.lang, 'subject', t.subject, 'body', t.body)), '[]')
          FROM notification_template t WHERE t.site_id = s.id) AS context_templates
      FROM site s WHERE s.id = ${siteId}`.execute(trx);
    if (!rows[0]) throw new Error(`no site ${siteId}`);
    const { contextChannels, contextWebhooks, contextRecipients, contextTemplates, ...site } = rows[0];
    return {
      site, settings: notificationSettings(site), wording: { siteName: site.name, templates: contextTemplates },
      channels: new Set(contextChannels), webhooks: contextWebhooks, recipients: contextRecipients,
    };
  }

  private async messagesOf(trx: Trx, row: OutboxRow, context: SiteContext, contacts: Map<string, Contact>, now: Date): Promise<NewMessage[]> {
    const subscribed = context.webhooks.filter((w) => w.events.includes(row.type));
    const out: NewMessage[] = [];
    if (subscribed.length) {
      const body = JSON.stringify({ id: row.id, type: row.type, occurredAt: isoInZone(row.occurredAt, context.site.timezone), siteId: row.siteId, data: await this.webhookData(trx, row, context) });
      for (const w of subscribed) {
        out.push(message(now, 'webhook', {
          siteId: row.siteId, eventId: row.id, dedupeKey: `${row.id}:webhook:${w.id}`, channel: 'webhook', purpose: row.type,
          webhookId: w.id, ticketId: row.ticketId, address: w.url, body,
        }));
      }
    }
    const event = row.data.event;
    const contact = row.type === 'ticket:called' && row.ticketId ? contacts.get(row.ticketId) : undefined;
    if (contact) out.push(...await this.citizenCalled(trx, row, context, contact, event === 'recalled', now));
    if (row.type === 'alert:raised') out.push(...await this.leaderMessages(trx, row, context, now));
    return out;
  }

  /** The ticket as the event left it (status and counter of that moment), for webhooks. */
  private async webhookData(trx: Trx, row: OutboxRow, context: SiteContext): Promise<Record<string, unknown>> {
    const tz = context.site.timezone;
    if (row.type.startsWith('ticket:') && row.ticketId) {
      const d = row.data as { event: string; status: string; fromStatus: string | null; serviceId: string; counterId: string | null; staffId: string | null };
      const t = await trx.selectFrom('ticket').innerJoin('service', 'service.id', 'ticket.issuedServiceId')
        .select(['ticket.id', 'ticket.code', 'ticket.priority', 'ticket.channel', 'ticket.issuedAt', 'ticket.localDate', 'service.code as issuedServiceCode'])
        .where('ticket.id', '=', row.ticketId).executeTakeFirstOrThrow();
      const [service, counter, about] = await Promise.all([
        trx.selectFrom('service').select(['id', 'code', 'name']).where('id', '=', d.serviceId).executeTakeFirst(),
        d.counterId ? trx.selectFrom('counter').select(['id', 'number', 'name']).where('id', '=', d.counterId).executeTakeFirst() : undefined,
        this.visitCodes(trx, row.ticketId),
      ]);
      return {
        event: d.event, recall: d.event === 'recalled',
        ticket: {
          id: t.id, code: t.code, status: d.status, previousStatus: d.fromStatus, priority: t.priority, channel: t.channel,
          localDate: t.localDate, issuedAt: isoInZone(t.issuedAt, tz), service: service ?? null, counter: counter ?? null, staffId: d.staffId,
          ...about,
        },
      };
    }
    // the ticket's code, procedures and dossiers, so the dossier system can file a rating or a criticism
    const ticket = row.ticketId ? await this.ticketRef(trx, row.ticketId) : null;
    if (row.type === 'rating:created') return { rating: { id: row.sourceId, ticketId: row.ticketId, ...row.data }, ticket };
    if (row.type === 'dossier:recorded') {
      const d = row.data as { dossierCode: string; direction: string; staffId: string | null };
      return { dossier: { id: row.sourceId, dossierCode: d.dossierCode, direction: d.direction, recordedAt: isoInZone(row.occurredAt, tz), staffId: d.staffId }, ticket };
    }
    const [alert] = await this.describeAlert(trx, row.sourceId);
    return { alert: alert ?? null, ...(ticket ? { ticket } : {}) };
  }

  /** The procedures and dossier codes on a ticket when its event is relayed. */
  private async visitCodes(trx: Trx, ticketId: string) {
    const [procedures, dossiers] = await Promise.all([
      trx.selectFrom('ticketProcedure').select(['procedureCode as code', 'procedureName as name']).where('ticketId', '=', ticketId).orderBy('addedAt').execute(),
      trx.selectFrom('ticketDossier').select(['dossierCode', 'direction']).where('ticketId', '=', ticketId).orderBy('recordedAt').execute(),
    ]);
    return { procedures, dossiers };
  }

  private async ticketRef(trx: Trx, ticketId: string) {
    const [t, codes] = await Promise.all([
      trx.selectFrom('ticket').select(['id', 'code', 'localDate']).where('id', '=', ticketId).executeTakeFirst(),
      this.visitCodes(trx, ticketId),
    ]);
    return t ? { ...t, ...codes } : null;
  }

  private async describeAlert(trx: Trx, alertId: string): Promise<Alert[]> {
    const rows = await trx.selectFrom('alert').selectAll().where('id', '=', alertId).execute();
    return this.alerts.describe(rows);
  }

  /**
   * The citizens' contacts of a batch's calls, in one statement (none at a site without a citizen
   * channel: a call there is relayed with no read at all, as at most sites of a province).
   */
  private async contactsOf(trx: Trx, called: OutboxRow[]): Promise<Map<string, Contact>> {
    const ids = [...new Set(called.flatMap((r) => (r.ticketId ? [r.ticketId] : [])))];
    if (!ids.length) return new Map();
    const rows = await trx.selectFrom('ticketContact').innerJoin('ticket', 'ticket.id', 'ticketContact.ticketId')
      .select(['ticketContact.ticketId', 'ticketContact.phone', 'ticketContact.channel', 'ticketContact.lang', 'ticketContact.eraseAfter', 'ticket.code'])
      .where('ticketContact.ticketId', 'in', ids).execute();
    return new Map(rows.map((c) => [c.ticketId, c]));
  }

  private async citizenCalled(trx: Trx, row: OutboxRow, context: SiteContext, contact: Contact, recall: boolean, now: Date): Promise<NewMessage[]> {
    if (!context.channels.has(contact.channel)) return [];
    const counterId = row.data.counterId as string | null;
    const counter = counterId ? await trx.selectFrom('counter').select(['number', 'name']).where('id', '=', counterId).executeTakeFirst() : undefined;
    const service = await trx.selectFrom('service').select('name').where('id', '=', row.data.serviceId as string).executeTakeFirst();
    const purpose: MessagePurpose = recall ? 'ticket_reminder' : 'ticket_called';
    const lang = contact.lang === 'en' ? 'en' : 'vi';
    const params = { code: contact.code, counter: counter ? String(counter.number) : '', service: localized(service?.name, lang) };
    return [message(now, purpose, {
      siteId: row.siteId, eventId: row.id, dedupeKey: `${row.id}:contact`, channel: contact.channel, purpose, ticketId: row.ticketId,
      address: contact.phone, eraseAfter: contact.eraseAfter, ...messageText(context.wording, purpose, lang, params),
    })];
  }

  /** "N people ahead": once per ticket, when it comes within the site's threshold. */
  private async aheadMessages(trx: Trx, context: SiteContext, now: Date): Promise<NewMessage[]> {
    const waiting = await trx.selectFrom('ticketContact').innerJoin('ticket', 'ticket.id', 'ticketContact.ticketId')
      .select(['ticket.id', 'ticket.serviceId', 'ticket.priorityRank', 'ticket.queuedAt', 'ticket.issuedAt', 'ticket.number', 'ticket.bookingKind', 'ticket.code',
        'ticketContact.phone', 'ticketContact.channel', 'ticketContact.lang', 'ticketContact.eraseAfter'])
      .where('ticketContact.siteId', '=', context.site.id).where('ticket.status', '=', 'waiting').where('ticketContact.aheadSent', '=', false)
      .execute();
    const out: NewMessage[] = [];
    for (const t of waiting) {
      if (!context.channels.has(t.channel)) continue;
      const ahead = await repo.positionOf(trx, t);
      if (ahead > context.settings.aheadThreshold) continue;
      const service = await trx.selectFrom('service').select('name').where('id', '=', t.serviceId).executeTakeFirst();
      const lang = t.lang === 'en' ? 'en' : 'vi';
      await trx.updateTable('ticketContact').set({ aheadSent: true }).where('ticketId', '=', t.id).execute();
      out.push(message(now, 'ticket_ahead', {
        siteId: context.site.id, eventId: null, dedupeKey: `${t.id}:ahead`, channel: t.channel, purpose: 'ticket_ahead', ticketId: t.id,
        address: t.phone, eraseAfter: t.eraseAfter,
        ...messageText(context.wording, 'ticket_ahead', lang, { code: t.code, ahead: String(ahead), service: localized(service?.name, lang) }),
      }));
    }
    return out;
  }

  private async leaderMessages(trx: Trx, row: OutboxRow, context: SiteContext, now: Date): Promise<NewMessage[]> {
    const topic = TOPIC_OF_KIND[row.data.kind as string];
    if (!topic) return [];
    const recipients = context.recipients.filter((r) => r.topics.includes(topic) && context.channels.has(r.channel));
    if (!recipients.length) return [];
    const [alert] = await this.describeAlert(trx, row.sourceId);
    if (!alert) return [];
    const purpose = PURPOSE_OF_TOPIC[topic];
    // a wait is worth a leader's phone only once it is well past its target: the message waits
    // for the threshold and is cancelled if the wait has ended by then (worker.ts)
    const due = topic === 'wait' ? new Date(row.occurredAt.getTime() + context.settings.leaderWaitOverMinutes * 60_000) : now;
    return recipients.map((r) => {
      const lang = r.lang === 'en' ? 'en' : 'vi';
      const params = leaderParams(alert, lang, context, topic === 'wait' ? due : row.occurredAt);
      const m = message(due, purpose, {
        siteId: row.siteId, eventId: row.id, dedupeKey: `${row.id}:recipient:${r.id}`, channel: r.channel as NewMessage['channel'], purpose,
        recipientId: r.id, ticketId: row.ticketId, address: r.address, ...messageText(context.wording, purpose, lang, params),
        params: { ...params, alertId: alert.id },
      });
      return m;
    });
  }
}

function message(due: Date, purpose: MessagePurpose | 'webhook' | string, fields: Omit<NewMessage, 'nextAttemptAt' | 'expiresAt' | 'createdAt'>): NewMessage {
  const life = LIFETIME_SECONDS[purpose as MessagePurpose] ?? LIFETIME_SECONDS.webhook;
  return { ...fields, nextAttemptAt: due, createdAt: due, expiresAt: new Date(due.getTime() + life * 1000) };
}

const localized = (name: unknown, lang: 'vi' | 'en') =>
  (name && typeof name === 'object' ? String((name as Record<string, string>)[lang] ?? (name as Record<string, string>).vi ?? '') : '');

const KIND_WORDS: Record<string, { vi: string; en: string }> = {
  criticism: { vi: 'Phản ánh của người dân', en: 'A citizen\'s criticism' },
  low_rating: { vi: 'Đánh giá không hài lòng', en: 'A dissatisfied rating' },
  paper_out: { vi: 'máy in hết giấy', en: 'the printer is out of paper' },
  offline: { vi: 'mất kết nối', en: 'offline' },
  error: { vi: 'máy in lỗi', en: 'the printer failed' },
};

function leaderParams(alert: Alert, lang: 'vi' | 'en', context: SiteContext, at: Date): Record<string, string> {
  const w = wallClock(at, context.site.timezone);
  const base = { time: `${w.hour}:${w.minute}`, counter: alert.counter ? String(alert.counter.number) : '—', staff: alert.staff?.displayName ?? '—' };
  if (alert.kind === 'wait_over_target') {
    const target = Math.round((alert.targetWaitSeconds ?? 0) / 60);
    return { ...base, service: alert.service ? alert.service.name[lang] : '', targetMinutes: String(target), waitMinutes: String(target + context.settings.leaderWaitOverMinutes) };
  }
  if (alert.kind === 'printer' || alert.kind === 'device_offline') {
    const problem = alert.kind === 'device_offline' ? KIND_WORDS.offline![lang] : (KIND_WORDS[alert.reason ?? 'error'] ?? KIND_WORDS.error!)[lang];
    return { ...base, device: alert.device?.name ?? alert.deviceId ?? '', problem };
  }
  const score = alert.score !== null ? ` (${alert.score}★${alert.reason ? `, ${alert.reason}` : ''})` : '';
  return { ...base, what: `${KIND_WORDS[alert.kind]?.[lang] ?? alert.kind}${score}`, comment: alert.comment ? `"${alert.comment}"` : '' };
}
