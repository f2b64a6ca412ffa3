import { Type, type Static } from 'typebox';
import type { Channel } from '../channel.ts';
import { createEsmsChannel, createHttpSmsChannel, EsmsSettings, HttpSmsSettings, type HttpSmsSecrets } from './http-gateway.ts';

// SMS, by the provider a site has: eSMS.vn or any HTTP gateway (http-gateway.ts).

export const SmsSettings = Type.Union([EsmsSettings, HttpSmsSettings]);
export type SmsSettings = Static<typeof SmsSettings>;

/** The secrets each provider takes: never returned by the API, only whether they are set. */
export const SMS_SECRET_FIELDS = { esms: ['secretKey'], http: ['authorization'] } as const;

export function createSmsChannel(settings: SmsSettings, secrets: HttpSmsSecrets): Channel {
  switch (settings.provider) {
    case 'esms': return createEsmsChannel(settings, secrets);
    case 'http': return createHttpSmsChannel(settings, secrets);
  }
}
