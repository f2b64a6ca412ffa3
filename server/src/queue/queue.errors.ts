import type { ErrorCode, ErrorDetails } from '@qms/protocol';

/**
 * A refusal the domain explains: a stable code for programs, a sentence for people, and the
 * HTTP status the API answers with. Anything else escaping the domain is a bug.
 */
export class QueueError extends Error {
  constructor(
    /** one of protocol's ERROR_CODES: screens translate it */
    readonly code: ErrorCode,
    message: string,
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503 = 409,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

type Missing = 'ticket' | 'service' | 'counter' | 'site' | 'priority group' | 'booking';
export const notFound = (what: Missing, id: string) =>
  new QueueError(`${what.toUpperCase().replace(' ', '_') as Uppercase<'ticket' | 'service' | 'counter' | 'site' | 'priority_group' | 'booking'>}_NOT_FOUND`, `No ${what} ${id}`, 404);

/** The sentence of the 403 for an official acting at a counter of a site they are not staff of. */
export const NOT_STAFF_OF_SITE = 'You are not staff of this site';
