import { sql, type Selectable } from 'kysely';
import type { Db, NotificationTable } from '@qms/db';
import { DeliveryError, type Channel, type ChannelKind, type MessagePurpose, type Outgoing, type Sent } from './channels/channel.ts';
import { createWebhookChannel } from './channels/webhook.ts';
import { RELAY_BATCH, type NotificationRelay } from './relay.ts';

// Delivers the messages the relay wrote, at least once, from any number of processes:
// - a message is claimed by a lease (FOR UPDATE SKIP LOCKED picks it, locked_until holds it):
//   two workers never send the same message at the same time, and a worker that dies mid-send
//   leaves it to another once the lease runs out. The recipient drops the second copy by the
//   message's key (its id, or the event id for webhooks), so what it sees is exactly once.
// - a failure is tried again with exponential back-off (the first retry within a minute), until
//   the message's lifetime ends (relay.ts LIFETIME_SECONDS): then it is failed, the dead letter.
// - a webhook delivery that dies raises an alert (API.md); a channel whose last attempts all
//   failed raises one alert until it works again.
// - every minute: citizens' numbers past their site's retention are erased, old rows purged.
// Sending happens outside any transaction and apart from the request path: a call never waits
// for a message.

type MessageRow = Selectable<NotificationTable>;
export type ChannelFactory = (kind: Exclude<ChannelKind, 'webhook'>, settings: Record<string, unknown>, secrets: Record<string, unknown>) => Channel;

export interface NotificationWorkerOptions {
  db: Db;
  now: () => Date;
  relay: NotificationRelay;
  buildChannel: ChannelFactory;
  /** alerts the worker raised, to publish to the managers' consoles */
  alertsRaised: (siteId: string, alertIds: string[]) => void;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** how often it looks without being woken (ms) */
  pollMs?: number;
  /** messages claimed at once */
  batch?: number;
  /** a claimed message is another worker's to retry after this (ms): longer than any send takes */
  leaseMs?: number;
  /** a webhook's answer must come within this (ms) */
  webhookTimeoutMs?: number;
}

const FIRST_RETRY_MS = 15_000;
const LONGEST_RETRY_MS = 3_600_000;
/** failed attempts in a row, with no success between, that make a channel "failing" */
const FAILING_AFTER = 3;
const FAILING_WINDOW = '15 minutes';
const MAINTENANCE_MS = 60_000;
const LAST_TRY_BEFORE_MS = 5 * 60_000;

/** The wait before attempt n+1, after n failed ones: 15 s, 30 s, 1 min ... up to an hour, ±20 %. */
export function retryDelayMs(attempts: number, random = Math.random()): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(attempts - 1, 0), LONGEST_RETRY_MS) * (0.8 + 0.4 * random);
}

