import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing } from '../../src/notifications/channels/channel.ts';
import { createZaloChannel, type ZaloSettings } from '../../src/notifications/channels/zalo.ts';

// Zalo ZNS against a local peer that implements the endpoint's shape: POST /message/template
// with the header access_token and {phone, template_id, template_data, tracking_id}; it checks
// each, answers as Zalo does (HTTP 200, {error: 0 | code, message, data}), keeps a daily quota,
// and drops a tracking_id it already has. Zalo itself cannot be reached from here.

const TOKEN = 'zalo-access-token-1';
/** the OA's templates: approved ones with their parameters, and one still waiting for approval */
const TEMPLATES: Record<string, { approved: boolean; params: string[] }> = {
  '231045': { approved: true, params: ['site', 'code', 'counter'] },
  '231046': { approved: true, params: ['site', 'code', 'ahead'] },
  '231047': { approved: false, params: ['site', 'code'] },
};
const REFUSES_ZNS = '84987654321';

interface ZnsRequest { phone: string; template_id: string; template_data: Record<string, string>; tracking_id: string }
const received: ZnsRequest[] = [];
const seen = new Map<string, string>();
let quota = 500;
let stall = false;
let next: { status: number; body: string } | undefined;
let server: http.Server;
let base: string;

function answer(headers: http.IncomingHttpHeaders, raw: string): { error: number; message: string; data?: object } {
  if (headers.access_token !== TOKEN) return { error: -124, message: 'Access token is invalid' };
  let body: Partial<ZnsRequest>;
  try {
    body = JSON.parse(raw) as Partial<ZnsRequest>;
  } catch {
    return { error: -122, message: 'Body format invalid' };
  }
  if (typeof body.phone !== 'string' || !/^84[0-9]{9,10}$/.test(body.phone)) return { error: -108, message: 'Phone number invalid' };
  const template = TEMPLATES[String(body.template_id)];
  if (!template) return { error: -109, message: 'Template ID invalid' };
  if (!template.approved) return { error: -131, message: 'Template is not approved' };
  const data = body.template_data;
  if (!data || typeof data !== 'object' || template.params.some((p) => typeof data[p] !== 'string' || !data[p])) {
    return { error: -112, message: 'Template data invalid' };
  }
  if (typeof body.tracking_id !== 'string' || !body.tracking_id) return { error: -153, message: 'tracking_id invalid' };
  if (body.phone === REFUSES_ZNS) return { error: -139, message: 'User rejected to receive this type of ZNS' };
  const sentTime = String(Date.now());
  let msgId = seen.get(body.tracking_id);
  if (!msgId) {
    if (quota === 0) return { error: -144, message: 'OA has exceeded the daily quota' };
    quota--;
    msgId = `zns-${received.push(body as ZnsRequest)}`;
    seen.set(body.tracking_id, msgId);
  }
  return { error: 0, message: 'Success', data: { msg_id: msgId, sent_time: sentTime, quota: { dailyQuota: '500', remainingQuota: String(quota) } } };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (stall) return; // never answers
      if (req.method !== 'POST' || req.url !== '/message/template') return res.writeHead(404).end();
      if (next) {
        const n = next;
        next = undefined;
        return res.writeHead(n.status).end(n.body);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(req.headers, Buffer.concat(chunks).toString('utf8'))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const settings = (over: Partial<ZaloSettings> = {}): ZaloSettings =>
  ({ baseUrl: base, oaId: '1397492183140006179', templates: { ticket_called: '231045', ticket_ahead: '231046', dossier_ready: '231047' }, timeoutMs: 2000, ...over });
let n = 0;
const message = (over: Partial<Outgoing> = {}): Outgoing => ({
  key: `zalo-${++n}`, to: '84912345678', purpose: 'ticket_called', lang: 'vi', text: 'Mời số A012 đến quầy 3.',
  params: { site: 'Trung tâm PVHCC Quận 1', code: 'A012', counter: '3' }, ...over,
});
const signal = () => AbortSignal.timeout(5000);

describe('Zalo ZNS', () => {
  it('sends the purpose\'s approved template with the placeholders as its data, and the key as tracking_id', async () => {
    const channel = createZaloChannel(settings(), { accessToken: TOKEN });
    const m = message();
    const sent = await channel.send(m, signal());
    expect(sent).toEqual({ responseStatus: 200, providerId: expect.stringMatching(/^zns-\d+$/) });
    expect(received.at(-1)).toEqual({ phone: '84912345678', template_id: '231045', template_data: m.params, tracking_id: m.key });
    // a retry carries the same tracking_id: a peer that drops repeats keeps one message
    const count = received.length;
    expect(await channel.send(m, signal())).toEqual(sent);
    expect(received).toHaveLength(count);
  });

  it('says which refusals may pass on a retry', async () => {
    const channel = createZaloChannel(settings(), { accessToken: TOKEN });
    await expect(createZaloChannel(settings(), { accessToken: 'expired' }).send(message(), signal()))
      .rejects.toMatchObject({ retryable: true, message: 'Zalo refused (-124: Access token is invalid) (OA 1397492183140006179)' });
    await expect(channel.send(message({ to: '8412' }), signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('(-108') });
    await expect(channel.send(message({ purpose: 'dossier_ready' }), signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('(-131') });
    await expect(channel.send(message({ params: { site: 'Trung tâm PVHCC', code: 'A012' } }), signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('(-112') });
    await expect(channel.send(message({ to: REFUSES_ZNS }), signal())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('(-139') });
    quota = 0;
    try {
      await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('(-144') });
    } finally {
      quota = 500;
    }
    next = { status: 200, body: JSON.stringify({ error: -115, message: 'Out of quota' }) };
    await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('(-115') });
    next = { status: 503, body: 'busy' };
    await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, responseStatus: 503 });
    next = { status: 200, body: '<html>maintenance</html>' };
    await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, message: 'Zalo answered 200 with no JSON' });
  });

  it('refuses without asking Zalo when the site has not set it up', async () => {
    const before = received.length;
    await expect(createZaloChannel(settings(), { accessToken: TOKEN }).send(message({ purpose: 'leader_wait' }), signal()))
      .rejects.toMatchObject({ retryable: false, message: 'no Zalo template for leader_wait' });
    await expect(createZaloChannel(settings(), {}).send(message(), signal()))
      .rejects.toMatchObject({ retryable: false, message: 'no Zalo access token is set (OA 1397492183140006179)' });
    expect(received).toHaveLength(before);
  });

  it('gives up on a Zalo that does not answer, and stops when the worker stops, both worth a retry', async () => {
    const channel = createZaloChannel(settings({ timeoutMs: 1000 }), { accessToken: TOKEN });
    stall = true;
    try {
      const started = performance.now();
      await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, message: 'Zalo: no answer within 1 s' });
      expect(performance.now() - started).toBeLessThan(2000);
      const worker = new AbortController();
      setTimeout(() => worker.abort(), 100);
      await expect(createZaloChannel(settings(), { accessToken: TOKEN }).send(message(), worker.signal)).rejects.toMatchObject({ retryable: true, message: 'Zalo: stopped' });
    } finally {
      stall = false;
      server.closeAllConnections();
    }
  });
});
