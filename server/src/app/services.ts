import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '@qms/db';
import { AlertService } from '../alerts/alert.service.ts';
import { AuditService } from '../audit/audit.service.ts';
import { BookingConfigService } from '../bookings/booking-config.service.ts';
import { CounterDeskService } from '../alerts/counter-desk.service.ts';
import type { Config } from '../config.ts';
import { SiteConfigService } from '../config/site-config.service.ts';
import { SiteConfigCommands } from '../config/site-config.commands.ts';
import { SiteConfigUpdates } from '../config/site-config.updates.ts';
import { AuthService } from '../auth/auth.service.ts';
import { SiteMonitor } from '../monitor/site-monitor.ts';
import { buildChannel } from '../notifications/channels/index.ts';
import { NotificationService } from '../notifications/notifications.service.ts';
import { NotificationRelay } from '../notifications/relay.ts';
import { NotificationWorker } from '../notifications/worker.ts';
import { PhonePages } from '../phone/phone-pages.ts';
import { PublicCentres } from '../public/centre.service.ts';
import { StaffPhotoService } from '../photos/staff-photo.service.ts';
import { KioskPrinters } from '../printing/kiosk-printers.ts';
import type { PrinterAddresses } from '../printing/printer-address.ts';
import { TicketPrinter, type AgentLink } from '../printing/ticket-printer.service.ts';
import { alertsDue, type DomainEvent } from '../queue/queue.events.ts';
import { QueueService } from '../queue/queue.service.ts';
import { RatingService } from '../ratings/rating.service.ts';
import { Reports } from '../reports/reports.ts';
import { ReportWorker, type ReportsApi } from '../reports/thread/report-worker.ts';
import { REPORT_METHODS, type ReportThreadInit } from '../reports/thread/wire.ts';
import { withRestBudget, type ReportPace } from '../reports/pace.ts';
import { VisitService } from '../dossiers/visit.service.ts';
import { BookingService } from '../bookings/booking.service.ts';
import { IssueTicket } from '../use-cases/issue-ticket.ts';
import { afterCommit } from './after-commit.ts';

export interface ServiceDeps {
  db: Db;
  /** the notification relay's and worker's connections (a small pool of their own in production); default db */
  notifyDb?: Db;
  /** the reports' and exports' connections (their own small pool with statement timeouts in production); default db */
  reportDb?: Db;
  /** reports and exports on a thread of their own (reports/thread/), with its own pool: production's */
  reportThread?: ReportThreadInit;
  /** the pace of reportDb's statements (reports/pace.ts), when it has one */
  reportPace?: ReportPace;
  /** the one clock of the app: the engine's, which tests set */
  clock?: () => Date;
  config: Config;
  log: FastifyBaseLogger;
  /** hands committed events to the subscribers (app/dispatcher.ts) */
  dispatch: (events: readonly DomainEvent[]) => void;
  /** the kiosks' site agents (print jobs over their sockets) */
  agents: AgentLink;
  /** where kiosks' network printers may be */
  printerAddresses: PrinterAddresses;
  /** devices with a socket on this process, for the site monitor */
  connectedDeviceIds: () => string[];
}

/**
 * The composition root: every service built once, with one db, one clock and one config, and
 * handed to routes, subscribers and timers as `app.services`. Nothing else calls `new` on a
 * service. Commands come wrapped (app/after-commit.ts): their events are dispatched once they
 * have committed, so no caller publishes anything.
 */
