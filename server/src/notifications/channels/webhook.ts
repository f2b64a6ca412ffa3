import { createHmac, timingSafeEqual } from 'node:crypto';
import { DeliveryError, type Channel, type Outgoing, type Sent } from './channel.ts';

// Outgoing webhooks, to the shape ../shared/API.md fixes: `POST url` with the event as JSON,
// signed in `X-QMS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
// The body is the same bytes on every attempt (stored once), the signature is made anew with the
// time of the attempt: a receiver refuses one older than 5 minutes, so a captured request cannot
// be replayed later, and drops a repeated event `id`, so a retry after a lost answer is harmless.
// Signed with the wall clock, not the engine's: the receiver compares it with its own.

export const SIGNATURE_HEADER = 'x-qms-signature';
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function sign(secret: string, body: string, at = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** What a receiver does (docs/notifications.md has it in a few lines for integrators). */
export function verify(header: string | undefined, secret: string, body: string, now = new Date()): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== 'string') return false;
  if (Math.abs(now.getTime() / 1000 - t) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A 2xx within the timeout is a success; anything else is tried again (API.md). */
export function createWebhookChannel(secret: string, timeoutMs = 10_000): Channel {
  return {
    kind: 'webhook',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      let response: Response;
      try {
        response = await fetch(message.to, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'qms-webhooks/1', [SIGNATURE_HEADER]: sign(secret, message.text) },
          body: message.text,
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.body?.cancel();
      } catch (error) {
        throw new DeliveryError(`no answer: ${(error as Error).name === 'TimeoutError' ? `none within ${timeoutMs / 1000} s` : (error as Error).message}`,
          { retryable: true, cause: error });
      }
      if (response.status < 200 || response.status > 299) {
        throw new DeliveryError(`answered ${response.status}`, { retryable: true, responseStatus: response.status });
      }
      return { responseStatus: response.status };
    },
    close: async () => {},
  };
}
