import { Type, type Static } from 'typebox';
import { MESSAGE_PURPOSES, DeliveryError, type Channel, type Outgoing, type Sent } from './channel.ts';

// Zalo ZNS (Zalo Notification Service): template messages to a phone number's Zalo account.
// Built to Zalo's published API: POST https://business.openapi.zalo.me/message/template, header
// `access_token`, body {phone: "84…", template_id, template_data, tracking_id}; the answer is
// {error: 0, message: "Success", data: {msg_id, sent_time, quota}} or an error code. ZNS sends a
// template Zalo approved, filled with its parameters, not free text: a site sets, per purpose,
// the id of its approved template, whose parameters are our placeholders (code, counter …).
// tracking_id is the message's key.
//
// What is and is not tested: Zalo's servers cannot be reached from where this was built. The
// adapter is tested against a local peer that implements that endpoint's shape
// (server/test/notifications/zalo.test.ts). The error codes below are those of Zalo's published
// list as far as we know them; a site going live should check them against the current list.
// To go live a site needs a Zalo Official Account, ZNS templates approved by Zalo (one per
// purpose it uses), and an access token; access tokens expire (about a day) and are renewed
// with the refresh token, which this adapter does not do yet: an expired token fails the
// messages as retryable and raises "channel failing" until a manager saves a new one.

export const ZaloSettings = Type.Object({
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'default https://business.openapi.zalo.me' })),
  templates: Type.Record(Type.String({ pattern: `^(${MESSAGE_PURPOSES.join('|')})$` }), Type.String({ pattern: '^[0-9]{1,12}$' }), {
    description: 'the approved ZNS template id of each purpose it sends',
  }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
}, { additionalProperties: false });
export type ZaloSettings = Static<typeof ZaloSettings>;
export interface ZaloSecrets { accessToken?: string }
export const ZALO_SECRET_FIELDS = ['accessToken'] as const;

/**
 * Errors a later try may pass: Zalo's own failures, throttling and quotas (they renew), and an
 * invalid or expired access token (a manager saves a new one). The rest (an invalid phone
 * number, no Zalo account, a template not approved or with wrong parameters, a user who blocked
 * the OA) will not change.
 */
const RETRYABLE = new Set([-1, -32, -124, -144, -147, -216]);

export function createZaloChannel(settings: ZaloSettings, secrets: ZaloSecrets): Channel {
  const base = (settings.baseUrl ?? 'https://business.openapi.zalo.me').replace(/\/$/, '');
  const timeoutMs = settings.timeoutMs ?? 10_000;
  return {
    kind: 'zalo',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      const templateId = settings.templates[message.purpose];
      if (!templateId) throw new DeliveryError(`no Zalo template is set for ${message.purpose}`, { retryable: false });
      let res: Response;
      try {
        res = await fetch(`${base}/message/template`, {
          method: 'POST', redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          headers: { 'content-type': 'application/json', access_token: secrets.accessToken ?? '' },
          body: JSON.stringify({ phone: message.to, template_id: templateId, template_data: message.params, tracking_id: message.key }),
        });
      } catch (error) {
        throw new DeliveryError(`Zalo could not be reached: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      if (res.status >= 500 || res.status === 429) throw new DeliveryError(`Zalo answered ${res.status}`, { retryable: true, responseStatus: res.status });
      const answer = await res.json().catch(() => ({})) as { error?: number; message?: string; data?: { msg_id?: string } };
      if (answer.error !== 0) {
        const code = Number(answer.error ?? res.status);
        throw new DeliveryError(`Zalo refused (${code}${answer.message ? `: ${answer.message}` : ''})`, { retryable: RETRYABLE.has(code), responseStatus: res.status });
      }
      return { responseStatus: res.status, ...(answer.data?.msg_id ? { providerId: answer.data.msg_id } : {}) };
    },
    close: async () => {},
  };
}
