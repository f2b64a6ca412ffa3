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

export async function issueTicket(token: string, siteId: string, body: { serviceId: string; priority?: string; lang: 'vi' | 'en' }): Promise<Issued> {
  const abort = new AbortController();
  // the server answers within a few seconds even when the printer does not: never hang for ever
  const timer = setTimeout(() => abort.abort(), 20_000);
  try {
    const res = await fetch(`/api/v1/sites/${encodeURIComponent(siteId)}/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: abort.signal,
    });
    const data = await res.json().catch(() => null);
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
  } finally {
    clearTimeout(timer);
  }
}
