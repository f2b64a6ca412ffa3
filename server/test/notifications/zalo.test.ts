import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing } from '../../src/notifications/channels/channel.ts';
import { createZaloChannel, type ZaloSettings } from '../../src/notifications/channels/zalo.ts';

// Zalo ZNS against a local peer that implements the endpoint's shape (POST /message/template,
// header access_token, {phone, template_id, template_data, tracking_id}), answers as Zalo does,
// and drops a tracking_id it already has. Zalo itself cannot be reached from here.

const TOKEN = 'zalo-access-token-1';
const received: { phone: string; template_id: string; template_data: Record<string, string>; tracking_id: string }[] = [];
const seen = new Set<string>();
let next: { status: number; error: number; message: string } | undefined;
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/message/template') return reply(404, { error: -1, message: 'not found' });
      if (req.headers.access_token !== TOKEN) return reply(200, { error: -124, message: 'Access token is invalid' });
      if (next) {
        const n = next;
        next = undefined;
        return reply(n.status, { error: n.error, message: n.message });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number];
      if (!/^84[0-9]{9,10}$/.test(body.phone)) return reply(200, { error: -108, message: 'Phone number is invalid' });
      if (!seen.has(body.tracking_id)) {
        seen.add(body.tracking_id);
        received.push(body);
      }
      reply(200, { error: 0, message: 'Success', data: { msg_id: `zns-${received.length}`, sent_time: String(Date.now()), quota: { dailyQuota: '500', remainingQuota: '499' } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const settings = (): ZaloSettings => ({ baseUrl: base, templates: { ticket_called: '231045', ticket_ahead: '231046' }, timeoutMs: 2000 });
let n = 0;
const message = (over: Partial<Outgoing> = {}): Outgoing => ({
  key: `zalo-${++n}`, to: '84912345678', purpose: 'ticket_called', lang: 'vi', text: 'Mời số A012 đến quầy 3.', params: { site: 'Trung tâm PVHCC', code: 'A012', counter: '3' }, ...over,
});
const signal = () => AbortSignal.timeout(5000);

describe('Zalo ZNS', () => {
  it('sends the purpose\'s approved template with the placeholders as its data, and the key as tracking_id', async () => {
    const channel = createZaloChannel(settings(), { accessToken: TOKEN });
    const m = message();
    expect(await channel.send(m, signal())).toEqual({ responseStatus: 200, providerId: expect.stringMatching(/^zns-\d+$/) });
    expect(received.at(-1)).toEqual({ phone: '84912345678', template_id: '231045', template_data: m.params, tracking_id: m.key });
    // a retry of the same message is one message at Zalo
    const count = received.length;
    await channel.send(m, signal());
    expect(received).toHaveLength(count);
  });

  it('says whether a refusal may pass on a retry', async () => {
    const channel = createZaloChannel(settings(), { accessToken: TOKEN });
    await expect(createZaloChannel(settings(), { accessToken: 'expired' }).send(message(), signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('-124') });
    await expect(channel.send(message({ to: '8412' }), signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('-108') });
    await expect(channel.send(message({ purpose: 'dossier_ready' }), signal())).rejects.toMatchObject({ retryable: false, message: 'no Zalo template is set for dossier_ready' });
    next = { status: 200, error: -131, message: 'Template is not approved' };
    await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: false });
    next = { status: 503, error: -1, message: 'busy' };
    await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, responseStatus: 503 });
  });
});
