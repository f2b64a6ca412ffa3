import { ApiError, type IssueInput, type Issued } from './http-client.ts';

// One press of a "take a number" button, sent until the server answers. The press's key
// (Idempotency-Key) goes with every attempt, so when an answer is lost (the server restarted,
// the network dropped) a retry gets the ticket the first attempt made, never a second one. The
// kiosk screen presses this way (kiosk-ui/src/kiosk/issue.ts), and so do the province replay's
// kiosks in the bench.

/** How a press retries: attempts a while apart, each bounded, for at most `totalMs` in all. */
export interface RetryPolicy {
  attemptMs: number;
  totalMs: number;
  /** waits between attempts, the last one repeated */
  backoffMs: number[];
}

// about a server restart's worth of retries; then the citizen reads that the service is down
export const ISSUE_RETRY: RetryPolicy = { attemptMs: 12_000, totalMs: 20_000, backoffMs: [300, 1_000, 2_000, 3_000] };

/** What a press goes through: the client's issue (createClient's). */
export interface Issuer {
  issue(siteId: string, body: IssueInput, options: { key?: string; signal?: AbortSignal }): Promise<Issued>;
}

/** The server did not answer (network, restart, timeout) or could not (5xx): the same press again. */
class NoAnswer extends Error {}

/** The error issueWithRetries gives up with when no attempt got an answer (its ticket may still have been made). */
export const gaveUp = (error: unknown): boolean => error instanceof ApiError && error.status === 503 && error.code === 'UNAVAILABLE';

/**
 * Issues a ticket for one press under `key`, retrying until an answer comes or the time is up
 * (then 503 UNAVAILABLE). A refusal (4xx) is an answer: it is thrown at once.
 */
export async function issueWithRetries(client: Issuer, siteId: string, body: IssueInput, key: string, policy: RetryPolicy = ISSUE_RETRY): Promise<Issued> {
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

async function issueOnce(client: Issuer, siteId: string, body: IssueInput, key: string, timeoutMs: number): Promise<Issued> {
  // the server answers within a few seconds even when the printer does not: never hang for ever
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await client.issue(siteId, body, { key, signal: abort.signal });
  } catch (error) {
    // a refusal is an answer; a restart (5xx), the network, a timeout or a reply cut off half-way is not
    if (error instanceof ApiError && error.status < 500 && error.code !== 'BAD_REPLY') throw error;
    throw new NoAnswer(String(error instanceof Error ? error.message : error));
  } finally {
    clearTimeout(timer);
  }
}
