import { ISSUE_RETRY, issueWithRetries, type PrintOutcome, type QmsClient, type RetryPolicy } from '@qms/protocol/client';
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
type IssueBody = { serviceId: string; priority?: string; lang: 'vi' | 'en'; procedureCode?: string };

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
