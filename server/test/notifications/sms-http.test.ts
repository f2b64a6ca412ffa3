import http from 'node:http';
import { Check } from 'typebox/value';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type Outgoing } from '../../src/notifications/channels/channel.ts';
import { createEsmsChannel, createHttpSmsChannel, fillTemplate, type EsmsSettings, type HttpSmsSettings } from '../../src/notifications/channels/sms/http-gateway.ts';
import { createSmsChannel, SMS_SECRET_FIELDS, SmsSecrets, SmsSettings } from '../../src/notifications/channels/sms/index.ts';

// SMS through HTTP gateways against local peers on 127.0.0.1 (eSMS.vn itself cannot be reached
// from here). The eSMS peer speaks SendMultipleMessage_V4_post_json as eSMS documents it: it
// checks ApiKey/SecretKey (101), the brand name (104), the number (108) and SmsType, answers
// CodeResult 100 with an SMSID, and 124 to a RequestId it already has. The generic peer is a
// gateway with a bearer token that drops a key it already has.

interface EsmsRequest { ApiKey: string; SecretKey: string; Phone: string; Content: string; Brandname: string; SmsType: string; IsUnicode: string; Sandbox: string; RequestId: string }
type Scripted = { status: number; body?: string } | 'hang';

const esms = { received: [] as EsmsRequest[], requests: 0, next: [] as Scripted[] };
const generic = { received: [] as { to: string; text: string; id: string; from: string }[], contentType: [] as (string | undefined)[], version: [] as (string | undefined)[], next: [] as Scripted[] };
let esmsServer: http.Server;
let genericServer: http.Server;
let esmsBase: string;
let genericUrl: string;

function esmsAnswer(m: EsmsRequest, requestIds: Set<string>): object {
  if (m.ApiKey !== 'api-key-1' || m.SecretKey !== 'secret-key-1') return { CodeResult: '101', CountRegenerate: 0, ErrorMessage: 'Authorize Failed' };
  if (m.Brandname !== 'UBND-QN') return { CodeResult: '104', CountRegenerate: 0, ErrorMessage: 'Brand name code is not exist' };
  if (!/^(84|0)[35789]\d{8}$/.test(m.Phone)) return { CodeResult: '108', CountRegenerate: 0, ErrorMessage: 'Phone number is not in correct format' };
  if (m.SmsType !== '2') return { CodeResult: '300', CountRegenerate: 0, ErrorMessage: 'Missing message type' };
  if (requestIds.has(m.RequestId)) return { CodeResult: '124', CountRegenerate: 0, ErrorMessage: 'Request exist 1', SendStatus: '5' };
  requestIds.add(m.RequestId);
  esms.received.push(m);
  return { CodeResult: '100', CountRegenerate: 0, SMSID: `sms-${esms.received.length}` };
}

/** a server that reads a whole request, then plays what the test scripted or answers */
function peer(next: Scripted[], answer: (req: http.IncomingMessage, body: string) => { status: number; body: string }) {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const scripted = next.shift();
      if (scripted === 'hang') return;
      const { status, body } = scripted ?? answer(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, { 'content-type': 'application/json' }).end(body ?? '');
    });
  });
}

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

