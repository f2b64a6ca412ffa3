// The one shape every outgoing channel has (SMS over SMPP or an HTTP gateway, email over SMTP,
// Zalo ZNS, webhooks). The delivery worker (notifications/worker.ts) knows only this: it claims
// a message, builds the site's channel from its settings, calls send, and records the outcome.
// A channel never retries by itself and never writes to the database: the worker does both.

export const CHANNEL_KINDS = ['sms', 'email', 'zalo', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** What a message is for: picks its template (notifications/templates.ts). */
export const MESSAGE_PURPOSES = [
  'ticket_ahead', 'ticket_called', 'ticket_reminder', 'dossier_ready',
  'leader_complaint', 'leader_wait', 'leader_device', 'channel_test',
  'booking_code', 'booking_confirmed', 'booking_reminder', 'remote_ticket',
] as const;
export type MessagePurpose = (typeof MESSAGE_PURPOSES)[number];

export interface Outgoing {
  /**
   * The message's own id, the same on every attempt: the recipient's duplicate check. Sent as
   * Message-ID (email), tracking_id (Zalo), RequestId (HTTP SMS gateways), a vendor TLV (SMPP).
   */
  key: string;
  /** a phone number as 84xxxxxxxxx (SMS, Zalo), an email address */
  to: string;
  purpose: MessagePurpose;
  lang: 'vi' | 'en';
  /** email only */
  subject?: string;
  /** the rendered template */
  text: string;
  /** the template's placeholders with their values (Zalo ZNS sends these, not the text) */
  params: Record<string, string>;
}

export interface Sent {
  /** the provider's id of the message, when it gives one */
  providerId?: string;
  /** SMS: segments sent, and what they cost in the provider's unit (VND) when set */
  segments?: number;
  cost?: number;
  /** HTTP channels: the answer's status */
  responseStatus?: number;
}

/**
 * A send that did not succeed. `retryable`: the worker tries again later (a timeout, a 5xx, a
 * throttled SMSC); not retryable: the message is dead at once (a bad number, a rejected
 * template, a 4xx that will not change).
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly responseStatus: number | undefined;
  constructor(message: string, options: { retryable: boolean; responseStatus?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    this.responseStatus = options.responseStatus;
  }
}

export interface Channel {
  readonly kind: ChannelKind;
  /** Sends one message. Resolves when the peer accepted it; rejects with DeliveryError otherwise. */
  send(message: Outgoing, signal: AbortSignal): Promise<Sent>;
  /** closes connections it keeps (an SMPP bind, an SMTP pool) */
  close(): Promise<void>;
}
