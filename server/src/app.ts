import { randomUUID } from 'node:crypto';
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { backupDatabase, createDb, type Db, type EmbeddedState } from '@qms/db';
import { EventDispatcher } from './app/dispatcher.ts';
import { buildServices } from './app/services.ts';
import { loadConfig, type Config } from './config.ts';
import { createReportDb, reportPace } from './reports/report-db.ts';
import { QueueActivity } from './reports/pace.ts';
import { REPORT_THREAD_NICE } from './reports/thread/report-worker.ts';
import { authPlugin, bearer } from './http/auth.plugin.ts';
import { limitConnections, trustedProxies } from './http/connection-limits.ts';
import { installErrorHandler } from './http/errors.ts';
import { withRedaction } from './http/logging.ts';
import { installTextInput } from './http/text-input.ts';
import { QueueError } from './queue/queue.errors.ts';
import { DOCS_CSP, securityHeadersPlugin } from './plugins/security-headers.plugin.ts';
import { faviconPlugin } from './plugins/favicon.plugin.ts';
import { uiPlugin } from './plugins/ui.plugin.ts';
import { agentLink } from './printing/agent-link.ts';
import { appPorts, PrinterAddresses } from './printing/printer-address.ts';
import { startMonitor } from './monitor/site-monitor.ts';
import { nightlyBackupRunner, type NightlyBackupRunner } from './backup/nightly-backup.ts';
import { reportFactsBuilder } from './reports/report.service.ts';
import { dayEndRunner, type DayEndRunner } from './queue/day-end.ts';
import { realtimePlugin } from './realtime/realtime.plugin.ts';
import { bookingRoutes } from './routes/booking.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { configRoutes } from './routes/config.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { metricsPlugin } from './plugins/metrics.plugin.ts';
import { ticketRoutes } from './routes/ticket.routes.ts';
import { alertRoutes } from './routes/alert.routes.ts';
import { bookingConfigRoutes } from './routes/booking-config.routes.ts';
import { configUpdateRoutes } from './routes/config-update.routes.ts';
import { counterDeskRoutes } from './routes/counter-desk.routes.ts';
import { phoneRoutes } from './routes/phone.routes.ts';
import { publicCentreRoutes } from './routes/public-centre.routes.ts';
import { photoRoutes } from './photos/photo.routes.ts';
import { printerRoutes } from './routes/printer.routes.ts';
import { reportRoutes } from './routes/report.routes.ts';
import { notificationRoutes } from './routes/notification.routes.ts';
import { dossierRoutes } from './routes/dossier.routes.ts';
import { SUBSCRIBERS } from './subscribers/index.ts';
import { version } from './version.ts';

export interface AppOptions {
  db: Db;
  config?: Partial<Config>;
  logger?: FastifyServerOptions['logger'];
  /** serve the built screens (off in most HTTP tests) */
  serveUi?: boolean;
  /** the queue engine's clock, for tests */
  clock?: () => Date;
  /** how often to look for sites whose day is over (ms; default 15 s) */
  dayEndCheckMs?: number;
  /** the database's URL, for the nightly backup (config.backupDir) */
  databaseUrl?: string;
  /** the zone of config.backupAt; default the machine's */
  backupTimeZone?: string;
  /** pg pool for the socket.io PostgreSQL adapter (several processes) */
  clusterPool?: pg.Pool;
  /**
   * The reports' and exports' own connections. Default: a small pool of their own made from
   * databaseUrl (config.reports: size, statement and lock timeouts, bounded queue), else db.
   * The app closes only a pool it made.
   */
  reportDb?: Db;
  /** the embedded PostgreSQL this process runs, for /api/health */
  embedded?: { state(): EmbeddedState };
  /**
   * Tests only: let kiosk printers be on loopback, where the tests' pretend printers listen.
   * Deliberately no environment variable: a site must not turn it on by accident.
   */
  allowLoopbackPrinters?: boolean;
}

export interface RateLimits {
  login: RateLimitOptions | false;
  /** a login's preHandler: the ceiling of attempts on one username from all addresses together */
  loginAccount: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  pairing: RateLimitOptions | false;
  issue: RateLimitOptions | false;
}

/** The name a login attempt is counted under: the same account however it was typed. */
const loginName = (request: FastifyRequest) => ((request.body as { username?: string } | undefined)?.username ?? '').normalize('NFC').toLowerCase();

