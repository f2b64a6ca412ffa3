// Everything the server reads from the environment, in one place (listed in the README).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
export interface Config {
  /** bearer token for GET /metrics; without it only loopback requests not through a proxy get them */
  metricsToken?: string;
  port: number;
  host: string;
  /** public base URL printed and encoded in ticket QR codes; defaults to http://<host>:<port> */
  publicUrl: string | undefined;
  /** seed the demo centre into an empty database */
  demo: boolean;
  /** the demo officials' password; random (printed once) when unset */
  demoPassword: string | undefined;
  /** a paired device not connected for this long raises device_offline (s) */
  deviceOfflineSeconds: number;
  /** how often the site monitor looks for waits past target and devices offline (ms); 0: never */
  monitorIntervalMs: number;
  /** how often this process looks for notifications to relay and deliver besides after each change (ms); 0: it delivers none */
  notifyPollMs: number;
  /** a message a process took to send is another's to retry after this, should the first die (ms) */
  notifyLeaseMs: number;
  adminPassword: string | undefined;
  rateLimits: boolean;
  /** login attempts per address and username per minute */
  loginPerMinute: number;
  /** login attempts per username per hour, from all addresses together */
  loginPerUserPerHour: number;
  /** tickets one kiosk may issue per minute */
  ticketsPerMinute: number;
  logLevel: string;
  cluster: boolean;
  /** which reverse proxies' X-Forwarded-For/-Proto to believe (Fastify's trustProxy) */
  trustProxy: TrustProxy;
  /** a request's headers must arrive within this (ms) */
  headersTimeoutMs: number;
  /** a whole request, headers and body, must arrive within this (ms) */
  requestTimeoutMs: number;
  /** an idle keep-alive connection closes after this (ms) */
  keepAliveTimeoutMs: number;
  /** a connection with no traffic at all closes after this (ms); WebSockets are not affected */
  idleTimeoutMs: number;
  /** open connections from one address at most; 0: no cap */
  connectionsPerAddress: number;
  /** open connections in all at most, below the process's file-descriptor limit; 0: no cap */
  maxConnections: number;
  /** a site's day ends this long after its last session closes (local midnight at the latest) */
  dayEndGraceMinutes: number;
  /** how long after a ticket is finished it may still be rated (s) */
  ratingWindowSeconds: number;
  /** where the nightly backups go; none are taken when unset */
  backupDir: string | undefined;
  /** how many nightly backups to keep */
  backupKeep: number;
  /** 'HH:MM', the server's local time, at which the nightly backup is taken */
  backupAt: string;
  /** reports' and exports' own pool, apart from the queue's: a report never takes a connection a call needs */
  reports: ReportPoolConfig;
}

/** The reports' pool (app.ts): small, every statement time-limited, a bounded queue in front. */
export interface ReportPoolConfig {
  /** connections at most */
  connections: number;
  /** a report statement running longer is cancelled: 503 REPORT_TIMED_OUT (ms) */
  statementTimeoutMs: number;
  /** a report statement waiting longer for a lock is cancelled, the same way (ms) */
  lockTimeoutMs: number;
  /** report queries waiting for a connection at most; the next gets 503 REPORTS_BUSY with Retry-After */
  queue: number;
  /** a report query waiting longer than this for a connection gets 503 REPORTS_BUSY (ms) */
  queueWaitMs: number;
  /**
   * reports and exports run on a thread of their own (reports/thread/), when the app has the
   * database's address: their parsing, formatting and garbage never hold up a call
   */
  thread: boolean;
  /**
   * the reports' PostgreSQL backends and their thread under SCHED_IDLE (Linux, with `chrt`): they
   * run on a core only while no call wants it (reports/README.md, "Priority"); where Linux weighs
   * tasks by session, the backends' sessions at nice 19 instead
   */
  schedIdle: boolean;
  /**
   * while the queue is busy (an event in the last few seconds), the reports' statements take at
   * most this share of the time, in short slices with rests between (reports/pace.ts); 1: no pace
   */
  busyShare: number;
}

