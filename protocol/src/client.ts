import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from './events.ts';
import type { AuthUser, Counter, DeviceInfo, PublicTicket, QueueSnapshot, SiteConfig, Ticket } from './schemas.ts';

// The typed client every screen and test uses: HTTP for commands, a socket for events.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  /** server origin, e.g. http://127.0.0.1:8080; '' for the page's own origin */
  baseUrl?: string;
  token?: string;
  fetch?: typeof fetch;
}

export type QmsSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function createClient(options: ClientOptions = {}) {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let token = options.token;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (method !== 'GET' && method !== 'DELETE') headers['content-type'] = 'application/json';
    const res = await doFetch(`${baseUrl}/api/v1${path}`, {
      method, headers, credentials: 'include',
      ...(method !== 'GET' && method !== 'DELETE' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    if (res.status === 204) return null as T;
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const error = data?.error ?? {};
      throw new ApiError(res.status, error.code ?? 'HTTP_' + res.status, error.message ?? res.statusText, error.details);
    }
    return data as T;
  }

  const ticketAction = (action: string) => (ticketId: string) =>
    request<{ ticket: Ticket }>('POST', `/tickets/${ticketId}/${action}`).then((r) => r.ticket);
  const counterAction = (action: string) => (counterId: string, body?: object) =>
    request<{ counter: Counter }>('POST', `/counters/${counterId}/${action}`, body).then((r) => r.counter);

  return {
    get token() {
      return token;
    },
    setToken(value: string | undefined) {
      token = value;
    },
    login: async (username: string, password: string) => {
      const r = await request<{ token: string; user: AuthUser; expiresAt: string }>('POST', '/auth/login', { username, password });
      token = r.token;
      return r;
    },
    logout: () => request<null>('POST', '/auth/logout'),
    me: () => request<{ kind: 'staff'; user: AuthUser; siteIds: string[] } | { kind: 'device'; device: DeviceInfo }>('GET', '/auth/me'),
    pair: async (code: string) => {
      const r = await request<{ device: DeviceInfo; token: string }>('POST', '/devices/pair', { code });
      token = r.token;
      return r;
    },
    sites: () => request<{ id: string; code: string; name: string; timezone: string }[]>('GET', '/sites'),
    site: (siteId: string) => request<SiteConfig>('GET', `/sites/${siteId}`),
    queue: (siteId: string) => request<QueueSnapshot>('GET', `/sites/${siteId}/queue`),
    issueTicket: (siteId: string, body: { serviceId: string; priority?: string; lang?: 'vi' | 'en' }) =>
      request<{ ticket: Ticket }>('POST', `/sites/${siteId}/tickets`, body).then((r) => r.ticket),
    ticket: (ticketId: string) => request<{ ticket: Ticket }>('GET', `/tickets/${ticketId}`).then((r) => r.ticket),
    publicTicket: (publicId: string) => request<PublicTicket>('GET', `/public/tickets/${publicId}`),
    callNext: (counterId: string) => request<{ ticket: Ticket } | null>('POST', `/counters/${counterId}/call-next`).then((r) => r?.ticket ?? null),
    callTicket: ticketAction('call'),
    recall: ticketAction('recall'),
    start: ticketAction('start'),
    finish: ticketAction('finish'),
    noShow: ticketAction('no-show'),
    cancel: ticketAction('cancel'),
    transfer: (ticketId: string, serviceId: string) =>
      request<{ ticket: Ticket }>('POST', `/tickets/${ticketId}/transfer`, { serviceId }).then((r) => r.ticket),
    rate: (ticketId: string, body: { score: number; reason?: string; comment?: string }) =>
      request<{ rating: { id: string; score: number } }>('POST', `/tickets/${ticketId}/rating`, body).then((r) => r.rating),
    counter: (counterId: string) => request<{ counter: Counter }>('GET', `/counters/${counterId}`).then((r) => r.counter),
    openCounter: counterAction('open'),
    pauseCounter: (counterId: string, reason?: string) => counterAction('pause')(counterId, reason ? { reason } : {}),
    resumeCounter: counterAction('resume'),
    closeCounter: counterAction('close'),
    registerDevice: (siteId: string, body: { kind: 'kiosk' | 'display' | 'counter' | 'rating'; name: string; counterId?: string }) =>
      request<{ device: DeviceInfo; token: string; pairingCode: string; pairingExpiresAt: string }>('POST', `/sites/${siteId}/devices`, body),
    revokeDevice: (deviceId: string) => request<null>('DELETE', `/devices/${deviceId}`),

    /**
     * A socket that reconnects by itself for ever; every (re)connect brings a fresh
     * queue:snapshot. socket.io retries network drops on its own, but not a socket the server
     * closed (a restart closes every socket) nor a handshake its middleware refused (database
     * still starting): those are retried here, with jitter so a centre's screens do not all
     * knock at once. UNAUTHENTICATED is left to the screen (a revoked device re-pairs).
     */
    connect(extra: { siteId?: string } = {}): QmsSocket {
      const socket: QmsSocket = io(baseUrl || undefined, {
        auth: (cb) => cb({ token, ...extra }),
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
    },
  };
}

export type QmsClient = ReturnType<typeof createClient>;