function rateLimits(app: FastifyInstance, config: Config): RateLimits {
  if (!config.rateLimits) return { login: false, loginAccount: async () => {}, pairing: false, issue: false };
  const account = app.createRateLimit({ max: config.loginPerUserPerHour, timeWindow: 3_600_000, keyGenerator: (r) => `login-account|${loginName(r)}` });
  return {
    // Per address and username: guessing passwords is slow, and a colleague's typo, or someone
    // trying made-up names, costs nobody else. After the body is parsed (preHandler): before it,
    // every attempt from an address shared one key, and the admin could be locked out by anyone.
    login: { max: config.loginPerMinute, timeWindow: 60_000, hook: 'preHandler', keyGenerator: (r) => `${r.ip}|${loginName(r)}` },
    // Per username from all addresses: a guesser spread over many addresses is stopped too. It is
    // high, as whoever reaches it locks that account out for the rest of the hour.
    async loginAccount(request, reply) {
      const limit = await account(request);
      if (limit.isAllowed || !limit.isExceeded) return;
      request.log.warn({ username: loginName(request) }, 'sign-in attempts on one account from many addresses: limited for the hour');
      reply.header('retry-after', String(limit.ttlInSeconds));
      throw new QueueError('RATE_LIMITED', 'Too many sign-in attempts for this account: wait and try again later', 429);
    },
    pairing: { max: 10, timeWindow: 60_000 },
    // per kiosk: a stuck button must not print a roll of tickets
    issue: { max: config.ticketsPerMinute, timeWindow: 60_000, keyGenerator: (r) => bearer(r.headers.authorization) ?? r.ip },
  };
}

/** Trust the nearest `n` proxies (proxy-addr's hop count, which Fastify's types do not list). */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const hops = (n: number) => (_address: string, hop: number) => hop < n;