/** false: nobody; true: every hop; a number: that many hops; else addresses and CIDR ranges. */
export type TrustProxy = boolean | number | string[];

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'off', 'no'].includes(value.toLowerCase());
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, got "${value}"`);
  return n;
}

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;

/**
 * QMS_TRUST_PROXY: off by default, as a server reached directly must not let a client choose the
 * address it is limited by. `on` trusts every hop (only when nothing reaches the server but the
 * proxy); a number trusts that many hops; otherwise the proxies' addresses or CIDR ranges.
 */
export function trustProxy(value: string | undefined): TrustProxy {
  const v = (value ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'off', 'no'].includes(v)) return false;
  if (['true', 'on', 'yes'].includes(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((a) => a.trim()).filter(Boolean);
  const wrong = list.filter((a) => !ADDRESS.test(a));
  if (wrong.length || !list.length) {
    throw new Error(`QMS_TRUST_PROXY must be off, on, a number of proxies, or addresses/CIDR ranges separated by commas; "${wrong.join(', ') || value}" is none of these`);
  }
  return list;
}

function ms(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of milliseconds, at least ${min}; got "${value}"`);
  return n;
}

function share(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!(n >= 0.01 && n <= 1)) throw new Error(`${name} must be a share of the time from 0.01 to 1 (1: no pace); got "${value}"`);
  return n;
}

