import type { Counter, CounterRef, QueueSnapshot, ServiceQueue, Ticket } from './schemas.ts';

// The socket.io event maps, declared once: the server and every client import them.

export interface TicketCalled {
  ticket: Ticket;
  counter: CounterRef;
  recall: boolean;
}

export interface RatingRequested {
  ticketId: string;
  counterId: string;
  staff: { displayName: string };
}

export interface ServerToClientEvents {
  'queue:snapshot': (snapshot: QueueSnapshot) => void;
  'ticket:issued': (payload: { ticket: Ticket }) => void;
  'ticket:called': (payload: TicketCalled) => void;
  'ticket:updated': (payload: { ticket: Ticket }) => void;
  'counter:updated': (payload: { counter: Counter }) => void;
  'rating:requested': (payload: RatingRequested) => void;
  /** waiting figures of the services a change touched (extension of API.md) */
  'queue:stats': (payload: { siteId: string; services: ServiceQueue[] }) => void;
}

// Mutations go through HTTP; sockets only listen.
export type ClientToServerEvents = Record<string, never>;

export type ServerEventName = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>[0];

/** Room names: per site, per counter, per device. */
export const rooms = {
  site: (siteId: string) => `site:${siteId}`,
  counter: (counterId: string) => `counter:${counterId}`,
  device: (deviceId: string) => `device:${deviceId}`,
} as const;
