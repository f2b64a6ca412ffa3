import nodemailer from 'nodemailer';
import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from './channel.ts';

// Email over SMTP (nodemailer, one pooled transport per channel). Plain text in UTF-8: a
// Vietnamese subject and body arrive as written. The Message-ID is the message's key, so a mail
// system or a reader that drops repeated Message-IDs sees a retry once. A 5xx answer (no such
// mailbox, authentication refused) will not change by retrying; a 4xx, a lost connection or a
// timeout may.

export const EmailSettings = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  secure: Type.Boolean({ description: 'TLS from the start (port 465); false: plain, upgraded by STARTTLS when offered' }),
  requireTls: Type.Optional(Type.Boolean({ description: 'refuse to send unless STARTTLS succeeds' })),
  user: Type.Optional(Type.String({ maxLength: 255 })),
  from: Type.String({ minLength: 3, maxLength: 255, description: 'e.g. "Trung tâm PVHCC <noreply@pvhcc.gov.vn>"' }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
}, { additionalProperties: false });
export type EmailSettings = Static<typeof EmailSettings>;
export interface EmailSecrets { password?: string }
export const EMAIL_SECRET_FIELDS = ['password'] as const;

export function createEmailChannel(settings: EmailSettings, secrets: EmailSecrets): Channel {
  const timeoutMs = settings.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    host: settings.host, port: settings.port, secure: settings.secure, requireTLS: settings.requireTls ?? false, pool: true, maxConnections: 2,
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    ...(settings.user ? { auth: { user: settings.user, pass: secrets.password ?? '' } } : {}),
  });
  const domain = /@([^>\s]+)/.exec(settings.from)?.[1] ?? 'qms.local';
  return {
    kind: 'email',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      const sending = transport.sendMail({
        from: settings.from, to: message.to, subject: message.subject ?? message.text.slice(0, 80), text: message.text,
        messageId: `<${message.key}@${domain}>`, headers: { 'Content-Language': message.lang },
      });
      const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new DeliveryError('stopped', { retryable: true })), { once: true }));
      try {
        const info = await Promise.race([sending, stopped]);
        return { providerId: info.messageId };
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        const e = error as { responseCode?: number; code?: string; message: string };
        // the server's code decides when there is one (a recipient refused with 451 is worth a retry, with 550 not)
        const permanent = e.responseCode !== undefined ? e.responseCode >= 500 : e.code === 'EAUTH' || e.code === 'EENVELOPE';
        throw new DeliveryError(`SMTP: ${e.message}`, { retryable: !permanent, ...(e.responseCode ? { responseStatus: e.responseCode } : {}), cause: error });
      }
    },
    close: async () => transport.close(),
  };
}
