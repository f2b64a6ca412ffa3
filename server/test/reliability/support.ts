import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { freePort, type Db } from '@qms/db';
import { io, type Socket } from 'socket.io-client';
import type { QueueSnapshot } from '@qms/protocol';
import { tokenHash } from '../../src/auth/tokens.ts';
import { createSite, type SiteFixture, type SiteSpec } from '../support/queue-fixture.ts';

// Helpers of the reliability suite: the server as a real child process (npm start's entry
// point), a site with known staff and device tokens, screens as socket.io clients that
// reconnect like the real ones, and a TCP proxy on 127.0.0.1 that can cut the network.

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const RELIABILITY = process.env.QMS_RELIABILITY === '1';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds or `ms` pass; returns whether it held. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, every = 25): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(every);
  }
  return check();
}

// ---- the server as a child process ----

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** the server's log lines at level error and fatal */
  errors(): string[];
  exited: Promise<void>;
  /** SIGTERM, SIGKILL after `ms` */
  stop(ms?: number): Promise<void>;
  /** SIGKILL */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** an external database; without it the server runs its embedded PostgreSQL (QMS_DATA_DIR in env) */
  databaseUrl?: string;
  port?: number;
  cluster?: boolean;
  env?: NodeJS.ProcessEnv;
  /** modules loaded before the server (`node --import`), e.g. fixes/ that stand in for a proposed fix */
  preload?: string[];
  /** the server's soft limit on open files (`ulimit -n`), e.g. systemd's default 1024 */
  openFiles?: number;
}

function withoutDatabaseUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _unused, ...rest } = env;
  return rest;
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  // `node --import tsx`: one process, so SIGKILL reaches the server itself (the tsx CLI would
  // stand in between and leave the server running)
  const preload = (options.preload ?? []).flatMap((m) => ['--import', path.isAbsolute(m) ? m : path.join(import.meta.dirname, m)]);
  const args = ['--import', 'tsx', ...preload, path.join(ROOT, 'server/src/main.ts')];
  // through sh for its `ulimit`, then exec: the pid is still the server's own (SIGKILL reaches it)
  const [command, argv] = options.openFiles
    ? ['/bin/sh', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: {
      ...withoutDatabaseUrl(process.env), ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}), PORT: String(port), HOST: '127.0.0.1', QMS_DEMO: '0',
      QMS_CLUSTER: options.cluster ? '1' : '0', QMS_RATE_LIMITS: 'off', LOG_LEVEL: 'warn', QMS_ADMIN_PASSWORD: 'reliability-admin-1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let partial = '';
  const errors: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    out = (out + text).slice(-50_000);
    // pino lines at level error (50) and above, kept whole whatever follows
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (/"level":(50|60)/.test(line)) errors.push(line);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    children.delete(child);
    resolve();
  }));
  const url = `http://127.0.0.1:${port}`;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const healthy = await until(async () => {
    if (gone()) return true;
    try {
      return (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
    } catch {
      return false;
    }
  }, 45_000, 50);
  if (!healthy || gone()) {
    child.kill('SIGKILL');
    throw new Error(`server did not become healthy:\n${out.slice(-4000)}`);
  }
  return {
    url, port, pid: child.pid!, child, exited, output: () => out, errors: () => errors,
    async stop(ms = 15_000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---- a site with known tokens ----

export interface TokenSite extends SiteFixture {
  /** staff session token of the official of counter n (index n-1) */
  staffTokens: string[];
  displays: { id: string; token: string }[];
  kiosks: { id: string; token: string }[];
}

const token = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** createSite's site (open at all times) plus staff sessions and devices with known tokens. */
export async function tokenSite(db: Db, spec: SiteSpec & { displays?: number; kiosks?: number } = {}): Promise<TokenSite> {
  const site = await createSite(db, spec);
  const staffTokens = site.staff.map(() => token('qs_'));
  await db.insertInto('userSession').values(site.staff.map((userId, i) => ({
    userId, tokenHash: tokenHash(staffTokens[i]!), expiresAt: new Date(Date.now() + 24 * 3_600_000),
  }))).execute();
  const devices = async (kind: 'display' | 'kiosk', n: number) => {
    const list: { id: string; token: string }[] = [];
    for (let i = 0; i < n; i++) {
      const t = token('qd_');
      const row = await db.insertInto('device').values({
        siteId: site.siteId, kind, name: `${kind} ${i + 1}`, counterId: null, tokenHash: tokenHash(t),
        pairingCodeHash: null, pairingExpiresAt: null, lastSeenAt: null, revokedAt: null, settings: '{}',
      }).returning('id').executeTakeFirstOrThrow();
      list.push({ id: row.id, token: t });
    }
    return list;
  };
  return { ...site, staffTokens, displays: await devices('display', spec.displays ?? 2), kiosks: await devices('kiosk', spec.kiosks ?? 2) };
}

// ---- HTTP ----

export interface Reply {
  status: number;
  body: any;
  ms: number;
}

/** A request that never hangs: status 0 when the connection failed, -1 when it timed out. */
export async function api(base: string, method: string, url: string, tokenValue?: string, body?: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<Reply> {
  const t0 = Date.now();
  try {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { ...(tokenValue ? { authorization: `Bearer ${tokenValue}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, ms: Date.now() - t0 };
  } catch (error) {
    const name = (error as Error).name;
    return { status: name === 'TimeoutError' || name === 'AbortError' ? -1 : 0, body: String(error), ms: Date.now() - t0 };
  }
}

// ---- screens ----

export interface Screen {
  socket: Socket;
  snapshots: QueueSnapshot[];
  called: { ticketId: string; code: string; counterId: string; at: number }[];
  disconnects: string[];
  connectErrors: number;
  /** the server said who we are (which upstream, via the proxy): remote port of the last connection */
  close(): void;
}

/** A display or kiosk as the screens connect: WebSocket, reconnecting for ever (500 ms doubling to 5 s). */
export function screen(url: string, tokenValue: string): Screen {
  const socket = io(url, {
    auth: { token: tokenValue }, transports: ['websocket'], forceNew: true,
    reconnectionDelay: 500, reconnectionDelayMax: 5000,
  });
  const s: Screen = {
    socket, snapshots: [], called: [], disconnects: [], connectErrors: 0,
    close: () => {
      socket.removeAllListeners();
      socket.close();
    },
  };
  socket.on('queue:snapshot', (snapshot: QueueSnapshot) => s.snapshots.push(snapshot));
  socket.on('ticket:called', (p: { ticket: { id: string; code: string }; counter: { id: string } }) =>
    s.called.push({ ticketId: p.ticket.id, code: p.ticket.code, counterId: p.counter.id, at: Date.now() }));
  socket.on('disconnect', (reason) => s.disconnects.push(reason));
  socket.on('connect_error', () => s.connectErrors++);
  return s;
}

// ---- a TCP proxy on 127.0.0.1 ----

export type ProxyMode = 'up' | 'blackhole' | 'down';

/**
 * Forwards 127.0.0.1:port to one of `upstreams` (round robin over the ones that accept).
 * 'blackhole': the network is gone: bytes in both directions are read and thrown away, new
 * connections are accepted and hang (as packets into a dead link); when the network returns,
 * the connections that lived through it are reset. 'down': every connection is reset at once
 * and new ones are refused by an immediate reset.
 */
export class TcpProxy {
  private mode: ProxyMode = 'up';
  private next = 0;
  private readonly pairs = new Set<{ client: net.Socket; upstream?: net.Socket; dead: boolean }>();
  private constructor(private readonly server: net.Server, readonly port: number, private readonly upstreams: number[]) {}

  static async start(upstreams: number[]): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, upstreams);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** how many client connections each upstream carries now */
  connectionsPerUpstream(): Record<number, number> {
    const counts: Record<number, number> = {};
    for (const p of this.pairs) if (p.upstream && !p.dead) counts[p.upstream.remotePort!] = (counts[p.upstream.remotePort!] ?? 0) + 1;
    return counts;
  }

  setMode(mode: ProxyMode): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'down' || (was === 'blackhole' && mode === 'up')) {
      for (const p of this.pairs) if (mode === 'down' || p.dead) this.drop(p);
    } else if (mode === 'blackhole') {
      for (const p of this.pairs) p.dead = true;
    }
  }

  async close(): Promise<void> {
    for (const p of this.pairs) this.drop(p);
    await new Promise((resolve) => this.server.close(resolve));
  }

  private drop(p: { client: net.Socket; upstream?: net.Socket }) {
    p.client.resetAndDestroy();
    p.upstream?.destroy();
    this.pairs.delete(p as never);
  }

  private accept(client: net.Socket) {
    client.on('error', () => {});
    if (this.mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const pair: { client: net.Socket; upstream?: net.Socket; dead: boolean } = { client, dead: this.mode === 'blackhole' };
    this.pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    });
    const pending: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      if (pair.dead) return; // into the void
      if (pair.upstream?.readyState === 'open') pair.upstream.write(chunk);
      else pending.push(chunk);
    });
    if (pair.dead) return; // never reaches a server
    const tryUpstream = (attempt: number) => {
      if (attempt >= this.upstreams.length) {
        client.resetAndDestroy();
        this.pairs.delete(pair);
        return;
      }
      const port = this.upstreams[this.next++ % this.upstreams.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      let connected = false;
      upstream.on('error', () => {
        if (!connected) tryUpstream(attempt + 1); // refused: the next server
        else client.destroy();
      });
      upstream.once('connect', () => {
        connected = true;
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        pair.upstream = upstream;
        for (const chunk of pending.splice(0)) upstream.write(chunk);
        upstream.on('data', (chunk: Buffer) => {
          if (!pair.dead) client.write(chunk);
        });
        upstream.on('close', () => {
          if (!pair.dead) client.destroy();
        });
      });
    };
    tryUpstream(0);
  }
}
