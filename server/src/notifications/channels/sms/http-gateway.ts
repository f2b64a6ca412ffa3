import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from '../channel.ts';
import { smsCost, smsParts, type SmsEncoding } from './sms-text.ts';

// SMS through an HTTP gateway: eSMS.vn, a Vietnamese brand-name SMS provider with a public API
// (developers.esms.vn, "Send OTP/Customer care message": SendMultipleMessage_V4_post_json), and a
// generic template for any other gateway. Both send the text already encoded as the channel says
// (unaccented GSM-7 or UCS-2, sms-text.ts) and the message's key as the gateway's de-duplication
// id (eSMS: RequestId, blocked for 24 h), so a retry after a lost answer is not a second SMS.

const common = {
  encoding: Type.Enum(['unaccented', 'ucs2'], { description: 'unaccented: GSM-7, 160 a segment (cheaper); ucs2: with accents, 70' }),
  pricePerSegment: Type.Optional(Type.Number({ minimum: 0, description: 'VND per segment, to show costs' })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
};

export const EsmsSettings = Type.Object({
  provider: Type.Literal('esms'),
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://', description: "default https://rest.esms.vn/MainService.svc/json" })),
  apiKey: Type.String({ minLength: 1, maxLength: 200 }),
  brandname: Type.String({ minLength: 1, maxLength: 11, description: 'the registered brand name shown as the sender' }),
  smsType: Type.Optional(Type.String({ pattern: '^[0-9]{1,2}$', description: "2: customer care (the default)" })),
  sandbox: Type.Optional(Type.Boolean()),
  ...common,
}, { additionalProperties: false });
export type EsmsSettings = Static<typeof EsmsSettings>;

export const HttpSmsSettings = Type.Object({
  provider: Type.Literal('http'),
  url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
  method: Type.Optional(Type.Enum(['POST', 'PUT'])),
  headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,60}$' }), Type.String({ maxLength: 500 }))),
  body: Type.String({ minLength: 2, maxLength: 4000, description: 'the request body, with {{to}}, {{text}}, {{key}}, {{brandname}} replaced by JSON strings' }),
  brandname: Type.Optional(Type.String({ maxLength: 11 })),
  successStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 200, maximum: 299 }), { minItems: 1 })),
  ...common,
}, { additionalProperties: false });
export type HttpSmsSettings = Static<typeof HttpSmsSettings>;

/** eSMS: secretKey. Generic: authorization, sent as the Authorization header (kept out of the settings). */
export interface HttpSmsSecrets {
  secretKey?: string;
  authorization?: string;
}

const ESMS_DEFAULT = 'https://rest.esms.vn/MainService.svc/json';
/**
 * eSMS answers 200 with CodeResult "100" for accepted; otherwise an error code. Those a retry may
 * cure: 99 (an error at eSMS), 103 (balance too low: it may be topped up within the message's
 * life). The others (101 wrong keys, 102 account locked, 104 brand name not registered, 118
 * wrong message type, 146 text outside the registered template ...) will not change by retrying.
 */
const ESMS_RETRYABLE = new Set(['99', '103']);

export function createEsmsChannel(settings: EsmsSettings, secrets: HttpSmsSecrets): Channel {
  return gateway(settings, async (m, parts, signal) => {
    const res = await post(`${(settings.baseUrl ?? ESMS_DEFAULT).replace(/\/$/, '')}/SendMultipleMessage_V4_post_json/`, {
      'content-type': 'application/json',
    }, JSON.stringify({
      ApiKey: settings.apiKey, SecretKey: secrets.secretKey ?? '', Phone: m.to, Content: parts.text, Brandname: settings.brandname,
      SmsType: settings.smsType ?? '2', IsUnicode: parts.encoding === 'ucs2' ? '1' : '0', Sandbox: settings.sandbox ? '1' : '0', RequestId: m.key,
    }), 'POST', signal);
    const answer = await res.json().catch(() => ({})) as { CodeResult?: string; SMSID?: string; ErrorMessage?: string };
    if (res.status >= 500) throw new DeliveryError(`eSMS answered ${res.status}`, { retryable: true, responseStatus: res.status });
    if (answer.CodeResult !== '100') {
      const code = String(answer.CodeResult ?? res.status);
      throw new DeliveryError(`eSMS refused (${code}${answer.ErrorMessage ? `: ${answer.ErrorMessage}` : ''})`, { retryable: ESMS_RETRYABLE.has(code), responseStatus: res.status });
    }
    return { responseStatus: res.status, ...(answer.SMSID ? { providerId: answer.SMSID } : {}) };
  });
}

export function createHttpSmsChannel(settings: HttpSmsSettings, secrets: HttpSmsSecrets): Channel {
  const ok = new Set(settings.successStatus ?? [200, 201, 202, 204]);
  return gateway(settings, async (m, parts, signal) => {
    const values: Record<string, string> = { to: m.to, text: parts.text, key: m.key, brandname: settings.brandname ?? '' };
    const body = settings.body.replace(/\{\{(to|text|key|brandname)\}\}/g, (_all, name: string) => JSON.stringify(values[name]));
    const headers = { 'content-type': 'application/json', ...settings.headers, ...(secrets.authorization ? { authorization: secrets.authorization } : {}) };
    const res = await post(settings.url, headers, body, settings.method ?? 'POST', signal);
    await res.body?.cancel();
    // a 4xx other than throttling will not change; a 5xx, a 408 or a 429 may
    if (!ok.has(res.status)) throw new DeliveryError(`the gateway answered ${res.status}`, { retryable: res.status >= 500 || res.status === 408 || res.status === 429, responseStatus: res.status });
    return { responseStatus: res.status };
  });
}

type Send = (m: Outgoing, parts: ReturnType<typeof smsParts>, signal: AbortSignal) => Promise<Sent>;

function gateway(settings: { encoding: SmsEncoding; pricePerSegment?: number | undefined; timeoutMs?: number | undefined }, send: Send): Channel {
  return {
    kind: 'sms',
    async send(message, signal) {
      const parts = smsParts(message.text, settings.encoding);
      const timeoutMs = settings.timeoutMs ?? 10_000;
      const sent = await send(message, parts, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]));
      return { ...sent, segments: parts.segments, ...(settings.pricePerSegment !== undefined ? { cost: smsCost(parts, settings.pricePerSegment) } : {}) };
    },
    close: async () => {},
  };
}

async function post(url: string, headers: Record<string, string>, body: string, method: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { method, headers, body, signal, redirect: 'manual' });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new DeliveryError(timedOut ? 'the gateway did not answer in time' : `the gateway could not be reached: ${(error as Error).message}`, { retryable: true, cause: error });
  }
}
