// A child process that receives the queue server's webhooks for the latency benchmark with
// notifications on (--notify=on): an HTTP server on 127.0.0.1 that checks each delivery's
// signature, answers 200 after a few milliseconds (a receiver doing a little work), and keeps,
// for each delivery, when it arrived and its event's occurredAt. It runs apart from the bench
// process so that receiving does not share the event loop that timestamps the displays.
//   argv: <secret> <answer delay ms>
//   IPC {op:'address'} -> {port}
//   IPC {op:'take', from?, to?} -> {deliveries: [arrivedAt epoch ms, lag ms, type, repeat 0|1][], badSignatures}
//   IPC {op:'close'} -> {}
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../../../server/src/notifications/channels/webhook.ts';

const secret = process.argv[2] ?? '';
const delayMs = Number(process.argv[3] ?? 3);
const deliveries: [number, number, string, number][] = [];
const seen = new Set<string>();
let badSignatures = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrivedAt = Date.now();
    const body = Buffer.concat(chunks).toString();
    const header = req.headers['x-qms-signature'];
    if (!verify(typeof header === 'string' ? header : undefined, secret, body)) {
      badSignatures++;
      res.writeHead(401).end();
      return;
    }
    try {
      const event = JSON.parse(body) as { id: string; type: string; occurredAt: string };
      const repeat = seen.has(event.id) ? 1 : 0;
      seen.add(event.id);
      deliveries.push([arrivedAt, arrivedAt - Date.parse(event.occurredAt), event.type, repeat]);
    } catch {
      badSignatures++;
    }
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), delayMs);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1');

process.on('message', (m: { id: string; op: string; from?: number; to?: number }) => {
  if (m.op === 'address') {
    const send = () => process.send!({ id: m.id, port: (server.address() as AddressInfo).port });
    if (server.listening) send();
    else server.once('listening', send);
  } else if (m.op === 'take') {
    const from = m.from ?? 0;
    const to = m.to ?? Number.POSITIVE_INFINITY;
    process.send!({ id: m.id, deliveries: deliveries.filter((d) => d[0] >= from && d[0] <= to), total: deliveries.length, badSignatures });
  } else if (m.op === 'close') {
    server.close();
    server.closeAllConnections();
    process.send!({ id: m.id });
  } else {
    process.send!({ id: m.id, error: `unknown op ${m.op}` });
  }
});
process.on('disconnect', () => process.exit(0));
