import { createAdapter } from '@socket.io/postgres-adapter';
import fp from 'fastify-plugin';
import { Server, type Socket } from 'socket.io';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Db } from '@qms/db';
import { rooms, type ClientToServerEvents, type QueueSnapshot, type ServerToClientEvents } from '@qms/protocol';
import type { AuthChange } from '../auth/auth.service.ts';
import { isAdmin, managerOfSite, type Principal } from '../auth/principal.ts';
import { SESSION_COOKIE } from '../http/auth.plugin.ts';
import type { PublishedEvent } from '../queue/queue.events.ts';
import type { QueueService } from '../queue/queue.service.ts';
import { DeviceTokens, SeenMarks } from './device.batch.ts';
import { SnapshotShare } from './snapshot.share.ts';

type InterServerEvents = Record<string, never>;
export interface SocketData {
  principal: Principal;
  siteId: string;
}
export type QmsServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type QmsSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface Realtime {
  io: QmsServer;
  /** Sends an event to its room. Only the realtime subscriber calls it, after the commit. */
  send(e: PublishedEvent): void;
  /** Something at the site changed: the shared snapshot is built again for the next socket. */
  siteChanged(siteId: string): void;
  /** Devices with a socket on this process (the monitor marks them seen; see monitor/). */
  connectedDeviceIds(): string[];
  /** Devices of the site with a socket on any process (asks the other processes in a cluster). */
  onlineDeviceIds(siteId: string): Promise<Set<string>>;
  /** Snapshots built for connecting sockets since start (each shared by the sockets of a burst). */
  snapshotsBuilt(): number;
  /**
   * With several processes (clusterPool): whether the PostgreSQL adapter is listening, so that
   * events published by the other processes reach this one's sockets. Undefined without one.
   */
  adapterState(): 'ok' | 'down' | undefined;
}

export interface RealtimeOptions {
  db: Db;
  /** the snapshots screens get on connect, and the time of the device marks */
  queue: Pick<QueueService, 'stampedSnapshot' | 'now'>;
  /** a pg pool for @socket.io/postgres-adapter, when several processes share the database */
  clusterPool?: pg.Pool;
}

const SITE_ROOM = rooms.site('');
const BROADCAST = 3; // socket.io-adapter's ClusterAdapter MessageType.BROADCAST
interface AdapterMessage {
  type?: number;
  data?: { opts?: { rooms?: string[] }; packet?: { data?: unknown[] } };
}

/** Domain events carry their payload as `unknown`: the typed emit is checked at the protocol. */
const emit = (to: { emit: unknown }, name: string, payload: unknown) =>
  void (to.emit as (name: string, payload: unknown) => boolean).call(to, name, payload);

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * Whether a handshake may come from this Origin. A browser always sends the origin of the page
 * that opens the socket, and a page of another site must not ride on a manager's session
 * cookie (cross-site WebSocket hijacking): only this server's own pages, reached by the
 * address in the Host header or by QMS_PUBLIC_URL (behind a proxy that rewrites Host), may
 * connect. Programs (the site agent, tests, integrations) send no Origin and carry a token.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, publicUrl: string | undefined): boolean {
  if (origin === undefined) return true;
  const parse = (value: string) => {
    try {
      return new URL(value);
    } catch {
      return null;
    }
  };
  // "null" (a sandboxed frame, a file) does not parse, and is refused
  const from = parse(origin);
  if (!from || (from.protocol !== 'http:' && from.protocol !== 'https:')) return false;
  if (host && from.host === parse(`${from.protocol}//${host}`)?.host) return true;
  return !!publicUrl && from.origin === parse(publicUrl)?.origin;
}

/**
 * The pool as the PostgreSQL adapter sees it. When its LISTEN connection ends (PostgreSQL
 * restarted) the adapter forgets that client and takes another, without releasing the dead
 * one: each restart would keep one of the pool's few connections for good, until the adapter
 * could neither publish nor listen. The dead client is released here, once.
 */
function listenerReleasing(pool: pg.Pool): pg.Pool {
  const connect = async () => {
    const client = await pool.connect();
    const release = client.release.bind(client);
    let released = false;
    client.release = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      release(error);
    };
    client.once('end', () => client.release(new Error('connection ended')));
    return client;
  };
  return { query: pool.query.bind(pool), connect } as unknown as pg.Pool;
}

