import { sql, type Selectable, type Transaction } from 'kysely';
import type { AlertTable, Database, Db } from '@qms/db';
import type { Alert } from '@qms/protocol';
import type { AlertService } from '../alerts/alert.service.ts';
import { event, type DomainEvent } from '../queue/queue.events.ts';
import { loadCalendar } from '../queue/queue.repository.ts';
import { openingState } from '@qms/protocol/calendar';

// The periodic check behind the alerts nobody presses a button for:
// - wait_over_target: a service's longest wait went past its target. One alert per crossing:
//   raised when the longest wait crosses the target, cleared (data.clearedAt) when it falls back
//   to the target or below (the late ticket was called, the queue emptied); a new crossing
//   after that is a new alert. Acknowledging does not end a crossing.
// - device_offline: a paired device has not been connected for `offlineAfterMs` while its
//   site is open. Connected devices are marked seen on every tick by the process holding their
//   socket (and on connect / disconnect by realtime), so "last seen" works with several
//   processes. Cleared when the device is seen again or revoked.
// - alerts inserted where nothing can publish them (a kiosk printer failing, a low rating from
//   the phone page) are picked up here and published once (data.published marks them).
//
// Every process runs the timer; one at a time does the work (a transaction-level advisory
// lock), so two processes never raise the same crossing twice.

type AlertRow = Selectable<AlertTable>;
type Trx = Transaction<Database>;

export interface SiteMonitorOptions {
  db: Db;
  now: () => Date;
  /** describes the alerts it raises */
  alerts: Pick<AlertService, 'describe'>;
  publish: (events: DomainEvent[]) => void;
  /** devices with a socket on this process */
  connectedDeviceIds: () => string[];
  /** a device not seen for this long while its site is open is offline; default 2 minutes */
  offlineAfterMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

/** This feature's key for pg_try_advisory_xact_lock (any number nobody else uses): "qmsmon". */
const LOCK_KEY = 0x716d736d6f6e;

/** Alerts older than this are never swept up for publishing (a restart does not replay a week). */
const SWEEP_WINDOW_MS = 60 * 60_000;

export class SiteMonitor {
  private readonly alerts: Pick<AlertService, 'describe'>;
  private readonly offlineAfterMs: number;

  constructor(private readonly options: SiteMonitorOptions) {
    this.alerts = options.alerts;
    this.offlineAfterMs = options.offlineAfterMs ?? 120_000;
  }

