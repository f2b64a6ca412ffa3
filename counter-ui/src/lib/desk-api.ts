import { ApiError, type QmsClient } from '@qms/protocol/client';

// The endpoints of the counter terminal and rating tablet that the protocol client does not
// have yet (server/src/routes/alert.routes.ts, counter-desk.routes.ts); their types live in
// protocol/src/desk.ts, shared with the server.

export type { RatingRequest, TodayFigures, WaitingTicket } from '@qms/protocol';
import type { RatingRequest, TodayFigures, WaitingTicket } from '@qms/protocol';

export interface Alert {
  id: string;
  siteId: string;
  kind: string;
  createdAt: string;
  counter: { id: string; number: number; name: string } | null;
  staff: { id: string; displayName: string } | null;
  comment: string | null;
}

export function deskApi(client: Pick<QmsClient, 'token'>, baseUrl = '') {
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (client.token) headers.authorization = `Bearer ${client.token}`;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method, headers, credentials: 'include', ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    if (res.status === 204) return null as T;
    const text = await res.text();
    let data: { error?: { code?: string; message?: string; details?: unknown } } | null = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // a proxy's HTML error page: fall through with the status
    }
    if (!res.ok) {
      const e = data?.error ?? {};
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.details);
    }
    return data as T;
  }

  return {
    today: (counterId: string) => request<TodayFigures>('GET', `/counters/${counterId}/today`),
    waiting: (siteId: string, serviceIds: string[]) =>
      request<{ total: number; tickets: WaitingTicket[] }>('GET', `/sites/${siteId}/waiting${serviceIds.length ? `?serviceIds=${serviceIds.join(',')}` : ''}`),
    ratingRequest: (counterId: string) => request<RatingRequest | null>('GET', `/counters/${counterId}/rating-request`),
    criticism: (comment?: string) =>
      request<{ alert: Alert }>('POST', '/alerts/criticism', comment ? { comment } : {}).then((r) => r.alert),
  };
}

export type DeskApi = ReturnType<typeof deskApi>;