beforeAll(async () => {
  const requestIds = new Set<string>();
  esmsServer = peer(esms.next, (req, body) => {
    esms.requests++;
    if (req.method !== 'POST' || req.url !== '/MainService.svc/json/SendMultipleMessage_V4_post_json/') return { status: 404, body: '' };
    if (req.headers['content-type'] !== 'application/json') return { status: 415, body: '' };
    return { status: 200, body: JSON.stringify(esmsAnswer(JSON.parse(body) as EsmsRequest, requestIds)) };
  });
  const ids = new Set<string>();
  genericServer = peer(generic.next, (req, body) => {
    if (req.headers.authorization !== 'Bearer gw-secret') return { status: 401, body: '{"error":"unauthorized"}' };
    generic.contentType.push(req.headers['content-type']);
    generic.version.push(req.headers['x-api-version'] as string | undefined);
    const m = JSON.parse(body) as (typeof generic.received)[number];
    if (!ids.has(m.id)) {
      ids.add(m.id);
      generic.received.push(m);
    }
    return { status: 202, body: '{"queued":true}' };
  });
  esmsBase = `${await listen(esmsServer)}/MainService.svc/json`;
  genericUrl = `${await listen(genericServer)}/v2/sms`;
});
afterAll(async () => {
  for (const s of [esmsServer, genericServer]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});
beforeEach(() => {
  Object.assign(esms, { received: [], requests: 0 });
  Object.assign(generic, { received: [], contentType: [], version: [] });
  esms.next.length = 0;
  generic.next.length = 0;
});

let n = 0;
const message = (text: string, to = '84912345678'): Outgoing => ({ key: `msg-${++n}`, to, purpose: 'ticket_called', lang: 'vi', text, params: {} });
const signal = () => AbortSignal.timeout(5000);
const TEXT = 'Mời số A012 đến quầy 3. Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh';
const UNACCENTED = 'Moi so A012 den quay 3. Trung tam Phuc vu hanh chinh cong tinh Quang Ninh';
/** what a send's failure says: whether to try again, and in words */
const failure = async (sending: Promise<unknown>) => {
  const error = await sending.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DeliveryError);
  const { retryable, message: words, responseStatus } = error as DeliveryError;
  return { retryable, message: words, responseStatus };
};

describe('SMS through eSMS.vn', () => {
  const settings = (over: Partial<EsmsSettings> = {}): EsmsSettings =>
    ({ provider: 'esms', baseUrl: esmsBase, apiKey: 'api-key-1', brandname: 'UBND-QN', smsType: '2', encoding: 'ucs2', pricePerSegment: 650, timeoutMs: 2000, ...over });
  const secrets = { secretKey: 'secret-key-1' };

  it('sends Vietnamese with its accents as Unicode, or unaccented, from the brand name, and says what it cost', async () => {
    const ucs2 = createEsmsChannel(settings(), secrets);
    const plain = createEsmsChannel(settings({ encoding: 'unaccented', baseUrl: `${esmsBase}/`, sandbox: true }), secrets);
    expect(await ucs2.send(message(TEXT), signal())).toEqual({ providerId: 'sms-1', responseStatus: 200, segments: 2, cost: 1300 });
    expect(await plain.send(message(TEXT), signal())).toEqual({ providerId: 'sms-2', responseStatus: 200, segments: 1, cost: 650 });
    expect(esms.received).toEqual([
      expect.objectContaining({ Phone: '84912345678', Content: TEXT, Brandname: 'UBND-QN', SmsType: '2', IsUnicode: '1', Sandbox: '0', RequestId: `msg-${n - 1}` }),
      expect.objectContaining({ Content: UNACCENTED, IsUnicode: '0', Sandbox: '1', RequestId: `msg-${n}` }),
    ]);
  });

  it('sends a retry once: eSMS answers 124 to a RequestId it has, and that counts as sent', async () => {
    const channel = createEsmsChannel(settings(), secrets);
    const once = message(TEXT);
    await channel.send(once, signal());
    expect(await channel.send(once, signal())).toEqual({ responseStatus: 200, segments: 2, cost: 1300 });
    expect(esms.requests).toBe(2);
    expect(esms.received).toHaveLength(1);
  });

  it('gives up at once on what will not change: wrong keys, an unregistered brand name, a bad number, a wrong address', async () => {
    expect(await failure(createEsmsChannel(settings(), { secretKey: 'not-it' }).send(message(TEXT), signal())))
      .toEqual({ retryable: false, responseStatus: 200, message: 'eSMS refused the message (101: Authorize Failed)' });
    expect(await failure(createEsmsChannel(settings({ brandname: 'UBND-HN' }), secrets).send(message(TEXT), signal())))
      .toMatchObject({ retryable: false, message: expect.stringContaining('(104: ') });
    expect(await failure(createEsmsChannel(settings(), secrets).send(message(TEXT, '8412'), signal())))
      .toMatchObject({ retryable: false, message: expect.stringContaining('(108: ') });
    expect(await failure(createEsmsChannel(settings({ baseUrl: `${esmsBase}/v5` }), secrets).send(message(TEXT), signal())))
      .toEqual({ retryable: false, responseStatus: 404, message: 'eSMS answered 404' });
    expect(esms.received).toEqual([]);
  });

  it('tries again later when eSMS fails, has no balance, gives no code, is slow or cannot be reached', async () => {
    const channel = createEsmsChannel(settings(), secrets);
    esms.next.push(
      { status: 503 },
      { status: 200, body: '{"CodeResult":"103","CountRegenerate":0,"ErrorMessage":"Not enough balance"}' },
      { status: 200, body: '{"error":"Invalid request"}' },
      { status: 200, body: '<html>gateway error</html>' },
      'hang',
    );
    expect(await failure(channel.send(message(TEXT), signal()))).toEqual({ retryable: true, responseStatus: 503, message: 'eSMS answered 503' });
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: true, message: expect.stringContaining('(103: ') });
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: true, message: 'eSMS gave an answer without a result code' });
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: true });
    expect(await failure(createEsmsChannel(settings({ timeoutMs: 300 }), secrets).send(message(TEXT), signal())))
      .toMatchObject({ retryable: true, message: 'the gateway did not answer in time' });
    const stopped = new AbortController();
    stopped.abort();
    expect(await failure(channel.send(message(TEXT), stopped.signal))).toMatchObject({ retryable: true });
    const gone = http.createServer();
    const goneUrl = await listen(gone);
    await new Promise((resolve) => gone.close(resolve));
    expect(await failure(createEsmsChannel(settings({ baseUrl: goneUrl }), secrets).send(message(TEXT), signal())))
      .toMatchObject({ retryable: true, message: 'the gateway could not be reached (ECONNREFUSED)' });
    expect(esms.received).toEqual([]);
  });
});

