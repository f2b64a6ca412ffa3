import { Type, type Static } from 'typebox';
import type { Channel } from '../channel.ts';
import { createEsmsChannel, createHttpSmsChannel, EsmsSettings, HttpSmsSettings, type HttpSmsSecrets } from './http-gateway.ts';
import { createSmppChannel, SmppSettings, type SmppSecrets } from './smpp.ts';

// SMS, by the provider a site has: a telco or aggregator over SMPP (smpp.ts), eSMS.vn or any
// HTTP gateway (http-gateway.ts).

export const SmsSettings = Type.Union([SmppSettings, EsmsSettings, HttpSmsSettings]);
export type SmsSettings = Static<typeof SmsSettings>;

/** The secrets each provider takes: never returned by the API, only whether they are set. */
export const SMS_SECRET_FIELDS = { smpp: ['password'], esms: ['secretKey'], http: ['authorization'] } as const;

export function createSmsChannel(settings: SmsSettings, secrets: HttpSmsSecrets & SmppSecrets): Channel {
  switch (settings.provider) {
    case 'smpp': return createSmppChannel(settings, secrets);
    case 'esms': return createEsmsChannel(settings, secrets);
    case 'http': return createHttpSmsChannel(settings, secrets);
  }
}