export class NotificationWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private started = false;
  private stopped = false;
  private lastMaintenance = 0;
  private readonly abort = new AbortController();
  private readonly channels = new Map<string, { updatedAt: number; channel: Channel }>();
  private readonly o: Required<Omit<NotificationWorkerOptions, 'relay' | 'buildChannel' | 'alertsRaised' | 'log' | 'db' | 'now'>> & NotificationWorkerOptions;

  constructor(options: NotificationWorkerOptions) {
    this.o = { pollMs: 1000, batch: 20, leaseMs: 30_000, webhookTimeoutMs: 10_000, ...options };
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a round now (after a commit that may have written to the outbox), or right after the one under way. */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = undefined;
    });
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.runOnce();
      } catch (error) {
        if (!this.stopped) this.o.log.warn({ err: error }, 'notification round failed');
      }
    } while (this.again && !this.stopped);
  }

  /** One round: relay the outbox, deliver what is due until nothing is, and the minute's upkeep. */
  async runOnce(): Promise<{ relayed: number; delivered: number }> {
    let relayed = 0;
    // a batch short of the limit took every fact there was; one committed since woke this worker again
    for (let n = RELAY_BATCH; n === RELAY_BATCH;) relayed += n = await this.o.relay.relay(RELAY_BATCH);
    let delivered = 0;
    for (let n; !this.stopped && (n = await this.deliver()) > 0;) delivered += n;
    if (Date.now() - this.lastMaintenance >= MAINTENANCE_MS) {
      this.lastMaintenance = Date.now();
      await this.upkeep();
    }
    return { relayed, delivered };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
    await Promise.all([...this.channels.values()].map((c) => c.channel.close().catch(() => {})));
    this.channels.clear();
  }

  /** Claims and sends one batch of due messages; returns how many it claimed. */
  private async deliver(): Promise<number> {
    const { db } = this.o;
    const now = this.o.now();
    await this.expire(now);
    const claimed = await sql<MessageRow>`
      UPDATE notification SET locked_until = ${new Date(now.getTime() + this.o.leaseMs)}, attempts = attempts + 1, last_attempt_at = ${now}
      WHERE id IN (
        SELECT id FROM notification
        WHERE status = 'pending' AND next_attempt_at <= ${now} AND expires_at > ${now} AND (locked_until IS NULL OR locked_until < ${now})
        ORDER BY next_attempt_at LIMIT ${this.o.batch}
        FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(db);
    // kysely's plugins do not apply to raw SQL: map the columns once
    const rows = claimed.rows.map(camel);
    await Promise.all(rows.map((row) => this.send(row)));
    return rows.length;
  }

  private async send(row: MessageRow): Promise<void> {
    const { db } = this.o;
    if (await this.noLongerTrue(row)) {
      await db.updateTable('notification').set({ status: 'cancelled', lockedUntil: null, lastError: 'no longer true when due' }).where('id', '=', row.id).execute();
      return;
    }
    const started = performance.now();
    let sent: Sent;
    try {
      const channel = await this.channelFor(row);
      sent = await channel.send(outgoing(row), this.abort.signal);
    } catch (error) {
      await this.failed(row, error, Math.round(performance.now() - started));
      return;
    }
    const latencyMs = Math.round(performance.now() - started);
    const at = this.o.now();
    await db.updateTable('notification').set({
      status: 'sent', sentAt: at, lockedUntil: null, latencyMs, lastError: null,
      responseStatus: sent.responseStatus ?? null, providerId: sent.providerId ?? null,
      segments: sent.segments ?? null, cost: sent.cost === undefined ? null : String(sent.cost),
    }).where('id', '=', row.id).execute();
    await this.channelWorks(row);
  }

  private async failed(row: MessageRow, error: unknown, latencyMs: number): Promise<void> {
    const retryable = error instanceof DeliveryError ? error.retryable : true;
    const responseStatus = error instanceof DeliveryError ? error.responseStatus ?? null : null;
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    // the last try falls a little before the end of the message's lifetime (a tenth of it, five
    // minutes at most), so a worker that looks now and then still makes it
    const now = this.o.now().getTime();
    const lastTry = row.expiresAt.getTime() - Math.min(LAST_TRY_BEFORE_MS, (row.expiresAt.getTime() - row.createdAt.getTime()) / 10);
    const next = new Date(Math.min(now + retryDelayMs(row.attempts), lastTry));
    const dead = !retryable || now >= lastTry;
    await this.o.db.updateTable('notification').set({
      status: dead ? 'failed' : 'pending', nextAttemptAt: next, lockedUntil: null, lastError: reason, responseStatus, latencyMs,
    }).where('id', '=', row.id).execute();
    this.o.log.warn({ messageId: row.id, channel: row.channel, purpose: row.purpose, attempts: row.attempts, dead, err: reason }, 'a message was not delivered');
    if (dead) await this.dead([{ ...row, lastError: reason }]);
    await this.maybeFailing(row, reason);
  }

  /** Messages whose time ran out unsent (their retries, or a long stop of every worker). */
  private async expire(now: Date): Promise<void> {
    const rows = await this.o.db.updateTable('notification').set({ status: 'failed', lastError: sql`coalesce(last_error, 'expired before it could be sent')` })
      .where('status', '=', 'pending').where('expiresAt', '<=', now)
      .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<', now)]))
      .returningAll().execute();
    if (rows.length) await this.dead(rows);
  }

  /** A dead webhook delivery raises an alert for the site's managers (API.md). */
  private async dead(rows: MessageRow[]): Promise<void> {
    for (const row of rows.filter((r) => r.channel === 'webhook')) {
      const alert = await this.o.db.insertInto('alert').values({
        siteId: row.siteId, kind: 'webhook_failed', counterId: null, staffId: null, ticketId: null, deviceId: null,
        data: JSON.stringify({ channel: 'webhook', webhookId: row.webhookId, url: row.address, eventId: row.eventId, deliveryId: row.id, reason: row.lastError }),
        createdAt: this.o.now(), acknowledgedAt: null, acknowledgedBy: null,
      }).returning('id').executeTakeFirstOrThrow();
      this.o.alertsRaised(row.siteId, [alert.id]);
    }
  }

  /** FAILING_AFTER failed attempts in a row on a channel: one alert, until it works again. */
  private async maybeFailing(row: MessageRow, reason: string): Promise<void> {
    const { db } = this.o;
    const recent = await db.selectFrom('notification').select(['status', 'lastError'])
      .where('siteId', '=', row.siteId).where('channel', '=', row.channel)
      .where('lastAttemptAt', '>', sql<Date>`${this.o.now()}::timestamptz - ${FAILING_WINDOW}::interval`)
      .orderBy('lastAttemptAt', 'desc').limit(FAILING_AFTER).execute();
    if (recent.length < FAILING_AFTER || recent.some((r) => r.status === 'sent' || r.lastError === null)) return;
    const alertId = await raiseChannelFailing(db, row.siteId, row.channel, reason, this.o.now());
    if (alertId) this.o.alertsRaised(row.siteId, [alertId]);
  }

  private async channelWorks(row: MessageRow): Promise<void> {
    await sql`UPDATE alert SET data = data || jsonb_build_object('clearedAt', ${this.o.now().toISOString()}::text)
      WHERE site_id = ${row.siteId} AND kind = 'channel_failing' AND data->>'channel' = ${row.channel} AND NOT jsonb_exists(data, 'clearedAt')`.execute(this.o.db);
  }

  /** A leader's "long wait" waits for its threshold: if the wait ended meanwhile, it is not sent. */
  private async noLongerTrue(row: MessageRow): Promise<boolean> {
    if (row.purpose !== 'leader_wait' || !row.params.alertId) return false;
    const alert = await this.o.db.selectFrom('alert').select('data').where('id', '=', row.params.alertId).executeTakeFirst();
    return !alert || typeof alert.data.clearedAt === 'string';
  }

  private async channelFor(row: MessageRow): Promise<Channel> {
    if (row.channel === 'webhook') {
      const hook = row.webhookId ? await this.o.db.selectFrom('webhook').select(['secret', 'active']).where('id', '=', row.webhookId).executeTakeFirst() : undefined;
      if (!hook?.active) throw new DeliveryError('the webhook was deleted or turned off', { retryable: false });
      return createWebhookChannel(hook.secret, this.o.webhookTimeoutMs);
    }
    const settings = await this.o.db.selectFrom('notificationChannel').selectAll().where('siteId', '=', row.siteId).where('kind', '=', row.channel).executeTakeFirst();
    if (!settings?.enabled) throw new DeliveryError(`the site's ${row.channel} channel is not set up or turned off`, { retryable: false });
    const key = `${row.siteId}:${row.channel}`;
    const cached = this.channels.get(key);
    if (cached && cached.updatedAt === settings.updatedAt.getTime()) return cached.channel;
    await cached?.channel.close().catch(() => {});
    const channel = this.o.buildChannel(settings.kind, settings.settings, settings.secrets);
    this.channels.set(key, { updatedAt: settings.updatedAt.getTime(), channel });
    return channel;
  }

  /** Erases citizens' numbers past retention (Decree 13/2023/NĐ-CP), and drops old rows. */
  async upkeep(): Promise<{ contacts: number; addresses: number }> {
    const { db } = this.o;
    const now = this.o.now();
    const contacts = await db.deleteFrom('ticketContact').where('eraseAfter', '<=', now).executeTakeFirst();
    const addresses = await db.updateTable('notification').set({ address: null, eraseAfter: null })
      .where('eraseAfter', '<=', now).where('status', '<>', 'pending').executeTakeFirst();
    await db.deleteFrom('dossierResult').where('eraseAfter', '<=', now).execute();
    await db.deleteFrom('outbox').where('relayedAt', '<', new Date(now.getTime() - 7 * 86_400_000)).execute();
    await db.deleteFrom('notification').where('createdAt', '<', new Date(now.getTime() - 90 * 86_400_000)).where('status', '<>', 'pending').execute();
    return { contacts: Number(contacts.numDeletedRows), addresses: Number(addresses.numUpdatedRows) };
  }
}

