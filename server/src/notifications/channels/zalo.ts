import { Type, type Static } from 'typebox';
import { MESSAGE_PURPOSES, DeliveryError, type Channel, type Outgoing, type Sent } from './channel.ts';

// Zalo ZNS (Zalo Notification Service, lately also called "ZBS Template Message"): template
// messages to the Zalo account of a phone number.
//
// What was built, to which documentation. Zalo's published send API:
// POST https://business.openapi.zalo.me/message/template, header `access_token`, JSON body
// {phone: "84…", template_id, template_data, tracking_id}; the answer is {error: 0, message:
// "Success", data: {msg_id, sent_time, quota}} or {error: <negative code>, message}, usually with
// HTTP 200. ZNS sends a template Zalo approved, filled with its parameters, never free text: a
// site sets, per purpose, the id of its approved template, whose parameters are our placeholders
// (code, counter …); the rendered text is not sent. tracking_id is the message's key. Zalo
// describes tracking_id as the sender's own id for reconciling its records with Zalo's; its
// documentation as read here does not promise that Zalo drops a repeated tracking_id, so a retry
// after a lost answer may reach the citizen twice.
// The error codes below come from Zalo's "Cách xử lý mã lỗi" (handling error codes) page,
// zalo.cloud/zns/guidelines/handle-error-code, of which only a stored copy was readable here and
// only up to -112; -114 and -115 from the same list as an SMS/ZNS reseller publishes it; the
// rest from Zalo's published table as known when this was written, not checked again here.
//
// What was tested: Zalo cannot be reached from where this was built. The adapter is tested
// against a local peer that implements the endpoint's shape (server/test/notifications/zalo.test.ts):
// the header, the body, answers and error codes as above, a peer that stalls.
//
// What a site must do to go live: a Zalo Official Account (OA), verified, with ZNS enabled and
// paid for; an app on Zalo for Developers linked to the OA; one approved ZNS template per
// purpose it sends, whose parameter names are our placeholders; an OA access token from that
// app, saved as this channel's secret. Then a test send from the console to a manager's phone.
//
// A limitation: OA access tokens expire (about a day) and are renewed with the refresh token
// (POST https://oauth.zaloapp.com/v4/oa/access_token). This adapter does not renew them: a
// refresh token can be used once and comes back new with each access token, so renewing means
// saving both, and a channel never writes to the database (channel.ts). An expired token fails
// the messages as retryable and raises "channel failing" until a manager saves a new one.

export const ZaloSettings = Type.Object({
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'default https://business.openapi.zalo.me' })),
  oaId: Type.Optional(Type.String({ pattern: '^[0-9]{1,25}$', description: 'the Official Account the access token belongs to (the token names it; kept to tell managers which OA failed)' })),
  templates: Type.Record(Type.String({ pattern: `^(${MESSAGE_PURPOSES.join('|')})$` }), Type.String({ pattern: '^[0-9]{1,12}$' }), {
    description: 'the approved ZNS template id of each purpose it sends',
  }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
}, { additionalProperties: false });
export type ZaloSettings = Static<typeof ZaloSettings>;
export const ZaloSecrets = Type.Object({
  accessToken: Type.String({ minLength: 1, maxLength: 2000 }),
}, { additionalProperties: false });
export type ZaloSecrets = Static<typeof ZaloSecrets>;
export const ZALO_SECRET_FIELDS = ['accessToken'] as const;

/**
 * Refusals a later try may pass. Every other code will not change by itself, among them:
 * -101…-105 the app or its link to the OA, -108 an invalid phone number, -109 an unknown
 * template, -110 the user's Zalo app too old, -111/-112 template data empty or wrong, -114 the
 * user inactive or refusing ZNS, -118 no Zalo account, -119 an account that cannot receive ZNS,
 * -131 a template not approved, -139 the user refused this kind of ZNS.
 */
const RETRYABLE = new Set([
  -100, // unknown error: "try again later"
  -115, // out of quota: the OA's ZNS balance is spent until it is topped up
  -124, // access token invalid or expired: a manager saves a new one
  -133, // this template may not be sent at night (22:00–06:00)
  -144, // the OA has used its daily ZNS quota
  -147, // the template has used its daily quota
  -32, // Zalo's OpenAPI: too many requests (the OA API's table)
  -216, // Zalo's OpenAPI: access token invalid (the OA API's table)
]);

export function createZaloChannel(settings: ZaloSettings, secrets: Partial<ZaloSecrets>): Channel {
  const url = `${(settings.baseUrl ?? 'https://business.openapi.zalo.me').replace(/\/$/, '')}/message/template`;
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const oa = settings.oaId ? ` (OA ${settings.oaId})` : '';
  return {
    kind: 'zalo',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      const templateId = settings.templates[message.purpose];
      if (!templateId) throw new DeliveryError(`no Zalo template for ${message.purpose}`, { retryable: false });
      if (!secrets.accessToken) throw new DeliveryError(`no Zalo access token is set${oa}`, { retryable: false });
      const deadline = AbortSignal.timeout(timeoutMs);
      let res: Response;
      let body: string;
      try {
        res = await fetch(url, {
          method: 'POST', redirect: 'manual', signal: AbortSignal.any([signal, deadline]),
          headers: { 'content-type': 'application/json', access_token: secrets.accessToken },
          body: JSON.stringify({ phone: message.to, template_id: templateId, template_data: message.params, tracking_id: message.key }),
        });
        body = await res.text();
      } catch (error) {
        const why = deadline.aborted ? `no answer within ${timeoutMs / 1000} s` : signal.aborted ? 'stopped' : (error as Error).message;
        throw new DeliveryError(`Zalo: ${why}`, { retryable: true, cause: error });
      }
      if (res.status >= 500 || res.status === 429) throw new DeliveryError(`Zalo answered ${res.status}`, { retryable: true, responseStatus: res.status });
      let answer: { error?: unknown; message?: unknown; data?: { msg_id?: unknown } };
      try {
        answer = JSON.parse(body) as typeof answer;
      } catch {
        // a 200 we cannot read may still have sent the message; anything else is the wrong address
        throw new DeliveryError(`Zalo answered ${res.status} with no JSON`, { retryable: res.status >= 200 && res.status < 300, responseStatus: res.status });
      }
      if (answer.error !== 0) {
        const code = Number(answer.error);
        const said = typeof answer.message === 'string' ? `: ${answer.message}` : '';
        throw new DeliveryError(`Zalo refused (${String(answer.error)}${said})${code === -124 || code === -216 ? oa : ''}`, {
          retryable: RETRYABLE.has(code), responseStatus: res.status,
        });
      }
      return { responseStatus: res.status, ...(typeof answer.data?.msg_id === 'string' ? { providerId: answer.data.msg_id } : {}) };
    },
    close: async () => {},
  };
}
