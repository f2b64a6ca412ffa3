import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

// A webhook receiver as an integrator would write one, on 127.0.0.1: it checks the signature
// (HMAC-SHA256 over "<t>.<raw body>", refusing one older than 5 minutes) with its own code, not
// the server's, and drops an event id it already has. It records every request, so a test sees
// both what arrived and what the receiver kept.

export interface Received {
  id: string;
  type: string;
  occurredAt: string;
  siteId: string;
  data: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  /** every request that came, in order, with what the receiver answered */
  requests: { body: string; signature: string | undefined; status: number }[];
  /** events kept: the first of each id with a good signature */
  events: Received[];
  /** what to answer next: 200 by default */
  answer: (body: Received) => number;
  /** how long to take before answering (ms) */
  delayMs: number;
  /** the receiver's clock, for the replay window */
  now: () => number;
  close(): Promise<void>;
}

export function signatureValid(header: string | undefined, secret: string, body: string, nowMs: number): boolean {
  const fields = new Map((header ?? '').split(',').map((part) => part.split('=') as [string, string]));
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function webhookReceiver(secret: string): Promise<WebhookReceiver> {
  const seen = new Set<string>();
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = { requests: [], events: [], answer: () => 200, delayMs: 0, now: () => Date.now() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-qms-signature'] as string | undefined;
      let status = 401;
      if (signatureValid(signature, secret, body, receiver.now())) {
        const event = JSON.parse(body) as Received;
        status = receiver.answer(event);
        if (status >= 200 && status < 300 && !seen.has(event.id)) {
          seen.add(event.id);
          receiver.events.push(event);
        }
      }
      receiver.requests.push({ body, signature, status });
      setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status)), receiver.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks/qms`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}