export function buildServices({ db, notifyDb = db, reportDb = db, reportPace, reportThread, clock, config, log, dispatch, agents, printerAddresses, connectedDeviceIds }: ServiceDeps) {
  const engine = new QueueService({ db, clock, dayEndGraceSeconds: config.dayEndGraceMinutes * 60 });
  const now = () => engine.now();
  const committing = <S extends object>(service: S) => afterCommit(service, dispatch);
  const queue = committing(engine);
  /** configuration, account, role and sign-in changes (docs/audit.md): every command below that makes one records it */
  const audit = new AuditService(db, now);
  const sites = new SiteConfigService(db, audit);
  const auth = new AuthService(db, { audit });
  const ticketPrinter = (waitMs?: number) => new TicketPrinter({
    db, log, agents, addresses: printerAddresses, now, ...(waitMs ? { waitMs } : {}),
    publishAlert: (siteId, alertId) => dispatch([alertsDue(siteId, [alertId])]),
  });
  const ratings = committing(new RatingService(db, { clock: now, windowSeconds: config.ratingWindowSeconds }));
  const alertService = new AlertService(db, now, config.ratingWindowSeconds);
  const alerts = committing(alertService);
  const relay = new NotificationRelay(notifyDb, now, alertService, log);
  const notificationWorker = new NotificationWorker({
    db: notifyDb, now, relay, buildChannel, log, pollMs: config.notifyPollMs || 1000, leaseMs: config.notifyLeaseMs,
    alertsRaised: (siteId, alertIds) => dispatch([alertsDue(siteId, alertIds)]),
  });
  const issueTicket = new IssueTicket(queue, ticketPrinter());
  return {
    audit,
    auth,
    queue,
    ratings,
    alerts,
    desk: new CounterDeskService(db, now, config.ratingWindowSeconds),
    sites,
    /** configuration changes of the manager console, each telling the site's screens */
    siteCommands: committing(new SiteConfigCommands(new SiteConfigUpdates(db, audit), sites, engine, auth)),
    photos: committing(new StaffPhotoService(db, audit)),
    /**
     * on their own connections: a year's report never holds one a call needs (app.ts); in
     * production on their own thread too, whose JavaScript never holds up a call (reports/thread/)
     */
    reports: (reportThread
      ? new ReportWorker(reportThread, now, log)
      // with a pace, each call's statements rest for a while at most, as on the report thread
      : withRestBudget(new Reports(reportDb, reportDb === db ? audit : new AuditService(reportDb, now), now, reportPace), REPORT_METHODS, reportPace)) as ReportsApi & { close?: () => Promise<void> },
    /** a site's booking rules, capacities and procedures' information (docs/manager.md) */
    bookingConfig: committing(new BookingConfigService(db, audit, now)),
    /** procedures and dossier codes on tickets, and a dossier's visits */
    visits: new VisitService(db, now, engine),
    /** issue → print → reply (use-cases/issue-ticket.ts) */
    issueTicket,
    /** slots, bookings, remote tickets and check-in (docs/appointments.md) */
    bookings: new BookingService({
      db, now, issueTicket, wake: () => notificationWorker.wake(), dayEndGraceSeconds: config.dayEndGraceMinutes * 60,
    }),
    /** the managers' printer settings and tests, and the site agents' reports: a longer wait for a test print */
    kioskPrinters: committing(new KioskPrinters(db, printerAddresses, ticketPrinter(15_000), audit, (deviceId) => auth.forget({ deviceId }))),
    phonePages: new PhonePages(db, engine, ratings),
    /** the centre's public page: its read model (public/centre.service.ts) */
    publicCentres: new PublicCentres(db, engine),
    notifications: committing(new NotificationService({
      db, now, buildChannel, wake: () => notificationWorker.wake(), dayEndGraceSeconds: config.dayEndGraceMinutes * 60, audit,
    })),
    /** relays the outbox and delivers messages (started by app.ts when config.notifyPollMs > 0) */
    notificationWorker,
    monitor: new SiteMonitor({ db, now, alerts, publish: dispatch, connectedDeviceIds, offlineAfterMs: config.deviceOfflineSeconds * 1000, log }),
  };
}

export type Services = ReturnType<typeof buildServices>;

declare module 'fastify' {
  interface FastifyInstance {
    /** every service of the app, built once (app/services.ts) */
    services: Services;
  }
}
