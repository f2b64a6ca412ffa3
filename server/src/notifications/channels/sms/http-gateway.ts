import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from '../channel.ts';
import { smsCost, smsParts, type SmsEncoding } from './sms-text.ts';

// SMS through an HTTP gateway: eSMS.vn, a Vietnamese brand-name SMS provider with a public API
// (its developer docs, "Send OTP/Customer care message": POST SendMultipleMessage_V4_post_json,
// and "Table of error codes"), and a generic template for any other gateway. Both send the text
// already encoded as the channel says (unaccented GSM-7 or UCS-2, sms-text.ts) and the message's
// key as the gateway's de-duplication id (eSMS: RequestId), so a retry after a lost answer is
// not a second SMS.

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
  body: Type.String({ minLength: 2, maxLength: 4000, description: 'the JSON request body, with {{to}}, {{text}}, {{key}}, {{brandname}} (JSON-escaped)' }),
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
 * eSMS answers 200 with a CodeResult. 100: accepted. 124: this RequestId was accepted before (a
 * retry whose first answer was lost), so the message is sent. 103: the balance is too low, which
 * a top-up within the message's life cures: retried. The others will not change by retrying:
 * 99 the number is blocked, 101 wrong ApiKey/SecretKey, 102 no price list, 104 brand name not
 * registered, 108 not a phone number, 140 this server's IP not whitelisted, 146 text outside the
 * registered customer-care template, 177 the number's network not registered for the brand name,
 * 300 no message type; and a code eSMS adds later, until someone reads what it means.
 */
const ESMS_SENT = new Set(['100', '124']);
const ESMS_RETRYABLE = new Set(['103']);

export function createEsmsChannel(settings: EsmsSettings, secrets: HttpSmsSecrets): Channel {
  return gateway(settings, async (m, parts, signal) => {
    const res = await post(`${(settings.baseUrl ?? ESMS_DEFAULT).replace(/\/$/, '')}/SendMultipleMessage_V4_post_json/`, {
      'content-type': 'application/json',
    }, JSON.stringify({
      ApiKey: settings.apiKey, SecretKey: secrets.secretKey ?? '', Phone: m.to, Content: parts.text, Brandname: settings.brandname,
      SmsType: settings.smsType ?? '2', IsUnicode: parts.encoding === 'ucs2' ? '1' : '0', Sandbox: settings.sandbox ? '1' : '0', RequestId: m.key,
    }), 'POST', signal);
    if (!res.ok) {
      await res.body?.cancel();
      throw statusError('eSMS', res.status);
    }
    const answer = await res.json().catch(() => undefined) as { CodeResult?: unknown; SMSID?: unknown; ErrorMessage?: unknown } | undefined;
    // an answer without a code (eSMS documents {"error": ...} for its own failures): whether it
    // took the message is unknown, and RequestId makes trying again safe
    if (answer?.CodeResult === undefined) throw new DeliveryError('eSMS gave an answer without a result code', { retryable: true, responseStatus: res.status });
    const code = String(answer.CodeResult);
    if (!ESMS_SENT.has(code)) {
      throw new DeliveryError(`eSMS refused the message (${code}${typeof answer.ErrorMessage === 'string' ? `: ${answer.ErrorMessage}` : ''})`, { retryable: ESMS_RETRYABLE.has(code), responseStatus: res.status });
    }
    return { responseStatus: res.status, ...(typeof answer.SMSID === 'string' && answer.SMSID ? { providerId: answer.SMSID } : {}) };
  });
}

const PLACEHOLDER = /\{\{(to|text|key|brandname)\}\}/g;

/**
 * The generic body: a placeholder standing alone ({"to": {{to}}}) becomes a JSON string, one
 * inside a string ("{{to}}", "Gửi từ {{brandname}}") its escaped content, so either way of
 * writing the template gives valid JSON whatever the text holds (quotes, line breaks).
 */
export function fillTemplate(template: string, values: Record<'to' | 'text' | 'key' | 'brandname', string>): string {
  const value = (name: string) => JSON.stringify(values[name as keyof typeof values]);
  return template.replace(/"(?:[^"\\]|\\.)*"|\{\{(to|text|key|brandname)\}\}/g, (token, alone?: string) =>
    (alone ? value(alone) : token.replace(PLACEHOLDER, (_all, name: string) => value(name).slice(1, -1))));
}

export function createHttpSmsChannel(settings: HttpSmsSettings, secrets: HttpSmsSecrets): Channel {
  const ok = new Set(settings.successStatus ?? [200, 201, 202, 204]);
  return gateway(settings, async (m, parts, signal) => {
    const body = fillTemplate(settings.body, { to: m.to, text: parts.text, key: m.key, brandname: settings.brandname ?? '' });
    // names in lower case, so "Content-Type" in the settings replaces the default instead of joining it
    const named = Object.entries(settings.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
    const headers = { 'content-type': 'application/json', ...Object.fromEntries(named), ...(secrets.authorization ? { authorization: secrets.authorization } : {}) };
    const res = await post(settings.url, headers, body, settings.method ?? 'POST', signal);
    await res.body?.cancel();
    if (!ok.has(res.status)) throw statusError('the gateway', res.status);
    return { responseStatus: res.status };
  });
}

/** A 5xx, a 408 or a 429 may pass later; any other 4xx (or a redirect, not followed) will not. */
const statusError = (who: string, status: number) =>
  new DeliveryError(`${who} answered ${status}`, { retryable: status >= 500 || status === 408 || status === 429, responseStatus: status });

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
    const { name, message, cause } = error as Error & { cause?: { code?: string } };
    throw new DeliveryError(name === 'TimeoutError' ? 'the gateway did not answer in time' : `the gateway could not be reached (${cause?.code ?? message})`, { retryable: true, cause: error });
  }
}
