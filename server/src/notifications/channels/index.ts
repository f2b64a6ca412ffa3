import type { TSchema } from 'typebox';
import { Check, Errors } from 'typebox/value';
import type { NotifyChannelKind } from '@qms/db';
import type { Channel } from './channel.ts';
import { createEmailChannel, EMAIL_SECRET_FIELDS, EmailSettings } from './email.ts';
import { createSmsChannel, SMS_SECRET_FIELDS, SmsSettings } from './sms/index.ts';
import { createZaloChannel, ZALO_SECRET_FIELDS, ZaloSettings } from './zalo.ts';

// The channels a site can set up, each with the schema of its settings and the names of its
// secrets. A new channel is a file beside this one and an entry below (docs/notifications.md).

interface ChannelSpec {
  /** what is wrong with these settings, in words; none: valid */
  check(settings: unknown): string[];
  /** the secrets these settings take (a provider of SMS has its own) */
  secretFields(settings: Record<string, unknown>): readonly string[];
  create(settings: Record<string, unknown>, secrets: Record<string, unknown>): Channel;
}

const problems = (schema: TSchema, value: unknown) =>
  (Check(schema, value) ? [] : [...Errors(schema, value)].slice(0, 5).map((e) => `${e.instancePath || 'settings'} ${e.message}`));

export const CHANNELS: Record<NotifyChannelKind, ChannelSpec> = {
  sms: {
    check: (s) => problems(SmsSettings, s),
    secretFields: (s) => SMS_SECRET_FIELDS[s.provider as keyof typeof SMS_SECRET_FIELDS] ?? [],
    create: (s, secrets) => createSmsChannel(s as never, secrets as never),
  },
  email: {
    check: (s) => problems(EmailSettings, s),
    secretFields: () => EMAIL_SECRET_FIELDS,
    create: (s, secrets) => createEmailChannel(s as never, secrets as never),
  },
  zalo: {
    check: (s) => problems(ZaloSettings, s),
    secretFields: () => ZALO_SECRET_FIELDS,
    create: (s, secrets) => createZaloChannel(s as never, secrets as never),
  },
};

/** The worker's and the test send's way to a channel: settings as saved (checked on save). */
export const buildChannel = (kind: NotifyChannelKind, settings: Record<string, unknown>, secrets: Record<string, unknown>): Channel =>
  CHANNELS[kind].create(settings, secrets);