function cap(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (0: no cap); got "${value}"`);
  return n;
}

/** The soft limit on open files of this process (systemd's default is 1024), if Linux says. */
export function openFilesLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connections in all: the file descriptors less room for what the server itself opens
 * (PostgreSQL pools and its LISTEN connection, fonts, logs, printers), so that a flood of
 * connections is refused one by one instead of leaving the process unable to open anything.
 */
const RESERVED_DESCRIPTORS = 128;
const connectionsWithin = (files: number | undefined) => (files ? Math.max(files - RESERVED_DESCRIPTORS, 64) : 0);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    publicUrl: env.QMS_PUBLIC_URL || undefined,
    metricsToken: env.QMS_METRICS_TOKEN || undefined,
    // a production install starts empty: no demo centre, no canbo1… accounts
    demo: flag(env.QMS_DEMO, env.NODE_ENV !== 'production'),
    demoPassword: env.QMS_DEMO_PASSWORD || undefined,
    deviceOfflineSeconds: count('QMS_DEVICE_OFFLINE_SECONDS', env.QMS_DEVICE_OFFLINE_SECONDS, 120),
    monitorIntervalMs: cap('QMS_MONITOR_INTERVAL_MS', env.QMS_MONITOR_INTERVAL_MS, 15_000),
    notifyPollMs: cap('QMS_NOTIFY_POLL_MS', env.QMS_NOTIFY_POLL_MS, 1_000),
    notifyLeaseMs: count('QMS_NOTIFY_LEASE_MS', env.QMS_NOTIFY_LEASE_MS, 30_000),
    adminPassword: env.QMS_ADMIN_PASSWORD || undefined,
    rateLimits: flag(env.QMS_RATE_LIMITS, true),
    loginPerMinute: count('QMS_RATE_LOGIN_PER_MINUTE', env.QMS_RATE_LOGIN_PER_MINUTE, 10),
    loginPerUserPerHour: count('QMS_RATE_LOGIN_PER_USER_PER_HOUR', env.QMS_RATE_LOGIN_PER_USER_PER_HOUR, 100),
    ticketsPerMinute: Number(env.QMS_RATE_TICKETS_PER_MINUTE ?? 30),
    logLevel: env.LOG_LEVEL ?? 'info',
    // an external database may be shared by several processes: fan out through it unless told not to
    cluster: flag(env.QMS_CLUSTER, !!env.DATABASE_URL),
    trustProxy: trustProxy(env.QMS_TRUST_PROXY),
    ...timeouts(env),
    connectionsPerAddress: cap('QMS_CONNECTIONS_PER_ADDRESS', env.QMS_CONNECTIONS_PER_ADDRESS, 200),
    maxConnections: cap('QMS_MAX_CONNECTIONS', env.QMS_MAX_CONNECTIONS, connectionsWithin(openFilesLimit())),
    dayEndGraceMinutes: dayEndGrace(env.QMS_DAY_END_GRACE_MINUTES),
    ratingWindowSeconds: count('QMS_RATING_WINDOW_SECONDS', env.QMS_RATING_WINDOW_SECONDS, 300),
    backupDir: env.QMS_BACKUP_DIR ? path.resolve(env.QMS_BACKUP_DIR) : undefined,
    backupKeep: count('QMS_BACKUP_KEEP', env.QMS_BACKUP_KEEP, 14),
    backupAt: timeOfDay('QMS_BACKUP_AT', env.QMS_BACKUP_AT, '02:00'),
    reports: {
      // half the cores (at least one): a report's PostgreSQL backend is a core busy, and the others
      // stay for the calls (docs/performance.md, section h: two on a 2-core machine slowed calls)
      connections: count('QMS_REPORT_CONNECTIONS', env.QMS_REPORT_CONNECTIONS, Math.max(1, Math.floor(availableParallelism() / 2))),
      statementTimeoutMs: ms('QMS_REPORT_TIMEOUT_MS', env.QMS_REPORT_TIMEOUT_MS, 30_000, 100),
      lockTimeoutMs: ms('QMS_REPORT_LOCK_TIMEOUT_MS', env.QMS_REPORT_LOCK_TIMEOUT_MS, 5_000, 100),
      queue: cap('QMS_REPORT_QUEUE', env.QMS_REPORT_QUEUE, 10),
      queueWaitMs: ms('QMS_REPORT_QUEUE_WAIT_MS', env.QMS_REPORT_QUEUE_WAIT_MS, 10_000, 100),
      thread: flag(env.QMS_REPORT_THREAD, true),
      schedIdle: flag(env.QMS_REPORT_SCHED_IDLE, true),
      // off (1) by default: at full scale a fifth made no call faster in four runs and reports
      // about three times slower (docs/performance.md, section h, "Reports held to a share of
      // the time while the queue is busy"); 0.2 is what was measured
      busyShare: share('QMS_REPORT_BUSY_SHARE', env.QMS_REPORT_BUSY_SHARE, 1),
    },
  };
}

function timeOfDay(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(value.trim());
  if (!m) throw new Error(`${name} must be a time of day HH:MM (24-hour), got "${value}"`);
  return `${m[1]!.padStart(2, '0')}:${m[2]}`;
}

/** Minutes after the last session's close that officials may still call and finish (0 to 1440). */
function dayEndGrace(value: string | undefined): number {
  if (value === undefined || value === '') return 30;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1440) throw new Error(`QMS_DAY_END_GRACE_MINUTES must be a whole number of minutes from 0 to 1440, got "${value}"`);
  return n;
}

/**
 * A slow client (a header or body trickled a byte at a time) is cut off, not waited for. The
 * defaults suit a LAN: requests are small, and screens speak every 10 s (socket.io's ping).
 */
function timeouts(env: NodeJS.ProcessEnv) {
  const headersTimeoutMs = ms('QMS_HEADERS_TIMEOUT_MS', env.QMS_HEADERS_TIMEOUT_MS, 10_000, 100);
  const requestTimeoutMs = ms('QMS_REQUEST_TIMEOUT_MS', env.QMS_REQUEST_TIMEOUT_MS, 30_000, 100);
  if (headersTimeoutMs > requestTimeoutMs) throw new Error('QMS_HEADERS_TIMEOUT_MS must not be longer than QMS_REQUEST_TIMEOUT_MS');
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: ms('QMS_KEEPALIVE_TIMEOUT_MS', env.QMS_KEEPALIVE_TIMEOUT_MS, 10_000, 100),
    // above socket.io's long-polling hold (pingInterval, 10 s) with room to spare
    idleTimeoutMs: ms('QMS_IDLE_TIMEOUT_MS', env.QMS_IDLE_TIMEOUT_MS, 60_000, 20_000),
  };
}
