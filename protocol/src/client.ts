import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from './events.ts';
import { createHttpClient, type ClientOptions } from './http-client.ts';

export * from './http-client.ts';
export * from './issue-retry.ts';

// The typed client every screen, the site agent and the tests use: the API's calls
// (http-client.ts) and a socket for events.

export type QmsSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function createClient(options: ClientOptions = {}) {
  const http = createHttpClient(options);
  /**
   * A socket that reconnects by itself for ever; every (re)connect brings a fresh
   * queue:snapshot. socket.io retries network drops on its own, but not a socket the server
   * closed (a restart closes every socket) nor a handshake its middleware refused (database
   * still starting): those are retried here, with jitter so a centre's screens do not all
   * knock at once. UNAUTHENTICATED is left to the screen (a revoked device re-pairs).
   */
  const connect = (extra: { siteId?: string } = {}): QmsSocket => {
    const socket: QmsSocket = io(http.baseUrl || undefined, {
      auth: (cb) => cb({ token: http.token, ...extra }),
      transports: ['websocket', 'polling'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      withCredentials: true,
    });
    let closedByUs = false;
    const retry = (ms: number) =>
      setTimeout(() => !closedByUs && !socket.connected && !socket.active && socket.connect(), ms + Math.random() * 2000);
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') closedByUs = true;
      if (reason === 'io server disconnect') retry(1000);
    });
    socket.on('connect_error', (error) => {
      if (error.message !== 'UNAUTHENTICATED' && !socket.active) retry(2000);
    });
    // close() goes through disconnect(): a socket its screen closed stays closed
    const disconnect = socket.disconnect.bind(socket);
    socket.disconnect = () => {
      closedByUs = true;
      return disconnect();
    };
    return socket;
  };
  return Object.assign(http, { connect });
}

export type QmsClient = ReturnType<typeof createClient>;
