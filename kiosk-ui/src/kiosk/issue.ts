import { ApiError } from '@qms/protocol/client';
import type { Ticket } from '@qms/protocol';

// Issuing goes through its own small request rather than the shared client, because the kiosk
// needs the reply's extension fields (`print`, `phoneUrl`) that the client drops.

export interface PrintOutcome {
  status: 'sent' | 'failed' | 'none';
  reason?: string;
}

export interface Issued {
  ticket: Ticket;
  print: PrintOutcome;
  /** the phone page the QR code opens (same as on the paper) */
  phoneUrl: string;
}

/** A key for one press: random, and made without crypto.randomUUID (only in secure contexts, and kiosks often load over plain http on the LAN). */
export function newIssueKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** How a press retries: attempts a while apart, each bounded, for at most `totalMs` in all. */
export interface RetryPolicy {
  attemptMs: number;
  totalMs: number;
  /** waits between attempts, the last one repeated */
  backoffMs: number[];
}

// about a server restart's worth of retries; then the citizen reads that the service is down
export const ISSUE_RETRY: RetryPolicy = { attemptMs: 12_000, totalMs: 20_000, backoffMs: [300, 1_000, 2_000, 3_000] };

/** The server did not answer (network, restart, timeout) or could not (5xx): the same press again. */
class NoAnswer extends Error {}

/**
 * Issues a ticket for one press. The press's key goes with every attempt, so when an answer is
 * lost (the server restarted, the network dropped) the retry gets the ticket the first attempt
 * made, never a second one; it retries until an answer comes or the time is up.
 */
export async function issueTicket(
  token: string, siteId: string, body: { serviceId: string; priority?: string; lang: 'vi' | 'en' },
  key = newIssueKey(), policy: RetryPolicy = ISSUE_RETRY,
): Promise<Issued> {
  const end = Date.now() + policy.totalMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await issueOnce(token, siteId, body, key, Math.min(policy.attemptMs, Math.max(end - Date.now(), 1_000)));
    } catch (error) {
      const wait = policy.backoffMs[Math.min(attempt, policy.backoffMs.length - 1)]!;
      if (!(error instanceof NoAnswer) || Date.now() + wait >= end) throw error instanceof NoAnswer ? new ApiError(503, 'UNAVAILABLE', error.message) : error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function issueOnce(token: string, siteId: string, body: object, key: string, timeoutMs: number): Promise<Issued> {
  const abort = new AbortController();
  // the server answers within a few seconds even when the printer does not: never hang for ever
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(`/api/v1/sites/${encodeURIComponent(siteId)}/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
    } catch (error) {
      throw new NoAnswer(String(error));
    }
    const data = await res.json().catch(() => null);
    if (res.status >= 500) throw new NoAnswer(`HTTP ${res.status}`);
    if (!res.ok) {
      const error = data?.error ?? {};
      throw new ApiError(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? res.statusText, error.details);
    }
    const ticket = data.ticket as Ticket;
    return {
      ticket,
      print: data.print ?? { status: 'none' },
      phoneUrl: data.phoneUrl ?? `${location.origin}/t/${ticket.publicId}`,
    };
  } catch (error) {
    // a reply cut off half-way (the body) is no answer either
    if (error instanceof ApiError || error instanceof NoAnswer) throw error;
    throw new NoAnswer(String(error));
  } finally {
    clearTimeout(timer);
  }
}