describe('SMS through any HTTP gateway (a template)', () => {
  const settings = (over: Partial<HttpSmsSettings> = {}): HttpSmsSettings => ({
    provider: 'http', url: genericUrl, method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Api-Version': '2' },
    // placeholders alone and inside strings, as a manager may write either
    body: '{"to": {{to}}, "text": {{text}}, "id": "{{key}}", "from": "Brand {{brandname}}"}',
    brandname: 'UBND-QN', successStatus: [202], encoding: 'ucs2', pricePerSegment: 650, timeoutMs: 2000, ...over,
  });
  const secrets = { authorization: 'Bearer gw-secret' };

  it('fills the template with JSON-escaped values, sends the secret header, and the settings\' headers once each', async () => {
    const channel = createHttpSmsChannel(settings(), secrets);
    const text = `${TEXT}\nGhi chú: "mang theo CCCD" \\ 100%`;
    expect(await channel.send(message(text), signal())).toEqual({ responseStatus: 202, segments: 2, cost: 1300 });
    expect(generic.received).toEqual([{ to: '84912345678', text, id: `msg-${n}`, from: 'Brand UBND-QN' }]);
    expect(generic.contentType).toEqual(['application/json; charset=utf-8']);
    expect(generic.version).toEqual(['2']);
    const unaccented = createHttpSmsChannel(settings({ encoding: 'unaccented' }), secrets);
    expect(await unaccented.send(message(TEXT), signal())).toMatchObject({ segments: 1 });
    expect(generic.received[1]!.text).toBe(UNACCENTED);
  });

  it('sends the same key twice and the gateway keeps it once', async () => {
    const channel = createHttpSmsChannel(settings(), secrets);
    const once = message(TEXT);
    await channel.send(once, signal());
    await channel.send(once, signal());
    expect(generic.contentType).toHaveLength(2);
    expect(generic.received).toHaveLength(1);
  });

  it('tries again after a 5xx, a 429 or a timeout, never after another 4xx', async () => {
    const channel = createHttpSmsChannel(settings(), secrets);
    expect(await failure(createHttpSmsChannel(settings(), {}).send(message(TEXT), signal())))
      .toEqual({ retryable: false, responseStatus: 401, message: 'the gateway answered 401' });
    generic.next.push({ status: 400 }, { status: 200 }, { status: 429 }, { status: 502 }, 'hang');
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: false, responseStatus: 400 });
    // 200 is not among this gateway's successStatus
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: false, responseStatus: 200 });
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: true, responseStatus: 429 });
    expect(await failure(channel.send(message(TEXT), signal()))).toMatchObject({ retryable: true, responseStatus: 502 });
    expect(await failure(createHttpSmsChannel(settings({ timeoutMs: 300 }), secrets).send(message(TEXT), signal())))
      .toMatchObject({ retryable: true, message: 'the gateway did not answer in time' });
    expect(generic.received).toEqual([]);
  });

  it('keeps any template valid JSON whatever the text holds', () => {
    const values = { to: '84912345678', text: 'a "b"\n\\ c {{key}}', key: 'k-1', brandname: 'UBND-QN' };
    const filled = fillTemplate('{"a": {{text}}, "b": "{{text}}", "c": "[{{to}}] {{brandname}}", "d": ["{{key}}", {{key}}], "e": "{{nope}}"}', values);
    expect(JSON.parse(filled)).toEqual({ a: values.text, b: values.text, c: '[84912345678] UBND-QN', d: ['k-1', 'k-1'], e: '{{nope}}' });
  });
});

