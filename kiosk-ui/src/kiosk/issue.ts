import { gaveUp, ISSUE_RETRY, issueWithRetries, type PrintOutcome, type QmsClient, type RetryPolicy } from '@qms/protocol/client';
import type { Ticket } from '@qms/protocol';
import { newIssueKey } from '@qms/ui-shared/issue-key';

// A press of the kiosk's button, through the protocol client's `issue` (the whole reply: the
// ticket, its print and the QR code's address), retried under the press's key until the server
// answers (protocol/src/issue-retry.ts).

export type { PrintOutcome };
export { newIssueKey };

export interface Issued {
  ticket: Ticket;
  print: PrintOutcome;
  /** the phone page the QR code opens (same as on the paper) */
  phoneUrl: string;
  /** the procedure found by search, as the ticket prints it */
  procedure?: { code: string; name: { vi: string; en: string } };
}

/** What a press sends: the field, the priority group, the language, and the procedure found by search. */
export type IssueBody = { serviceId: string; priority?: string; lang: 'vi' | 'en'; procedureCode?: string };

/**
 * A press that got no answer at all (ISSUE_RETRY's time ran out: the server was down or too slow
 * to come back) may still have made its ticket. The next press for the same field, priority and
 * procedure within UNANSWERED_KEY_MS sends that press's key again, so the server answers with the
 * ticket the first made instead of making a second one for the same citizen.
 */
export const UNANSWERED_KEY_MS = 60_000;
export interface Unanswered { key: string; kind: string; at: number }

const kindOf = (body: IssueBody) => JSON.stringify([body.serviceId, body.priority ?? null, body.procedureCode ?? null]);

/** The key of a press: the unanswered press's when this one asks for the same soon after it, else a new one. */
export function pressKey(body: IssueBody, unanswered: Unanswered | null, now: number): string {
  return unanswered && unanswered.kind === kindOf(body) && now - unanswered.at < UNANSWERED_KEY_MS ? unanswered.key : newIssueKey();
}

/** What to remember of a press that ended in `error`: the press when no answer came, else nothing. */
export function unansweredOf(body: IssueBody, key: string, error: unknown, now: number): Unanswered | null {
  return gaveUp(error) ? { key, kind: kindOf(body), at: now } : null;
}

/**
 * Issues a ticket for one press. The press's key goes with every attempt, so when an answer is
 * lost (the server restarted, the network dropped) the retry gets the ticket the first attempt
 * made, never a second one; it retries until an answer comes or the time is up.
 */
export async function issueTicket(
  client: Pick<QmsClient, 'issue'>, siteId: string, body: IssueBody,
  key = newIssueKey(), policy: RetryPolicy = ISSUE_RETRY,
): Promise<Issued> {
  const reply = await issueWithRetries(client, siteId, body, key, policy);
  return {
    ticket: reply.ticket, print: reply.print, phoneUrl: reply.phoneUrl ?? `${location.origin}/t/${reply.ticket.publicId}`,
    ...(reply.procedure ? { procedure: reply.procedure } : {}),
  };
}
