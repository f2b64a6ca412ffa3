import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Type } from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEVICE_KINDS, ErrorBody } from '@qms/protocol';
import type pg from 'pg';
import { poolUse, type Db } from '@qms/db';
import type { ReportPoolUse } from '../reports/reports.ts';

/**
 * GET /metrics in Prometheus' text format (docs/observability.md). Each app has its own
 * registry (tests build many). Tickets issued and called are counted from committed events
 * (subscribers/metrics.ts); what waits now is counted from the database when scraped, in one query.
 */
export interface MetricsOptions {
  db: Db;
  /** the app's clock: a call's latency is measured against the time it was committed with */
  clock: () => Date;
  /** bearer token for /metrics; without it only this machine may read them, not through a proxy */
  token?: string;
  /** the socket adapter's pool, with several processes */
  clusterPool?: pg.Pool;
  /** the use of the reports' own pool, when they have one (reports/report-db.ts; on the report thread, while it runs) */
  reportPoolUse?: () => Promise<ReportPoolUse | undefined>;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** a display's answer later than this is not about a live call (a replay, a broken clock): not counted */
const MAX_DISPLAY_MS = 5 * 60_000;

async function metrics(app: FastifyInstance, options: MetricsOptions) {
  const register = new Registry();
  // process, heap, GC and event-loop delay (nodejs_eventloop_lag_*)
  collectDefaultMetrics({ register, prefix: 'qms_' });
  const labels = ['site', 'service'] as const;
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  // tickets issued and called are counted by subscribers/metrics.ts, on this registry
  app.decorate('metrics', { register, clock: options.clock, latencyBuckets: buckets });
  const callDisplayed = new Histogram({
    name: 'qms_call_to_display_seconds',
    help: 'From the moment a call is committed to a wall display answering that it has it (call:displayed), on this server\'s clock; one observation per display',
    buckets, registers: [register],
  });
  const waiting = new Gauge({ name: 'qms_waiting', help: 'Tickets waiting now', labelNames: labels, registers: [register] });
  const longest = new Gauge({ name: 'qms_longest_wait_seconds', help: 'Longest wait of a ticket waiting now', labelNames: labels, registers: [register] });
  new Gauge({
    name: 'qms_sockets', help: 'Connected sockets, by kind of client (device kinds, staff, phone)', labelNames: ['kind'], registers: [register],
    collect() {
      this.reset();
      for (const kind of [...DEVICE_KINDS, 'staff']) this.set({ kind }, 0);
      for (const socket of app.realtime.io.of('/').sockets.values()) {
        const p = socket.data?.principal as { kind: string; device?: { kind: string } } | undefined;
        this.inc({ kind: p?.kind === 'device' ? p.device!.kind : (p?.kind ?? 'other') });
      }
    },
  });

  // the reports' pool use, asked of the report thread once per scrape for the two gauges below
  let reportUse: Promise<ReportPoolUse | undefined> | undefined;
  const reportPoolUse = () => {
    reportUse ??= (options.reportPoolUse?.() ?? Promise.resolve(undefined)).catch(() => undefined).finally(() => {
      setImmediate(() => { reportUse = undefined; });
    });
    return reportUse;
  };

  new Gauge({
    name: 'qms_db_pool_connections',
    help: 'PostgreSQL pools: the server\'s (pool="app"), the reports\' (pool="reports") and, with several processes, the socket adapter\'s (pool="socket_adapter"); connections open (total), idle among them, and queries waiting for one',
    labelNames: ['pool', 'state'], registers: [register],
    async collect() {
      const app = poolUse(options.db);
      if (app) for (const [state, n] of Object.entries(app)) this.set({ pool: 'app', state }, n);
      const reports = await reportPoolUse();
      if (reports) for (const state of ['total', 'idle', 'waiting'] as const) this.set({ pool: 'reports', state }, reports[state]);
      const adapter = options.clusterPool;
      if (adapter) for (const [state, n] of Object.entries({ total: adapter.totalCount, idle: adapter.idleCount, waiting: adapter.waitingCount })) this.set({ pool: 'socket_adapter', state }, n);
    },
  });

  new Gauge({
    name: 'qms_report_rest_seconds',
    help: 'Seconds the reports\' statements rested while the queue was busy, held to QMS_REPORT_BUSY_SHARE of the time (reports/pace.ts), since their pool opened (the report thread\'s, while it runs)',
    registers: [register],
    async collect() {
      const reports = await reportPoolUse();
      if (reports) this.set(reports.restedSeconds);
    },
  });

  // A display echoes the call's calledAt, the server's own timestamp of the commit, so the
  // display's clock plays no part, and a display on another process of a cluster (which never
  // saw the commit) measures the same way. Each display counts a call once.
  app.realtime.io.on('connection', (socket) => {
    const p = socket.data?.principal;
    if (p?.kind !== 'device' || p.device.kind !== 'display') return;
    const counted: string[] = [];
    socket.on('call:displayed', (payload) => {
      const { ticketId, calledAt } = (payload ?? {}) as { ticketId?: unknown; calledAt?: unknown };
      if (typeof ticketId !== 'string' || ticketId.length > 64 || typeof calledAt !== 'string' || calledAt.length > 40) return;
      const ms = options.clock().getTime() - Date.parse(calledAt);
      const key = `${ticketId}@${calledAt}`;
      if (!(ms >= -1000 && ms <= MAX_DISPLAY_MS) || counted.includes(key)) return;
      counted.push(key);
      if (counted.length > 16) counted.shift();
      callDisplayed.observe(Math.max(0, ms) / 1000);
    });
  });

  // compared as digests: equal lengths, and no early exit to time
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = options.token ? digest(`Bearer ${options.token}`) : undefined;
  const allowed = (req: FastifyRequest) => expected
    ? timingSafeEqual(digest(req.headers.authorization ?? ''), expected)
    : LOOPBACK.test(req.socket.remoteAddress ?? '') && !req.headers['x-forwarded-for'];

  app.get('/metrics', {
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics (docs/observability.md): a bearer token (QMS_METRICS_TOKEN), or from this machine without a proxy',
      response: {
        200: { description: 'Prometheus text format', content: { 'text/plain; version=0.0.4': { schema: Type.String() } } },
        401: { description: 'QMS_METRICS_TOKEN is set and the request does not carry it', content: { 'application/json': { schema: ErrorBody } } },
        404: { description: 'no QMS_METRICS_TOKEN, and the request is not from this machine or came through a proxy', content: { 'application/json': { schema: ErrorBody } } },
      },
    },
  }, async (req, reply) => {
    if (!allowed(req)) {
      return options.token
        ? reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'Authorization: Bearer <QMS_METRICS_TOKEN>' } })
        : reply.code(404).send({ error: { code: 'NOT_FOUND', message: `No route ${req.method} /metrics` } });
    }
    const now = options.clock();
    const rows = await sql<{ siteId: string; serviceId: string; waiting: number; oldest: Date }>`
      SELECT site_id AS "siteId", service_id AS "serviceId", count(*)::int AS waiting, min(queued_at) AS oldest
      FROM ticket WHERE status = 'waiting' GROUP BY site_id, service_id`.execute(options.db);
    waiting.reset();
    longest.reset();
    for (const r of rows.rows) {
      const at = { site: r.siteId, service: r.serviceId };
      waiting.set(at, r.waiting);
      longest.set(at, Math.max(0, (now.getTime() - new Date(r.oldest).getTime()) / 1000));
    }
    return reply.type(register.contentType).send(await register.metrics());
  });
}

export interface Metrics {
  register: Registry;
  /** the app's clock */
  clock: () => Date;
  latencyBuckets: number[];
}

export const metricsPlugin = fp(metrics, { name: 'metrics', dependencies: ['realtime'] });

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}