export async function buildApp(options: AppOptions) {
  const config = { ...loadConfig(), ...options.config };
  const app = Fastify({
    // JSON lines (pino) with credentials and row values redacted (http/logging.ts)
    logger: withRedaction(options.logger),
    // a site server logs what needs attention, not every poll of every screen
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // every log line of a request carries its id: the proxy's X-Request-Id when it is a sane one
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // the client's address (rate limits) and scheme (Secure cookie) from a trusted reverse proxy
    trustProxy: typeof config.trustProxy === 'number' ? hops(config.trustProxy) : config.trustProxy,
    // a client that trickles its request a byte at a time is cut off (config.ts: timeouts)
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // how often Node looks for requests past those timeouts (its default, 30 s, would let them run on)
      connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(config.headersTimeoutMs / 4))),
    },
    ajv: {
      // unknown fields are an error (400), never silently stored; no type coercion of bodies
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // the id goes back to the client, so a complaint can name the request in the logs
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.decorate('config', config);
  limitConnections(app.server, {
    perAddress: config.connectionsPerAddress,
    total: config.maxConnections,
    exempt: trustedProxies(config.trustProxy),
    onRefused: (refused, why) => app.log.warn({ refused, why }, why === 'total'
      ? 'connections refused: the server holds as many as it may (QMS_MAX_CONNECTIONS)'
      : 'connections refused: one address holds as many as it may (QMS_CONNECTIONS_PER_ADDRESS)'),
  });
  app.decorate('printerAddresses', new PrinterAddresses({ ownPorts: appPorts(app, options.db), allowLoopback: options.allowLoopbackPrinters ?? false }));
  installErrorHandler(app);
  installTextInput(app);

  // committed events go to the subscribers (subscribers/index.ts, registered below)
  const events = new EventDispatcher(app.log);
  app.decorate('events', events);
  // the notification worker's own few connections, when the app has the database's address: its
  // relaying and bookkeeping then never wait for, nor hold, a connection a call needs
  const notifyDb = options.databaseUrl ? createDb(options.databaseUrl, { max: 3, applicationName: 'qms-notify' }) : options.db;
  // the queue's last committed event, which holds the reports to a share of the time while it is
  // recent (reports/pace.ts): noted here, read by the reports' pool, on its thread or this one
  const activity = new QueueActivity();
  // reports and exports on a thread of their own, with its own pool like this one (which then
  // only builds the report facts, as qms-report-facts), unless the caller chose their connections
  const reportThread = options.databaseUrl && !options.reportDb && config.reports.thread
    ? { databaseUrl: options.databaseUrl, reports: config.reports, nice: REPORT_THREAD_NICE, activity: activity.buffer } : undefined;
  const pace = options.databaseUrl && !options.reportDb && !reportThread ? reportPace(config, activity) : undefined;
  const reportDb = options.reportDb
    ?? (options.databaseUrl ? createReportDb(options.databaseUrl, config, reportThread ? 'facts' : 'reports', pace) : options.db);
  app.decorate('reportDb', reportDb);
  const services = buildServices({
    db: options.db, notifyDb, reportDb, reportPace: pace, reportThread, clock: options.clock, config, log: app.log,
    dispatch: (committed) => {
      activity.note();
      events.dispatch(committed);
    },
    agents: agentLink(() => app.realtime), printerAddresses: app.printerAddresses,
    connectedDeviceIds: () => app.realtime.connectedDeviceIds(),
  });
  app.decorate('services', services);
  const { queue, auth } = services;

  // first, so that every response (API docs, screens, errors) carries them
  await app.register(securityHeadersPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Queue management API', version, description: 'Kiosks, displays, counters and reports of one-stop public-service centres. See shared/API.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiHooks: { onRequest: async (_request, reply) => void reply.header('content-security-policy', DOCS_CSP) },
  });
  await app.register(rateLimit, { global: false });
  app.decorate('rateLimits', rateLimits(app, config));
  await app.register(authPlugin, { auth, clusterPool: options.clusterPool });
  await app.register(realtimePlugin, { db: options.db, queue, clusterPool: options.clusterPool });
  await app.register(healthRoutes, {
    db: options.db, embedded: options.embedded,
    socketAdapter: () => app.realtime.adapterState(), dayEndFailing: () => app.dayEnd.failing(),
  });
  await app.register(metricsPlugin, { db: options.db, clock: () => queue.now(), token: config.metricsToken, clusterPool: options.clusterPool,
    // the reports' own pool (the thread's while it runs), when they have one
    reportPoolUse: reportDb !== options.db ? () => services.reports.poolUse() : undefined,
  });
  for (const subscriber of SUBSCRIBERS) events.subscribe(subscriber(app));
  app.addHook('onClose', () => events.close());
  const reportFacts = reportFactsBuilder(reportDb);
  // every site's day ends, tickets and all, whether or not anyone is connected
  app.decorate('dayEnd', dayEndRunner(async () => {
    const { value } = await queue.endDays();
    if (value.length) app.log.info({ tickets: value.length }, 'day ended: unfinished tickets expired');
    // bookings whose day is over are missed, remote tickets past their window lapse, contacts are erased
    const bookings = await services.bookings.sweep();
    // the report facts of the days just over, then of older days not built yet (after an upgrade),
    // a few per check (reports/README.md, "Report facts"); on the reports' own connections
    await reportFacts.build(queue.now())
      .catch((error: unknown) => app.log.warn({ err: error }, 'could not build the report facts of the days just over'));
    return value.length + bookings;
  }, options.dayEndCheckMs ?? 15_000, (error) => app.log.warn({ err: error }, 'could not end the day of the sites; trying again')));
  app.addHook('onReady', async () => app.dayEnd.start());
  app.addHook('onClose', () => app.dayEnd.stop());
  // a backup a night, by one process of a cluster, when QMS_BACKUP_DIR is set
  const { backupDir } = config;
  const { databaseUrl } = options;
  app.decorate('nightlyBackup', backupDir && databaseUrl ? nightlyBackupRunner({
    db: options.db, dir: backupDir, keep: config.backupKeep, at: config.backupAt, clock: () => queue.now(), checkMs: 60_000,
    timeZone: options.backupTimeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    backup: (file) => backupDatabase(databaseUrl, file, { createdBy: `qms ${version}` }), log: app.log,
  }) : undefined);
  app.addHook('onReady', async () => app.nightlyBackup?.start());
  app.addHook('onClose', async () => app.nightlyBackup?.stop());
  // waits past target and devices gone offline become alerts (monitor/site-monitor.ts)
  if (config.monitorIntervalMs > 0) {
    const monitor = startMonitor(services.monitor, config.monitorIntervalMs, app.log);
    app.addHook('onClose', () => monitor.stop());
  }
  // messages and webhooks: the outbox relayed, due messages delivered (notifications/worker.ts)
  if (config.notifyPollMs > 0) services.notificationWorker.start();
  app.addHook('onClose', async () => {
    await services.notificationWorker.stop();
    if (notifyDb !== options.db) await notifyDb.destroy();
  });
  if (reportDb !== options.db && reportDb !== options.reportDb) app.addHook('onClose', () => reportDb.destroy());
  app.addHook('onClose', async () => services.reports.close?.());
  await app.register(async (api) => {
    // one line per route file: a route file never registers another
    await api.register(authRoutes);
    await api.register(configRoutes);
    await api.register(configUpdateRoutes);
    await api.register(ticketRoutes);
    await api.register(alertRoutes);
    await api.register(counterDeskRoutes);
    await api.register(reportRoutes);
    await api.register(photoRoutes);
    await api.register(printerRoutes);
    await api.register(notificationRoutes);
    await api.register(dossierRoutes);
    await api.register(auditRoutes);
    await api.register(bookingRoutes);
    await api.register(bookingConfigRoutes);
  }, { prefix: '/api/v1' });
  // the phone page behind the ticket's QR code (/t/:publicId), outside the API prefix
  await app.register(phoneRoutes);
  // the centre's public page (/c/:siteCode/…, /b/:publicId) and its read model's route
  await app.register(publicCentreRoutes);
  await app.register(faviconPlugin);
  if (options.serveUi ?? true) await app.register(uiPlugin);
  return app;
}

export { createReportDb } from './reports/report-db.ts';

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    rateLimits: RateLimits;
    /** where kiosks' network printers may be (printing/printer-address.ts) */
    printerAddresses: PrinterAddresses;
    /** ends the days of the sites that are over (queue/day-end.ts); tests call its sweep */
    dayEnd: DayEndRunner;
    /** the nightly backup when QMS_BACKUP_DIR is set (backup/nightly-backup.ts); tests call its tick */
    nightlyBackup: NightlyBackupRunner | undefined;
    /** hands committed events to the subscribers (app/dispatcher.ts) */
    events: EventDispatcher;
    /**
     * the report facts' builder's connections, and the reports' and exports' when they run on
     * the main thread (createReportDb, or the app's db in most tests)
     */
    reportDb: Db;
  }
}
