import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import pg from 'pg';
import { AuthService, type AuthChange } from '../auth/auth.service.ts';
import type { Principal } from '../auth/principal.ts';
import { QueueError } from '../queue/queue.errors.ts';

export const SESSION_COOKIE = 'qms_session';

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** The PostgreSQL channel on which processes of a cluster tell each other what to forget. */
export const AUTH_CHANNEL = 'qms_auth';

/**
 * Keeps the token cache of this process (AuthService.cache) true to changes made by the other
 * processes of a cluster: each forget is sent as a NOTIFY after its commit, and every process
 * LISTENs on a connection of its own (opened with the cluster pool's settings, outside the pool,
 * whose few clients the socket.io adapter needs). While that connection is not listening
 * (starting, lost, reconnecting) the cache is off, so nothing another process changed meanwhile
 * can be missed.
 */
export class AuthChangeListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** one warning per outage, not one per retry (PostgreSQL may be away for minutes) */
  private warned = false;
  private readonly origin = randomUUID();

  constructor(
    private readonly pool: pg.Pool,
    private readonly auth: AuthService,
    private readonly onError: (error: unknown, what: string) => void,
    private readonly retryMs = 1_000,
  ) {}

  get listening(): boolean {
    return !!this.client;
  }

  async start(): Promise<void> {
    this.auth.cache.trust(false);
    this.auth.announce = (change) => this.announce(change);
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.auth.announce = undefined;
    this.auth.cache.trust(false);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.pool.options);
    client.on('notification', (message) => this.heard(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
      if (this.closed) return void (await client.end());
      this.client = client;
      // from here on, every change committed elsewhere is heard
      this.auth.cache.trust(true);
      // what was changed elsewhere while not listening: open sockets are checked again
      if (this.warned) void this.auth.changed({ all: true });
      this.warned = false;
    } catch (error) {
      void client.end().catch(() => {});
      if (!this.warned) this.onError(error, 'not listening for sign-outs and revocations of other processes (token cache off until it is)');
      this.warned = true;
      this.retry();
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.auth.cache.trust(false);
    void client.end().catch(() => {});
    if (!this.closed && !this.warned) this.onError(error, 'lost the connection that hears other processes (token cache off until it is back)');
    this.warned = true;
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.retryMs);
    this.timer.unref();
  }

  private heard(payload: string | undefined): void {
    try {
      const { origin, ...change } = JSON.parse(payload ?? '{}') as AuthChange & { origin?: string };
      if (origin === this.origin) return;
      void this.auth.changed(change);
    } catch {
      void this.auth.changed({ all: true });
    }
  }

  private async announce(change: AuthChange): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [AUTH_CHANNEL, JSON.stringify({ ...change, origin: this.origin })]);
    } catch (error) {
      // the other processes see the change when their entry expires (AUTH_CACHE_MS at most)
      this.onError(error, 'could not tell the other processes of a sign-out or revocation');
    }
  }
}

/** Resolves the caller once per request, from the bearer token or the session cookie. */
async function auth(app: FastifyInstance, { auth, clusterPool }: { auth: AuthService; clusterPool?: pg.Pool }) {
  await app.register(cookie);
  app.decorate('auth', auth);
  if (clusterPool) {
    const listener = new AuthChangeListener(clusterPool, auth, (error, what) => app.log.warn({ err: error }, what));
    await listener.start();
    app.addHook('onClose', () => listener.close());
  }
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const token = bearer(request.headers.authorization) ?? request.cookies[SESSION_COOKIE];
    request.principal = await auth.resolve(token);
  });
}

export const authPlugin = fp(auth, { name: 'auth' });

/** The caller, or 401. */
export function who(request: FastifyRequest): Principal {
  if (!request.principal) throw new QueueError('UNAUTHENTICATED', 'Sign in, or use a device token', 401);
  return request.principal;
}

export function allow(condition: boolean, message = 'You are not allowed to do this'): asserts condition {
  if (!condition) throw new QueueError('FORBIDDEN', message, 403);
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}
