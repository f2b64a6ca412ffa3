import nodemailer, { type NodemailerError } from 'nodemailer';
import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from './channel.ts';

// Email over SMTP (nodemailer, one pooled transport per channel). Plain text in UTF-8: a
// Vietnamese subject and body arrive as written. The Message-ID is the message's key, so a mail
// system or a reader that drops repeated Message-IDs sees a retry once: an aborted or timed-out
// send may still have reached the server, and the worker will send it again.
// A 5xx answer (no such mailbox, authentication refused) will not change by retrying; a 4xx, a
// lost connection or a timeout may.

export const EmailSettings = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  secure: Type.Boolean({ description: 'TLS from the start (port 465); false: plain, upgraded by STARTTLS when offered' }),
  requireTls: Type.Optional(Type.Boolean({ description: 'refuse to send unless STARTTLS succeeds' })),
  user: Type.Optional(Type.String({ maxLength: 255 })),
  from: Type.String({ minLength: 3, maxLength: 255, description: 'e.g. "Trung tâm PVHCC <noreply@pvhcc.gov.vn>"' }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000, description: 'how long one send may take, all told' })),
}, { additionalProperties: false });
export type EmailSettings = Static<typeof EmailSettings>;
export const EmailSecrets = Type.Object({
  password: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false });
export type EmailSecrets = Static<typeof EmailSecrets>;
export const EMAIL_SECRET_FIELDS = ['password'] as const;

/** Failures without an SMTP reply that a retry would meet again: the settings are wrong. */
const PERMANENT_CODES = new Set(['EAUTH', 'ENOAUTH', 'EENVELOPE', 'ECONFIG']);

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
      // the socket timeouts miss a server that trickles its replies: a deadline for the whole send
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        const info = await transport.sendMail({
          from: settings.from, to: message.to, subject: message.subject ?? message.text.slice(0, 80), text: message.text,
          messageId: `<${message.key}@${domain}>`, headers: { 'Content-Language': message.lang },
          signal: AbortSignal.any([signal, deadline]),
        });
        return { providerId: info.messageId };
      } catch (error) {
        const e = error as NodemailerError;
        if (e.code === 'EABORT') {
          throw new DeliveryError(deadline.aborted ? `SMTP: no answer within ${timeoutMs / 1000} s` : 'SMTP: stopped', { retryable: true, cause: error });
        }
        // the server's reply decides when there is one (a recipient refused with 451 is worth a retry, with 550 not)
        const permanent = e.permanent ?? PERMANENT_CODES.has(e.code ?? '');
        throw new DeliveryError(`SMTP: ${e.message}`, { retryable: !permanent, ...(e.responseCode ? { responseStatus: e.responseCode } : {}), cause: error });
      }
    },
    close: async () => transport.close(),
  };
}