  /** One check: raises, clears and publishes. Returns the alerts it published. */
  async tick(): Promise<Alert[]> {
    const { db, now } = this.options;
    const at = now();
    const connected = this.options.connectedDeviceIds();
    if (connected.length) {
      await db.updateTable('device').set({ lastSeenAt: at }).where('id', 'in', connected).where('revokedAt', 'is', null).execute();
    }
    const rows = await db.transaction().execute(async (trx) => {
      const { rows: [lock] } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${sql.lit(LOCK_KEY)}::bigint) AS locked`.execute(trx);
      if (!lock?.locked) return [];
      return [...await this.checkWaits(trx, at), ...await this.checkDevices(trx, at), ...await this.sweep(trx, at)];
    });
    const alerts = await this.alerts.describe(rows);
    if (alerts.length) this.options.publish(alerts.map((alert) => event('alert:raised', alert.siteId, { alert })));
    return alerts;
  }

  private async checkWaits(trx: Trx, at: Date): Promise<AlertRow[]> {
    // the longest waiting ticket of every service that has one (ticket_waiting_idx); a booked or
    // remote ticket has waited since its check-in, not since its place in line (counter-desk's waitingSince)
    const { rows: waiting } = await sql<{ serviceId: string; siteId: string; target: number; ticketId: string; queuedAt: Date }>`
      SELECT DISTINCT ON (t.service_id) t.service_id AS "serviceId", s.site_id AS "siteId", s.target_wait_seconds AS target,
        t.id AS "ticketId", w.since AS "queuedAt"
      FROM ticket t JOIN service s ON s.id = t.service_id,
        LATERAL (SELECT CASE WHEN t.booking_kind IS NOT NULL AND t.transfer_count = 0 THEN t.issued_at ELSE t.queued_at END AS since) w
      WHERE t.status = 'waiting'
      ORDER BY t.service_id, w.since, t.id`.execute(trx);
    const open = await this.openAlerts(trx, 'wait_over_target');
    const openByService = new Map(open.map((a) => [String(a.data.serviceId), a]));
    const raised: AlertRow[] = [];
    const over = new Set<string>();
    for (const w of waiting) {
      const waitSeconds = (at.getTime() - new Date(w.queuedAt).getTime()) / 1000;
      if (w.target <= 0 || waitSeconds <= w.target) continue;
      over.add(w.serviceId);
      if (openByService.has(w.serviceId)) continue;
      raised.push(await trx.insertInto('alert').values({
        siteId: w.siteId, kind: 'wait_over_target', counterId: null, staffId: null, ticketId: w.ticketId, deviceId: null,
        data: JSON.stringify({ serviceId: w.serviceId, waitSeconds: Math.round(waitSeconds), targetWaitSeconds: w.target, published: true }),
        createdAt: at, acknowledgedAt: null, acknowledgedBy: null,
      }).returningAll().executeTakeFirstOrThrow());
    }
    await this.clear(trx, open.filter((a) => !over.has(String(a.data.serviceId))), at);
    return raised;
  }

  private async checkDevices(trx: Trx, at: Date): Promise<AlertRow[]> {
    const seenSince = new Date(at.getTime() - this.offlineAfterMs);
    const open = await this.openAlerts(trx, 'device_offline');
    const openByDevice = new Map(open.map((a) => [a.deviceId, a]));
    // never-seen devices (registered, not yet paired) are not missing: they have not started
    const quiet = await trx.selectFrom('device').select(['id', 'siteId', 'lastSeenAt'])
      .where('revokedAt', 'is', null).where('lastSeenAt', 'is not', null).where('lastSeenAt', '<', seenSince).execute();
    const openSites = new Map<string, boolean>();
    const isOpen = async (siteId: string) => {
      if (!openSites.has(siteId)) {
        const site = await trx.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
        // a kiosk switched off at night is not an incident
        openSites.set(siteId, !!site && openingState(await loadCalendar(trx, site), at).open);
      }
      return openSites.get(siteId)!;
    };
    const raised: AlertRow[] = [];
    const stillQuiet = new Set(quiet.map((d) => d.id));
    for (const d of quiet) {
      if (openByDevice.has(d.id) || !(await isOpen(d.siteId))) continue;
      raised.push(await trx.insertInto('alert').values({
        siteId: d.siteId, kind: 'device_offline', counterId: null, staffId: null, ticketId: null, deviceId: d.id,
        data: JSON.stringify({ lastSeenAt: d.lastSeenAt!.toISOString(), published: true }),
        createdAt: at, acknowledgedAt: null, acknowledgedBy: null,
      }).returningAll().executeTakeFirstOrThrow());
    }
    await this.clear(trx, open.filter((a) => !a.deviceId || !stillQuiet.has(a.deviceId)), at);
    return raised;
  }

  /** Printer alerts and phone low ratings not yet published, marked published in the same statement. */
  private async sweep(trx: Trx, at: Date): Promise<AlertRow[]> {
    const { rows } = await sql<AlertRow>`
      UPDATE alert SET data = data || '{"published": true}'::jsonb
      WHERE created_at > ${new Date(at.getTime() - SWEEP_WINDOW_MS)}
        AND acknowledged_at IS NULL
        AND NOT jsonb_exists(data, 'published')
        AND (kind = 'printer' OR (kind = 'low_rating' AND device_id IS NULL))
      RETURNING id`.execute(trx);
    if (!rows.length) return [];
    return trx.selectFrom('alert').selectAll().where('id', 'in', rows.map((r) => r.id)).orderBy('createdAt').execute();
  }

  private async openAlerts(trx: Trx, kind: string): Promise<AlertRow[]> {
    return trx.selectFrom('alert').selectAll().where('kind', '=', kind)
      .where(sql<boolean>`NOT jsonb_exists(data, 'clearedAt')`).execute();
  }

  private async clear(trx: Trx, alerts: AlertRow[], at: Date): Promise<void> {
    if (!alerts.length) return;
    await trx.updateTable('alert').set({ data: sql`data || ${JSON.stringify({ clearedAt: at.toISOString() })}::jsonb` })
      .where('id', 'in', alerts.map((a) => a.id)).execute();
  }
}

/**
 * Runs a SiteMonitor every `intervalMs` until stopped; a tick still running when the next is due
 * is not doubled. Errors are logged, never thrown: the next tick tries again.
 */
export function startMonitor(monitor: SiteMonitor, intervalMs: number, log?: { warn(obj: object, msg: string): void }) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = monitor.tick()
      .catch((error: unknown) => log?.warn({ err: error }, 'monitor check failed'))
      .finally(() => { running = null; });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
