import { ApiError, type QmsClient } from '@qms/protocol/client';
import type { CheckInReply, CheckInRequest } from '@qms/protocol';

// A citizen with a booking at the kiosk: the code typed on the keypad, or what the scanner read
// (a booking's QR code, or a chip ID card's), sent as it is for the server to make sense of.
// The scanned text lives in this request's body and nowhere else: it is not kept, not logged,
// not shown.

/** the server answers within a few seconds even when the printer does not */
const TIMEOUT_MS = 12_000;

/** a booking's code is 8 digits */
export const CODE_LENGTH = 8;

/**
 * POST /sites/:siteId/check-in with the kiosk's token: the ticket, or an ApiError with the
 * refusal's code and details. One attempt: a second one after a lost answer would read as
 * "already used".
 */
export async function checkIn(client: Pick<QmsClient, 'token' | 'baseUrl'>, siteId: string, body: CheckInRequest): Promise<CheckInReply> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(`${client.baseUrl}/api/v1/sites/${encodeURIComponent(siteId)}/check-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) },
      body: JSON.stringify(body),
      credentials: 'include',
      signal: abort.signal,
    });
  } catch {
    // the error's text is not passed on: it is the network's, and says nothing to the citizen
    throw new ApiError(503, 'UNAVAILABLE', 'no answer from the server');
  } finally {
    clearTimeout(timer);
  }
  const data = await res.json().catch(() => null) as (CheckInReply & { error?: { code?: string; message?: string; details?: unknown } }) | null;
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.details);
  }
  if (!data?.ticket || !data.booking) throw new ApiError(502, 'BAD_REPLY', 'The server answered without a ticket');
  return data;
}
