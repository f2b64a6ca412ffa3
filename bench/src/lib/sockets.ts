import https from 'node:https';
import { io, type Socket } from 'socket.io-client';
import { now, pool, sleep, until } from './util.ts';

// A fleet of real socket.io clients (WebSocket transport only, one connection each, the
// protocol client's reconnection settings) and what each one has seen.

export interface FleetClient {
  index: number;
  socket: Socket;
  /** queue:snapshot events received */
  snapshots: number;
  lastSnapshotAt: number;
  connectErrors: number;
  lastError: string | undefined;
  disconnects: string[];
  /** bytes received: socket.io's packets as the server sent them, without WebSocket, TLS and TCP framing */
  bytes: number;
}

export interface FleetOptions {
  /** clients connecting at once (each waits for its snapshot) */
  concurrency?: number;
  /** give up on one client after this long */
  timeoutMs?: number;
  /** auto-reconnect as the screens do (default true) */
  reconnection?: boolean;
  /** which event proves a client is ready (default queue:snapshot) */
  readyEvent?: string;
  /** extra auth fields (siteId for staff with several sites) */
  auth?: (index: number) => Record<string, unknown>;
  /** for https: the certificate authority to trust (the bench's self-signed certificate) */
  ca?: string;
  /** for https: each client keeps its TLS session and resumes it when it reconnects, as a browser does (default: a full handshake every time) */
  tlsSessions?: boolean;
}

export class Fleet {
  readonly clients: FleetClient[] = [];
  /** connect_error messages of every client, counted */
  readonly errorCounts: Record<string, number> = {};

  static async connect(url: string | ((index: number) => string), tokens: string[], options: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet();
    const readyEvent = options.readyEvent ?? 'queue:snapshot';
    const urlOf = typeof url === 'string' ? () => url : url;
    await pool(tokens, options.concurrency ?? 100, (token, index) => {
      const target = urlOf(index);
      const socket = io(target, {
        auth: { token, ...options.auth?.(index) },
        transports: ['websocket'],
        forceNew: true,
        reconnection: options.reconnection ?? true,
        reconnectionDelay: 500,
        reconnectionDelayMax: 5000,
        timeout: options.timeoutMs ?? 20_000,
        ...(options.ca ? { ca: options.ca } : {}),
        // an agent of its own: https.Agent keeps the last session per server, and resumes it
        // (socket.io-client types `agent` as a browser's string | boolean; in Node, ws takes an http.Agent)
        ...(options.tlsSessions && target.startsWith('https:') ? { agent: new https.Agent({ ca: options.ca, maxCachedSessions: 1 }) as unknown as string } : {}),
      });
      const client: FleetClient = { index, socket, snapshots: 0, lastSnapshotAt: 0, connectErrors: 0, lastError: undefined, disconnects: [], bytes: 0 };
      fleet.clients.push(client);
      // each connection has an engine of its own
      socket.io.on('open', () => socket.io.engine.on('packet', (packet: { data?: unknown }) => {
        const data = packet.data;
        client.bytes += 1 + (typeof data === 'string' ? Buffer.byteLength(data) : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : 0);
      }));
      socket.on('queue:snapshot', () => {
        client.snapshots++;
        client.lastSnapshotAt = now();
      });
      socket.on('connect_error', (error) => {
        client.connectErrors++;
        client.lastError = error.message;
        fleet.errorCounts[error.message] = (fleet.errorCounts[error.message] ?? 0) + 1;
      });
      socket.on('connect', () => {
        client.lastError = undefined;
      });
      socket.on('disconnect', (reason) => client.disconnects.push(reason));
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs ?? 20_000);
        socket.once(readyEvent, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    });
    fleet.clients.sort((a, b) => a.index - b.index);
    return fleet;
  }

  get size() {
    return this.clients.length;
  }

  ready(minSnapshots = 1): number {
    return this.clients.filter((c) => c.socket.connected && c.snapshots >= minSnapshots).length;
  }

  /**
   * Every client disconnects and connects again at once (no back-off): ms from the connects until
   * the last has a fresh snapshot, NaN if not all have one within `timeoutMs`.
   */
  async reconnectAll(timeoutMs: number, pollMs = 20): Promise<number> {
    const before = this.clients.map((c) => c.snapshots);
    for (const c of this.clients) c.socket.disconnect();
    const t0 = now();
    for (const c of this.clients) c.socket.connect();
    const all = await until(() => this.clients.every((c, i) => c.snapshots > before[i]!), timeoutMs, pollMs);
    return all ? Math.max(...this.clients.map((c) => c.lastSnapshotAt)) - t0 : Number.NaN;
  }

  /** Clients whose present connection resumed an earlier TLS session (a peek into engine.io's transport and ws's socket). */
  tlsResumed(): number {
    return this.clients.filter((c) => {
      const transport = c.socket.io.engine?.transport as unknown as { ws?: { _socket?: { isSessionReused?: () => boolean } } } | undefined;
      return transport?.ws?._socket?.isSessionReused?.() === true;
    }).length;
  }

  /** Closes every client, a few hundred at a time so the server is not flooded with closes. */
  async close(): Promise<void> {
    for (let i = 0; i < this.clients.length; i += 500) {
      for (const c of this.clients.slice(i, i + 500)) {
        c.socket.removeAllListeners();
        c.socket.close();
      }
      await sleep(10);
    }
  }
}
