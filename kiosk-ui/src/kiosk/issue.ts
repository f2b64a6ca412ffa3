import { ApiError, type Issued as IssueReply, type PrintOutcome, type QmsClient } from '@qms/protocol/client';
import type { Ticket } from '@qms/protocol';
import { newIssueKey } from '@qms/ui-shared/issue-key';

// A press of the kiosk's button, through the protocol client's `issue` (the whole reply: the
// ticket, its print and the QR code's address), retried until the server answers.

export type { PrintOutcome };

export interface Issued {
  ticket: Ticket;
  print: PrintOutcome;
  /** the phone page the QR code opens (same as on the paper) */
  phoneUrl: string;
  /** the procedure found by search, as the ticket prints it */
  procedure?: { code: string; name: { vi: string; en: string } };
}

export { newIssueKey };

/** How a press retries: attempts a while apart, each bounded, for at most `totalMs` in all. */
export interface RetryPolicy {
  attemptMs: number;
  totalMs: number;
  /** waits between attempts, the last one repeated */
  backoffMs: number[];
}

// about a server restart's worth of retries; then the citizen reads that the service is down
export const ISSUE_RETRY: RetryPolicy = { attemptMs: 12_000, totalMs: 20_000, backoffMs: [300, 1_000, 2_000, 3_000] };

/** What a press sends: the field, the priority group, the language, and the procedure found by search. */
type IssueBody = { serviceId: string; priority?: string; lang: 'vi' | 'en'; procedureCode?: string };

/** The server did not answer (network, restart, timeout) or could not (5xx): the same press again. */
class NoAnswer extends Error {}

/**
 * Issues a ticket for one press. The press's key goes with every attempt, so when an answer is
 * lost (the server restarted, the network dropped) the retry gets the ticket the first attempt
 * made, never a second one; it retries until an answer comes or the time is up.
 */
export async function issueTicket(
  client: Pick<QmsClient, 'issue'>, siteId: string, body: IssueBody,
  key = newIssueKey(), policy: RetryPolicy = ISSUE_RETRY,
): Promise<Issued> {
  const end = Date.now() + policy.totalMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await issueOnce(client, siteId, body, key, Math.min(policy.attemptMs, Math.max(end - Date.now(), 1_000)));
    } catch (error) {
      const wait = policy.backoffMs[Math.min(attempt, policy.backoffMs.length - 1)]!;
      if (!(error instanceof NoAnswer) || Date.now() + wait >= end) throw error instanceof NoAnswer ? new ApiError(503, 'UNAVAILABLE', error.message) : error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function issueOnce(client: Pick<QmsClient, 'issue'>, siteId: string, body: IssueBody, key: string, timeoutMs: number): Promise<Issued> {
  // the server answers within a few seconds even when the printer does not: never hang for ever
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let reply: IssueReply;
  try {
    reply = await client.issue(siteId, body, { key, signal: abort.signal });
  } catch (error) {
    // a refusal is an answer; a restart (5xx), the network, a timeout or a reply cut off half-way is not
    if (error instanceof ApiError && error.status < 500 && error.code !== 'BAD_REPLY') throw error;
    throw new NoAnswer(String(error instanceof Error ? error.message : error));
  } finally {
    clearTimeout(timer);
  }
  return {
    ticket: reply.ticket, print: reply.print, phoneUrl: reply.phoneUrl ?? `${location.origin}/t/${reply.ticket.publicId}`,
    ...(reply.procedure ? { procedure: reply.procedure } : {}),
  };
}
