import http from 'node:http';

// An SMS gateway on 127.0.0.1 for the generic HTTP provider (settings below): it records each
// message and drops a key it already has, as a gateway's de-duplication does.

export interface SmsGateway {
  url: string;
  /** messages kept, first of each key */
  messages: { to: string; text: string; key: string }[];
  /** what to answer: 200 by default */
  status: number;
  /** the channel's settings for PUT /sites/:siteId/notification-channels/sms */
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

export async function smsGateway(): Promise<SmsGateway> {
  const keys = new Set<string>();
  const gateway = { messages: [] as SmsGateway['messages'], status: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (gateway.status === 200 && req.headers.authorization === 'Bearer gateway-token') {
        const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string; key: string };
        if (!keys.has(m.key)) {
          keys.add(m.key);
          gateway.messages.push(m);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"queued"}');
      } else {
        res.writeHead(req.headers.authorization === 'Bearer gateway-token' ? gateway.status : 401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sms`;
  return Object.assign(gateway, {
    url,
    settings: { provider: 'http', url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":{{to}},"text":{{text}},"key":{{key}}}', encoding: 'ucs2' },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}