function outgoing(row: MessageRow): Outgoing {
  if (!row.address) throw new DeliveryError('the address was erased', { retryable: false });
  return {
    key: row.channel === 'webhook' ? row.eventId ?? row.id : row.id, to: row.address, purpose: row.purpose as MessagePurpose,
    lang: row.lang === 'en' ? 'en' : 'vi', text: row.body ?? '', params: row.params, ...(row.subject ? { subject: row.subject } : {}),
  };
}

const camel = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v])) as unknown as MessageRow;

/**
 * Raises the site's "channel failing" alert of this channel, unless one is open: one open per site
 * and channel (alert_channel_failing_open_idx), however many deliveries fail at the same instant.
 * The new alert's id, or null when one was open already.
 */
export async function raiseChannelFailing(db: Db, siteId: string, channel: string, reason: string, at: Date): Promise<string | null> {
  const alert = await sql<{ id: string }>`
    INSERT INTO alert (site_id, kind, data, created_at)
    VALUES (${siteId}, 'channel_failing', jsonb_build_object('channel', ${channel}::text, 'reason', ${reason}::text), ${at})
    ON CONFLICT (site_id, (data->>'channel')) WHERE kind = 'channel_failing' AND NOT jsonb_exists(data, 'clearedAt') DO NOTHING
    RETURNING id`.execute(db);
  return alert.rows[0]?.id ?? null;
}
