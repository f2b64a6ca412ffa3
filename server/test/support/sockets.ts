import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@qms/protocol';

// Real socket.io clients for API tests: WebSocket only, no reconnection, each a connection of
// its own; every socket opened through a SocketClients is closed by its closeAll().

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** A socket that keeps every event it received, in order. */
export interface Listener {
  socket: Client;
  events: { name: string; payload: unknown }[];
}

export class SocketClients {
  private readonly sockets: Client[] = [];

  constructor(private readonly baseUrl: () => string) {}

  /** Opens a socket (auth: `{ token }`, and `siteId` for staff of several sites). */
  open(auth: Record<string, string>, url = this.baseUrl()): Client {
    const socket: Client = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    this.sockets.push(socket);
    return socket;
  }

  /** Opens a socket, records everything it receives, and resolves once its snapshot arrived. */
  async listen(auth: Record<string, string>, url?: string): Promise<Listener> {
    const socket = this.open(auth, url);
    const events: Listener['events'] = [];
    socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
    await new Promise<void>((resolve, reject) => {
      socket.once('queue:snapshot', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, events };
  }

  closeAll(): void {
    for (const s of this.sockets.splice(0)) s.close();
  }
}

/** The next `name` event of the socket (rejects after timeoutMs). */
export function nextEvent<E extends keyof ServerToClientEvents>(socket: Client, name: E, timeoutMs = 5000): Promise<Payload<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(name)} within ${timeoutMs} ms`)), timeoutMs);
    (socket.once as (n: string, cb: (p: unknown) => void) => void)(name as string, (payload) => {
      clearTimeout(timer);
      resolve(payload as Payload<E>);
    });
  });
}

/** Waits until check() holds, at most `ms` (the caller's expect says what was missing). */
export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
