import { Type, type Static } from 'typebox';
import type { Channel } from '../channel.ts';
import { createEsmsChannel, createHttpSmsChannel, EsmsSettings, HttpSmsSettings } from './http-gateway.ts';
import { createSmppChannel, SmppSettings } from './smpp.ts';

// SMS, by the provider a site has: a telco or aggregator over SMPP (smpp.ts), eSMS.vn or any
// HTTP gateway (http-gateway.ts).

export const SmsSettings = Type.Union([SmppSettings, EsmsSettings, HttpSmsSettings]);
export type SmsSettings = Static<typeof SmsSettings>;

/** The secrets each provider takes: never returned by the API, only whether they are set. */
export const SMS_SECRET_FIELDS = { smpp: ['password'], esms: ['secretKey'], http: ['authorization'] } as const satisfies Record<SmsSettings['provider'], readonly string[]>;

const secret = Type.Optional(Type.String({ maxLength: 2000 }));
/** Every provider's secrets in one object: a channel reads only its own (SMS_SECRET_FIELDS). */
export const SmsSecrets = Type.Object({
  /** smpp: the bind's password */
  password: secret,
  /** esms: SecretKey */
  secretKey: secret,
  /** http: the Authorization header, kept out of the settings' headers */
  authorization: secret,
}, { additionalProperties: false });
export type SmsSecrets = Static<typeof SmsSecrets>;

export function createSmsChannel(settings: SmsSettings, secrets: SmsSecrets): Channel {
  switch (settings.provider) {
    case 'smpp': return createSmppChannel(settings, secrets);
    case 'esms': return createEsmsChannel(settings, secrets);
    case 'http': return createHttpSmsChannel(settings, secrets);
  }
}