describe('SMS settings, as a manager saves them', () => {
  const smpp = { provider: 'smpp', host: 'smsc.example.vn', port: 2775, systemId: 'ubnd-qn', sourceAddr: 'UBND-QN', encoding: 'unaccented' };
  const esmsSettings = { provider: 'esms', apiKey: 'api-key-1', brandname: 'UBND-QN', encoding: 'ucs2', pricePerSegment: 650 };
  const httpSettings = { provider: 'http', url: 'https://sms.example.vn/send', body: '{"to": {{to}}, "text": {{text}}}', encoding: 'ucs2' };

  it('takes each provider\'s settings and refuses what it cannot send with', () => {
    for (const settings of [smpp, esmsSettings, httpSettings]) expect(Check(SmsSettings, settings)).toBe(true);
    expect(Check(SmsSettings, { ...smpp, sourceAddr: 'TRUNG-TAM-HCC-QN' })).toBe(false); // a brand name is at most 11
    expect(Check(SmsSettings, { ...esmsSettings, apiKey: undefined })).toBe(false);
    expect(Check(SmsSettings, { ...esmsSettings, encoding: 'utf8' })).toBe(false);
    expect(Check(SmsSettings, { ...httpSettings, url: 'ftp://sms.example.vn' })).toBe(false);
    // a secret never sits in the settings
    expect(Check(SmsSettings, { ...esmsSettings, secretKey: 'secret-key-1' })).toBe(false);
    expect(Check(SmsSettings, { ...esmsSettings, provider: 'twilio' })).toBe(false);
  });

  it('names every secret a provider takes, each one a field of SmsSecrets', () => {
    const fields = Object.values(SMS_SECRET_FIELDS).flat();
    expect(fields.sort()).toEqual(Object.keys(SmsSecrets.properties).sort());
    expect(Check(SmsSecrets, { secretKey: 'secret-key-1' })).toBe(true);
    expect(Check(SmsSecrets, { token: 'x' })).toBe(false);
  });

  it('builds the channel of the provider', async () => {
    const viaEsms = createSmsChannel({ provider: 'esms', baseUrl: esmsBase, apiKey: 'api-key-1', brandname: 'UBND-QN', encoding: 'ucs2' }, { secretKey: 'secret-key-1' });
    const viaHttp = createSmsChannel({ provider: 'http', url: genericUrl, body: '{"to": {{to}}, "text": {{text}}, "id": {{key}}, "from": {{brandname}}}', encoding: 'ucs2' }, { authorization: 'Bearer gw-secret' });
    expect(viaEsms.kind).toBe('sms');
    await viaEsms.send(message(TEXT), signal());
    await viaHttp.send(message(TEXT), signal());
    expect(esms.received).toHaveLength(1);
    expect(generic.received).toEqual([{ to: '84912345678', text: TEXT, id: `msg-${n}`, from: '' }]);
  });
});
