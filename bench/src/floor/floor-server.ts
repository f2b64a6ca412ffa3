// The floor: what a call or an issue costs with nothing of the queue system around it.
// One plain Node process with a pg pool (same size as the server's), node:http and a bare
// socket.io server with the server's settings; no Fastify, no auth, no domain.
//   POST /issue   one INSERT ... RETURNING into bench_floor_ticket
//   POST /call    one UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
//   POST /finish  one UPDATE by id
//   IPC {op:'call', room, serviceIds, tag}: the same UPDATE, then io.to(room).emit('ticket:called')
//   IPC {op:'loop-start'|'loop-take'}: event-loop delay and GC pauses (lib/loop-monitor.ts)
// Sockets join the room named in their auth ({room}).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { Server } from 'socket.io';
import { startLoopMonitor, takeLoopRecord } from '../lib/loop-monitor.ts';

const url = process.env.DATABASE_URL!;
const port = Number(process.env.PORT ?? 0);
const db = new pg.Pool({ connectionString: url, max: 20, application_name: 'qms-bench-floor' });
db.on('error', () => {});

const CALL = `UPDATE bench_floor_ticket SET status = 'called', counter_id = $2, called_at = now()
  WHERE id = (SELECT id FROM bench_floor_ticket WHERE service_id = ANY($1::uuid[]) AND status = 'waiting'
              ORDER BY priority_rank NULLS LAST, queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id, code, service_id`;
const FINISH = `UPDATE bench_floor_ticket SET status = 'done', finished_at = now() WHERE id = $1 RETURNING id`;
const ISSUE = `INSERT INTO bench_floor_ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, issued_at, queued_at)
  VALUES ($1, $2, $3, $3, current_date, nextval('bench_floor_number'), 'F' || currval('bench_floor_number'), 'waiting', now(), now())
  RETURNING id, code`;

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

const server = http.createServer(async (req, res) => {
  try {
    const body = req.method === 'POST' ? await readJson(req) : {};
    let result: unknown;
    if (req.url === '/api/health') result = { status: 'ok' };
    else if (req.url === '/issue') {
      result = (await db.query(ISSUE, [randomBytes(16).toString('base64url'), body.siteId, body.serviceId])).rows[0];
    } else if (req.url === '/call') {
      const row = (await db.query(CALL, [body.serviceIds, body.counterId])).rows[0];
      if (!row) {
        res.writeHead(204).end();
        return;
      }
      result = row;
    } else if (req.url === '/finish') {
      result = (await db.query(FINISH, [body.ticketId])).rows[0];
    } else {
      res.writeHead(404).end();
      return;
    }
    const text = JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});

const io = new Server(server, { serveClient: false, pingInterval: 10_000, pingTimeout: 8_000, maxHttpBufferSize: 16 * 1024 });
io.on('connection', (socket) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === 'string') void socket.join(room);
  // every screen gets a first message on connect, as the real server's snapshot (tiny here)
  socket.emit('queue:snapshot', { room });
});

process.on('message', async (m: { id: string; op: string; room?: string; serviceIds?: string[]; counterId?: string; tag?: number }) => {
  try {
    if (m.op === 'call') {
      const row = (await db.query(CALL, [m.serviceIds, m.counterId])).rows[0];
      if (row) io.to(m.room!).emit('ticket:called', { tag: m.tag, ticket: row, counter: { id: m.counterId } });
      process.send!({ id: m.id, found: !!row });
    } else if (m.op === 'loop-start') {
      process.send!({ id: m.id, state: startLoopMonitor() });
    } else if (m.op === 'loop-take') {
      process.send!({ id: m.id, record: takeLoopRecord() });
    } else if (m.op === 'sockets') {
      process.send!({ id: m.id, count: io.engine.clientsCount });
    } else {
      process.send!({ id: m.id, error: `unknown op ${m.op}` });
    }
  } catch (error) {
    process.send!({ id: m.id, error: String(error) });
  }
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`floor listening http://127.0.0.1:${address.port}`);
});

const stop = () => {
  io.close();
  server.close();
  void db.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