async function realtime(app: FastifyInstance, { db, queue, clusterPool }: RealtimeOptions) {
  const io: QmsServer = new Server(app.server, {
    serveClient: false,
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers.origin, req.headers.host, app.config.publicUrl)),
    // screens reconnect after drops; a restart should not pile up stale sockets
    pingInterval: 10_000,
    pingTimeout: 8_000,
    // screens send nothing but their handshake: keep what one socket may buffer small
    maxHttpBufferSize: 16 * 1024,
    // on a LAN, compressing costs more memory and CPU per socket than it saves (polling, the
    // fallback of old TV browsers, still works: it is only not gzipped)
    perMessageDeflate: false,
    httpCompression: false,
  });
  const snapshots = new SnapshotShare((siteId: string) => queue.stampedSnapshot(siteId));
  if (clusterPool) {
    io.adapter(createAdapter(listenerReleasing(clusterPool), { heartbeatInterval: 2_000, heartbeatTimeout: 6_000 }));
    // events another process published for a site's room drop the shared snapshot here too
    const adapter = io.of('/').adapter as unknown as { onMessage?: (message: AdapterMessage, offset?: string) => unknown };
    const onMessage = adapter.onMessage?.bind(adapter);
    if (onMessage) {
      adapter.onMessage = (message, offset) => {
        if (message?.type === BROADCAST && message.data?.packet?.data?.[0] !== 'queue:stats') {
          for (const room of message.data?.opts?.rooms ?? []) if (room.startsWith(SITE_ROOM)) snapshots.invalidate(room.slice(SITE_ROOM.length));
        }
        return onMessage(message, offset);
      };
    }
  }
  const emitToSite = (siteId: string, name: string, payload: unknown) => {
    // queue:stats only repeats what the commits before it changed (and dropped the snapshot for)
    if (name !== 'queue:stats') snapshots.invalidate(siteId);
    if (name === 'ticket:called') {
      // The call is announced on the wall displays: they get it before the site's counter
      // terminals, kiosks and tablets (one socket write each, in join order otherwise). Every
      // socket still receives the site's events in the order they were published.
      const displays = rooms.displays(siteId);
      emit(io.to(displays), name, payload);
      return emit(io.to(rooms.site(siteId)).except(displays), name, payload);
    }
    emit(io.to(rooms.site(siteId)), name, payload);
  };
  // a reconnect storm is thousands of handshakes: device tokens are looked up together
  const deviceTokens = new DeviceTokens(db);

  const resolve = (token: string | undefined) => (DeviceTokens.handles(token) ? deviceTokens.resolve(token) : app.auth.resolve(token));
  /**
   * What each open socket signed in with, kept to check its rights again whenever they change
   * (sign-out, expiry, a disabled account, a new role or site list, a revoked or re-paired
   * device): in this process (not in socket.data, which other processes of a cluster can fetch).
   */
  const signedIn = new WeakMap<QmsSocket, { token: string; changes: number }>();
  /** changes heard so far: a handshake that resolved its token before one is checked again */
  let changes = 0;

  io.use(async (socket, next) => {
    try {
      const auth = socket.handshake.auth as { token?: unknown; siteId?: unknown };
      const token = typeof auth.token === 'string' ? auth.token : cookieToken(socket.handshake.headers.cookie);
      const seen = changes;
      const principal = await resolve(token);
      if (!principal || !token) return next(new Error('UNAUTHENTICATED'));
      signedIn.set(socket, { token, changes: seen });
      const wanted = typeof auth.siteId === 'string' ? auth.siteId : undefined;
      let siteId: string | undefined;
      if (principal.kind === 'device') siteId = principal.device.siteId;
      else if (wanted && (isAdmin(principal) || principal.siteIds.includes(wanted))) siteId = wanted;
      else if (!wanted && principal.siteIds.length === 1) siteId = principal.siteIds[0];
      if (!siteId) return next(new Error('SITE_REQUIRED'));
      socket.data = { principal, siteId };
      next();
    } catch {
      next(new Error('UNAVAILABLE'));
    }
  });

  /**
   * last_seen_at of a device, on connect and disconnect (the monitor refreshes it while connected,
   * and raises device_offline from it), without holding up the socket: a failed write only
   * delays an alert.
   */
  const seen = new SeenMarks(db, (error) => app.log.debug({ err: error }, 'last_seen_at not recorded'));
  const markSeen = (deviceId: string) => seen.mark(deviceId, queue.now());

  /**
   * The snapshot goes to the sockets that waited for the same shared build together: one
   * broadcast, encoded once, in the microtask after they all resumed.
   */
  const waiting = new Map<() => QueueSnapshot, string[]>();
  const sendSnapshot = (socket: QmsSocket, restamp: () => QueueSnapshot) => {
    const ids = waiting.get(restamp);
    if (ids) return void ids.push(socket.id);
    waiting.set(restamp, [socket.id]);
    queueMicrotask(() => {
      const all = waiting.get(restamp)!;
      waiting.delete(restamp);
      io.local.to(all).emit('queue:snapshot', restamp());
    });
  };

  io.on('connection', async (socket: QmsSocket) => {
    const { principal, siteId } = socket.data;
    // the handshake (headers, auth) is read by now: let the upgrade request's object graph go
    // (socket.io's memory-usage advice; about 4 kB per socket, which thousands of screens hold)
    (socket.conn as unknown as { request: unknown }).request = null;
    const joined = [rooms.site(siteId)];
    if (principal.kind === 'device') {
      joined.push(rooms.device(principal.device.id));
      if (principal.device.counterId) joined.push(rooms.counter(principal.device.counterId));
      if (principal.device.kind === 'display') joined.push(rooms.displays(siteId));
      // the site agent of this device (hardware/src/agent): print jobs go to this room only
      if ((socket.handshake.auth as { agent?: unknown }).agent === true) joined.push(rooms.agent(principal.device.id));
      const deviceId = principal.device.id;
      markSeen(deviceId);
      socket.on('disconnect', () => markSeen(deviceId));
    } else {
      // alerts go to this room only: kiosks, displays and officials never receive them
      if (managerOfSite(principal, siteId)) joined.push(rooms.managers(siteId));
      // the session's end closes the socket (the screen then finds its token refused: sign-in)
      const timer = setTimeout(() => socket.disconnect(true), Math.min(Math.max(principal.expiresAt - Date.now(), 0), 2 ** 31 - 1));
      timer.unref();
      socket.on('disconnect', () => clearTimeout(timer));
    }
    await socket.join(joined);
    // a change heard while this socket's token was being looked up may not be in its principal
    if (signedIn.get(socket)?.changes !== changes) void recheck(socket);
    try {
      // joined first: every event from now on reaches the socket, whatever the snapshot's age
      sendSnapshot(socket, (await snapshots.get(siteId)).restamp);
    } catch (error) {
      app.log.warn({ err: error }, 'snapshot failed; the client will reconnect');
      socket.disconnect(true);
    }
  });

  /**
   * After a change to what tokens stand for, every open socket it touches is held to the new
   * rights at once: closed if its token no longer works or no longer reaches its site (the
   * screen reconnects and is refused, or lands on sign-in), otherwise re-scoped in place (a
   * manager made staff leaves the managers' room and receives no more alerts). Each process
   * does this for its own sockets, for changes made here and heard from the others.
   */
  async function recheck(socket: QmsSocket): Promise<void> {
    let principal: Principal | undefined;
    try {
      principal = await resolve(signedIn.get(socket)?.token);
    } catch (error) {
      // cannot tell: close it rather than let it hear what it may no longer (it reconnects)
      app.log.warn({ err: error }, 'could not check an open socket after a sign-in change: closed');
    }
    if (!socket.connected) return;
    const { siteId, principal: before } = socket.data;
    const reaches = principal?.kind === 'device'
      ? before.kind === 'device' && principal.device.id === before.device.id && principal.device.counterId === before.device.counterId
      : principal?.kind === 'staff' && (isAdmin(principal) || principal.siteIds.includes(siteId));
    if (!principal || !reaches) return void socket.disconnect(true);
    socket.data.principal = principal;
    if (principal.kind === 'staff') {
      if (managerOfSite(principal, siteId)) await socket.join(rooms.managers(siteId));
      else await socket.leave(rooms.managers(siteId));
    }
  }

  const touches = (p: Principal, change: AuthChange) => !!change.all || (p.kind === 'staff'
    ? p.sessionId === change.sessionId || p.user.id === change.userId
    : p.device.id === change.deviceId);
  const unwatch = app.auth.watch(async (change) => {
    changes++;
    const touched = [...io.of('/').sockets.values()].filter((s) => s.data?.principal && touches(s.data.principal, change));
    // the change is committed whatever happens here: a failed check closes the socket
    await Promise.all(touched.map((socket) => recheck(socket).catch(() => socket.disconnect(true))));
  });

  const value: Realtime = {
    io,
    send(e) {
      const target = (e.name === 'rating:requested' || e.name === 'rating:created') && e.counterId ? rooms.counter(e.counterId)
        : e.name === 'alert:raised' || e.name === 'alert:acknowledged' ? rooms.managers(e.siteId)
        : rooms.site(e.siteId);
      if (target === rooms.site(e.siteId)) emitToSite(e.siteId, e.name, e.payload);
      else emit(io.to(target), e.name, e.payload);
    },
    siteChanged: (siteId) => snapshots.invalidate(siteId),
    async onlineDeviceIds(siteId) {
      const sockets = await io.in(rooms.site(siteId)).fetchSockets();
      return new Set(sockets.flatMap((s) => (s.data.principal?.kind === 'device' ? [s.data.principal.device.id] : [])));
    },
    snapshotsBuilt: () => snapshots.builds,
    adapterState() {
      if (!clusterPool) return undefined;
      // @socket.io/postgres-adapter keeps its LISTEN connection in adapter.client.client, and
      // clears it while it reconnects (after PostgreSQL restarted, or the connection dropped)
      const listener = (io.of('/').adapter as unknown as { client?: { client?: unknown } }).client;
      return listener?.client ? 'ok' : 'down';
    },
    connectedDeviceIds() {
      const ids = new Set<string>();
      for (const socket of io.of('/').sockets.values()) {
        const p = socket.data?.principal;
        if (p?.kind === 'device') ids.add(p.device.id);
      }
      return [...ids];
    },
  };
  app.decorate('realtime', value);
  // Close the connections, not the sockets: clients then see a transport close and reconnect
  // to whichever process is up (a DISCONNECT packet would tell them to stay away).
  app.addHook('preClose', async () => {
    io.engine.close();
  });
  app.addHook('onClose', async () => {
    unwatch();
    await new Promise<void>((resolve) => io.close(() => resolve()));
    await seen.close();
  });
}

export const realtimePlugin = fp(realtime, { name: 'realtime', dependencies: ['auth'] });

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime;
  }
}
