// Every error code the API answers with, in `{error: {code, message, details?}}`. Programs and
// screens act on the code (and the details), never on the message, which is an English
// sentence for people reading logs. A code is a public contract: add, never rename.

export const ERROR_CODES = [
  // any request
  'VALIDATION_FAILED', 'BAD_REQUEST', 'INVALID_JSON', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'NOT_FOUND', 'RATE_LIMITED',
  'UNAVAILABLE', 'INTERNAL',
  // reports and exports (503): past the reports' statement time; every report connection taken and their queue full
  'REPORT_TIMED_OUT', 'REPORTS_BUSY',
  // who is asking
  'UNAUTHENTICATED', 'FORBIDDEN', 'INVALID_CREDENTIALS', 'INVALID_PAIRING_CODE', 'SITE_REQUIRED',
  // issuing
  'SITE_CLOSED', 'SERVICE_CLOSING', 'UNKNOWN_PRIORITY', 'ISSUE_KEY_REUSED', 'CODE_IN_USE',
  // counters
  'COUNTER_NOT_FOUND', 'COUNTER_NOT_OPEN', 'COUNTER_PAUSED', 'COUNTER_NOT_PAUSED', 'COUNTER_TAKEN', 'COUNTER_BUSY',
  'NOT_COUNTER_OFFICIAL', 'COUNTER_REQUIRED', 'COUNTER_IN_USE', 'COUNTER_NUMBER_TAKEN',
  // tickets
  'TICKET_NOT_FOUND', 'TICKET_NOT_WAITING', 'TICKET_NOT_CALLED', 'TICKET_NOT_IN_SERVICE', 'TICKET_AT_OTHER_COUNTER',
  'TICKET_OF_EARLIER_DAY', 'TICKET_FINISHED', 'SERVICE_NOT_SERVED',
  // ratings and alerts
  'TICKET_NOT_SERVED', 'ALREADY_RATED', 'RATING_NOT_OFFERED', 'RATING_WINDOW_CLOSED', 'INVALID_SCORE', 'INVALID_REASON',
  'ALERT_NOT_FOUND',
  // configuration
  'SITE_NOT_FOUND', 'SITE_CODE_TAKEN', 'SERVICE_NOT_FOUND', 'SERVICE_CODE_TAKEN', 'SERVICE_HAS_TICKETS', 'PREFIX_TAKEN',
  'PRIORITY_GROUP_NOT_FOUND', 'INVALID_OPENING_HOURS', 'DUPLICATE_HOLIDAY', 'DUPLICATE_PROCEDURE', 'DUPLICATE_SERVICE',
  'INVALID_ANNOUNCEMENT', 'INVALID_PRIORITY_GROUP', 'INVALID_RATING_SCALE', 'INVALID_TIMEZONE', 'INVALID_RANGE', 'INVALID_GROUP_BY', 'INVALID_PERIOD',
  'USER_NOT_FOUND', 'USERNAME_TAKEN', 'DEVICE_NOT_FOUND', 'NOT_A_DISPLAY', 'NOT_A_KIOSK',
  'PRINTER_ADDRESS_REFUSED', 'AGENT_DEVICE_NOT_FOUND',
  'PHOTO_NOT_FOUND', 'PHOTO_UNREADABLE', 'PHOTO_UNSUPPORTED_TYPE', 'PHOTO_TOO_MANY_PIXELS',
  // notifications
  'INVALID_CHANNEL_SETTINGS', 'CHANNEL_NOT_SET_UP', 'WEBHOOK_NOT_FOUND', 'DELIVERY_NOT_FOUND', 'RECIPIENT_NOT_FOUND',
  'INVALID_ADDRESS', 'INVALID_PHONE', 'CONTACT_NOT_OFFERED', 'TICKET_NOT_LIVE', 'INVALID_INTEGRATION_KEY', 'NOT_A_COMPLAINT',
  // procedures and dossiers
  'UNKNOWN_PROCEDURE', 'DOSSIER_NOT_FOUND', 'TICKET_NOT_AT_YOUR_COUNTER', 'INSUFFICIENT_SCOPE',
  // appointments and remote tickets
  'BOOKING_NOT_FOUND', 'BOOKINGS_CLOSED', 'SLOT_NOT_OFFERED', 'SLOT_FULL', 'BOOKING_LIMIT', 'CONTACT_REQUIRED', 'CONSENT_REQUIRED',
  'INVALID_ID_NUMBER', 'VERIFICATION_FAILED', 'VERIFICATION_EXPIRED', 'VERIFICATION_LOCKED', 'BOOKING_NOT_CONFIRMED',
  'BOOKING_CANCELLED', 'BOOKING_USED', 'BOOKING_MISSED', 'BOOKING_LAPSED', 'BOOKING_OTHER_DAY', 'BOOKING_TOO_EARLY',
  'BOOKING_NOT_CHANGEABLE', 'REMOTE_NOT_OFFERED', 'INVALID_CAPACITY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What some refusals carry besides their code: what a screen needs to say it in its words. */
export interface ErrorDetails {
  /** the ticket's code, e.g. "A007" */
  code?: string;
  ticketId?: string;
  /** the ticket's status, when a move was refused because of it */
  status?: string;
  /** the counter at which the ticket is, or that refused */
  counterNumber?: number;
  /** the counter that refused (call-next) */
  number?: number;
  /** the official working the counter that refused */
  staffName?: string;
  [key: string]: unknown;
}

export const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);
