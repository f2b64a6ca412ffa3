import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

// A mail server on 127.0.0.1 that keeps what it receives: the centre's email channel sends the
// citizens' codes and confirmations to it (docs/appointments.md).

export interface Mailbox {
  readonly mails: { to: string; subject: string; text: string }[];
  /** where the centre's email channel sends (PUT /sites/:siteId/notification-channels/email) */
  settings(): { host: string; port: number; secure: false; from: string; timeoutMs: number };
  close(): Promise<void>;
}

export async function mailbox(): Promise<Mailbox> {
  const mails: Mailbox['mails'] = [];
  const smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        mails.push({ to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '', subject: mail.subject ?? '', text: mail.text ?? '' });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    mails,
    settings: () => ({ host: '127.0.0.1', port: (smtp.server.address() as { port: number }).port, secure: false, from: 'Trung tâm PVHCC <noreply@pvhcc.example.vn>', timeoutMs: 3000 }),
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
