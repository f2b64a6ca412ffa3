import type { Alert, Counter, CounterRef, QueueSnapshot, ServiceQueue, Ticket } from './schemas.ts';

// The socket.io event maps, declared once: the server and every client import them.

export interface TicketCalled {
  ticket: Ticket;
  counter: CounterRef;
  recall: boolean;
  /**
   * The instant of this call or recall (extension of API.md): the same as its entry in a later
   * snapshot's recentCalls, so a screen can tell a call it heard from one it missed.
   */
  at: string;
}

export interface RatingRequested {
  ticketId: string;
  counterId: string;
  /** photoUrl: the official's photo when there is one (a URL: the image itself never travels in an event) */
  staff: { displayName: string; photoUrl?: string };
}

/**
 * `rating:created`: the ticket has its rating (extension of API.md), to the devices of the counter
 * that served it: a tablet still asking about it (the citizen rated on the phone) stops asking.
 */
export interface RatingCreated {
  ticketId: string;
  counterId: string;
  channel: 'tablet' | 'phone';
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
  /** what changed, for screens that care: 'site', 'hours', 'services', 'counters', 'priority', 'rating', 'staff', 'devices', 'announcement', 'zones' (a display's zone), 'notifications' (whether the kiosk offers SMS notices) */
  parts: string[];
}

/**
 * `print:requested`: a ticket for the site agent of a kiosk whose printer is `{kind:'agent'}`
 * (a USB or serial printer on the kiosk PC). Sent only to that kiosk's agent sockets
 * (rooms.agent), which answer through the acknowledgement once the printer took it or failed.
 */
export interface PrintJob {
  jobId: string;
  /** what hardware's renderTicket draws; issuedAt is ISO-8601 */
  ticket: {
    centreName: string;
    serviceName: { vi: string; en: string };
    code: string;
    peopleAhead: number;
    estimatedWaitSeconds: number | null;
    /** no counter serving the service was open or paused when it was issued */
    noCounterOpen?: boolean;
    issuedAt: string;
    timeZone: string;
    url: string;
    priorityLabel?: { vi: string; en: string };
    /** a ticket from a booking or taken from away (Ticket.booking): the paper is marked so; slotAt is ISO-8601 */
    booking?: { kind: 'slot' | 'remote'; slotAt: string };
  };
}
export interface PrintJobResult {
  status: 'sent' | 'failed';
  /** when failed: paper_out, offline or error */
  reason?: 'paper_out' | 'offline' | 'error';
  message?: string;
  /** printed, but paper is running low */
  paperLow?: boolean;
  /** the agent's printer, e.g. "usb /dev/usb/lp0", for alerts */
  printer?: string;
}

export interface ServerToClientEvents {
  'queue:snapshot': (snapshot: QueueSnapshot) => void;
  'ticket:issued': (payload: { ticket: Ticket }) => void;
  'ticket:called': (payload: TicketCalled) => void;
  'ticket:updated': (payload: { ticket: Ticket }) => void;
  'counter:updated': (payload: { counter: Counter }) => void;
  'rating:requested': (payload: RatingRequested) => void;
  /** to the counter's devices only, like rating:requested (extension of API.md) */
  'rating:created': (payload: RatingCreated) => void;
  /** waiting figures of the services a change touched (extension of API.md) */
  'queue:stats': (payload: { siteId: string; services: ServiceQueue[] }) => void;
  /** to the managers (and admins) watching the site only: rooms.managers(siteId) (extension of API.md) */
  'alert:raised': (payload: AlertRaised) => void;
  'alert:acknowledged': (payload: AlertAcknowledged) => void;
  /** to every screen of the site after a configuration change (extension of API.md) */
  'site:updated': (payload: SiteUpdated) => void;
  /** to a kiosk's site agent only (rooms.agent), acknowledged with the outcome (extension of API.md) */
  'print:requested': (job: PrintJob, ack: (result: PrintJobResult) => void) => void;
}

/**
 * `call:displayed`: a wall display has a live `ticket:called` on its screen (extension of
 * API.md). It echoes the call's ticket id and `calledAt`; the server measures the time from the
 * commit to this answer with its own clock (qms_call_to_display_seconds, docs/observability.md).
 * Optional: a display that never sends it (an older build) works as before.
 */
export interface CallDisplayed {
  ticketId: string;
  calledAt: string;
}

// Mutations go through HTTP; sockets only listen, but for a display's receipt of a call,
// which changes nothing.
export interface ClientToServerEvents {
  'call:displayed': (payload: CallDisplayed) => void;
}

export type ServerEventName = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>[0];

/** Room names: per site, per counter, per device, and the managers watching a site. */
export const rooms = {
  site: (siteId: string) => `site:${siteId}`,
  managers: (siteId: string) => `managers:${siteId}`,
  /** the wall displays of a site (also in its site room): a call reaches them first */
  displays: (siteId: string) => `displays:${siteId}`,
  counter: (counterId: string) => `counter:${counterId}`,
  device: (deviceId: string) => `device:${deviceId}`,
  /** the site agent sockets of a device (handshake auth `{token, agent: true}`) */
  agent: (deviceId: string) => `agent:${deviceId}`,
} as const;
