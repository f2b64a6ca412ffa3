import { getEventListeners } from 'node:events';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing } from '../../src/notifications/channels/channel.ts';
import { createEmailChannel, type EmailSettings } from '../../src/notifications/channels/email.ts';

// Email against a real SMTP server (the smtp-server package) on 127.0.0.1 with authentication.
// The test's reader keeps the first mail of each Message-ID, as a mail system that drops
// repeats does; it also counts every mail that came.

const received: { messageId: string; subject: string; text: string; to: string; from: string }[] = [];
let rcpt: 'ok' | '451' | '550' | 'silent' = 'ok';
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: false, allowInsecureAuth: true, disabledCommands: ['STARTTLS'], logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'mail-pass-1') return callback(null, { user: 'mailer' });
      callback(new Error('Invalid username or password'));
    },
    onRcptTo(_address, _session, callback) {
      if (rcpt === 'silent') return; // never answers
      if (rcpt === 'ok') return callback();
      callback(Object.assign(new Error(rcpt === '451' ? 'Try again later' : 'No such mailbox'), { responseCode: Number(rcpt) }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        received.push({ messageId: mail.messageId ?? '', subject: mail.subject ?? '', text: (mail.text ?? '').trim(), to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '', from: mail.from?.text ?? '' });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const settings = (over: Partial<EmailSettings> = {}): EmailSettings =>
  ({ host: '127.0.0.1', port, secure: false, user: 'mailer', from: 'Trung tâm PVHCC <noreply@pvhcc.example.vn>', timeoutMs: 1500, ...over });
let n = 0;
const message = (): Outgoing => ({
  key: `email-${++n}`, to: 'lanh.dao@example.vn', purpose: 'leader_complaint', lang: 'vi', params: {},
  subject: 'Trung tâm PVHCC: Phản ánh tại quầy 3', text: 'Phản ánh của người dân tại quầy 3 (Nguyễn Thị Lan). "Chờ lâu, không ai giải thích"',
});
const signal = () => AbortSignal.timeout(10_000);
const unique = () => [...new Map(received.map((r) => [r.messageId, r])).values()];

describe('email over SMTP', () => {
  it('delivers a Vietnamese subject and body intact, with the message key as its Message-ID', async () => {
    const channel = createEmailChannel(settings(), { password: 'mail-pass-1' });
    try {
      const m = message();
      expect(await channel.send(m, signal())).toEqual({ providerId: `<${m.key}@pvhcc.example.vn>` });
      expect(received.at(-1)).toEqual({
        messageId: `<${m.key}@pvhcc.example.vn>`, subject: m.subject, text: m.text, to: 'lanh.dao@example.vn',
        from: '"Trung tâm PVHCC" <noreply@pvhcc.example.vn>',
      });
    } finally {
      await channel.close();
    }
  });

  it('sends a retry with the same Message-ID, which a reader that drops repeats sees once', async () => {
    const channel = createEmailChannel(settings(), { password: 'mail-pass-1' });
    try {
      const before = received.length;
      const beforeUnique = unique().length;
      const m = message();
      await channel.send(m, signal());
      await channel.send(m, signal());
      expect(received.length - before).toBe(2);
      expect(unique().length - beforeUnique).toBe(1);
    } finally {
      await channel.close();
    }
  });

  it('says whether a failure may pass on a retry', async () => {
    const wrong = createEmailChannel(settings(), { password: 'not-the-password' });
    const channel = createEmailChannel(settings(), { password: 'mail-pass-1' });
    try {
      await expect(wrong.send(message(), signal())).rejects.toMatchObject({ retryable: false, responseStatus: 535 });
      rcpt = '550';
      await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: false, responseStatus: 550 });
      rcpt = '451';
      await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, responseStatus: 451 });
    } finally {
      rcpt = 'ok';
      await wrong.close();
      await channel.close();
    }
  });

  it('gives up on a server that stops answering, as worth a retry, and still sends on the same channel', async () => {
    const channel = createEmailChannel(settings(), { password: 'mail-pass-1' });
    try {
      rcpt = 'silent';
      const started = performance.now();
      await expect(channel.send(message(), signal())).rejects.toMatchObject({ retryable: true, message: 'SMTP: no answer within 1.5 s' });
      expect(performance.now() - started).toBeLessThan(3000);
      rcpt = 'ok';
      const m = message();
      await channel.send(m, signal());
      expect(received.at(-1)?.messageId).toBe(`<${m.key}@pvhcc.example.vn>`);
    } finally {
      rcpt = 'ok';
      await channel.close();
    }
  });

  it('stops when the worker stops, and leaves no listener on its signal', async () => {
    const channel = createEmailChannel(settings({ timeoutMs: 10_000 }), { password: 'mail-pass-1' });
    try {
      const worker = new AbortController();
      for (let i = 0; i < 12; i++) await channel.send(message(), worker.signal);
      expect(getEventListeners(worker.signal, 'abort')).toHaveLength(0);

      rcpt = 'silent';
      const before = received.length;
      const sending = channel.send(message(), worker.signal);
      setTimeout(() => worker.abort(), 200);
      await expect(sending).rejects.toMatchObject({ retryable: true, message: 'SMTP: stopped' });
      // a stopped worker sends nothing more
      rcpt = 'ok';
      await expect(channel.send(message(), worker.signal)).rejects.toMatchObject({ retryable: true, message: 'SMTP: stopped' });
      expect(received.length).toBe(before);
    } finally {
      rcpt = 'ok';
      await channel.close();
    }
  });
});
