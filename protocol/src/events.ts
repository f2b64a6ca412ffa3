import type { Alert, Counter, CounterRef, QueueSnapshot, ServiceQueue, Ticket } from './schemas.ts';

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

/** `alert:raised`: a new alert for the site's managers (criticism, low rating, wait past target, printer, device offline). */
export interface AlertRaised {
  alert: Alert;
}
/** `alert:acknowledged`: a manager has seen it (who and when are in the alert). */
export interface AlertAcknowledged {
  alert: Alert;
}
/** `site:updated`: the site's configuration changed; screens refetch GET /sites/:siteId. */
export interface SiteUpdated {
  siteId: string;
  /** what changed, for screens that care: 'site', 'hours', 'services', 'counters', 'priority', 'rating', 'staff', 'devices', 'announcement' */
  parts: string[];
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
  /** to the managers (and admins) watching the site only: rooms.managers(siteId) (extension of API.md) */
  'alert:raised': (payload: AlertRaised) => void;
  'alert:acknowledged': (payload: AlertAcknowledged) => void;
  /** to every screen of the site after a configuration change (extension of API.md) */
  'site:updated': (payload: SiteUpdated) => void;
}

// Mutations go through HTTP; sockets only listen.
export type ClientToServerEvents = Record<string, never>;

export type ServerEventName = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>[0];

/** Room names: per site, per counter, per device, and the managers watching a site. */
export const rooms = {
  site: (siteId: string) => `site:${siteId}`,
  managers: (siteId: string) => `managers:${siteId}`,
  counter: (counterId: string) => `counter:${counterId}`,
  device: (deviceId: string) => `device:${deviceId}`,
} as const;
