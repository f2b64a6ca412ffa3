import { now } from './util.ts';

// Plain fetch calls against the API, with the status and time of each.

export interface Reply<T = any> {
  status: number;
  body: T;
  ms: number;
}

export async function request<T = any>(base: string, method: string, path: string, token?: string, body?: unknown, timeoutMs = 15_000): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = now();
  const res = await fetch(`${base}${path}`, {
    method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const ms = now() - t0;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T, ms };
}

export const post = <T = any>(base: string, path: string, token?: string, body: unknown = {}) => request<T>(base, 'POST', `/api/v1${path}`, token, body);
export const get = <T = any>(base: string, path: string, token?: string) => request<T>(base, 'GET', `/api/v1${path}`, token);
