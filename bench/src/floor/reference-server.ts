// The reference of the end-to-end bench: a bare Fastify + pg + socket.io server with no domain
// rules. The same routes and JSON bodies as the queue server (checked by a Fastify schema), the
// same bearer tokens (checked against an in-memory map read at start), socket.io rooms per
// site, one statement per request and one event per change:
//   POST /api/v1/sites/:siteId/tickets       {serviceId} → INSERT into bench_ref_ticket with the
//        service's next number from its bench_ref_sequence row (one statement), 201 {ticket};
//        emits ticket:issued to the site's room
//   POST /api/v1/counters/:counterId/call-next  UPDATE ... (SELECT ... FOR UPDATE SKIP LOCKED)
//        RETURNING, 200 {ticket} or 204; emits ticket:called to the site's room
//   POST /api/v1/tickets/:ticketId/finish     UPDATE by id, 200 {ticket} or 409; emits ticket:updated
// No transaction, no event log, no wait estimate, no statistics, no snapshot (a screen gets a
// tiny queue:snapshot on connect, as the proof it is in its room).
// Env: DATABASE_URL, PORT, HOST (default 127.0.0.1), QMS_REF_TOKENS (path of a JSON file:
// { devices: {token: {siteId, kind, id}}, staff: {token: {id, siteIds}}, counters: {id: {siteId, serviceIds, number}}, prefixes: {serviceId: prefix} }).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import pg from 'pg';
import { Server } from 'socket.io';

interface Tokens {
  devices: Record<string, { siteId: string; kind: string; id: string }>;
  staff: Record<string, { id: string; siteIds: string[] }>;
  counters: Record<string, { siteId: string; serviceIds: string[]; number: number }>;
  prefixes: Record<string, string>;
}

const tokens = JSON.parse(readFileSync(process.env.QMS_REF_TOKENS!, 'utf8')) as Tokens;
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 20, application_name: 'qms-bench-reference' });
db.on('error', () => {});

const ISSUE = `
  WITH seq AS (
    INSERT INTO bench_ref_sequence (service_id, local_date, last_number) VALUES ($2, current_date, 1)
    ON CONFLICT (service_id, local_date) DO UPDATE SET last_number = bench_ref_sequence.last_number + 1
    RETURNING last_number)
  INSERT INTO bench_ref_ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, device_id, issued_at, queued_at)
  SELECT $3, $1, $2, $2, current_date, seq.last_number, $4 || lpad(seq.last_number::text, greatest(3, length(seq.last_number::text)), '0'), 'waiting', $5, now(), now() FROM seq
  RETURNING id, public_id, service_id, number, code, status, issued_at`;
const CALL = `
  UPDATE bench_ref_ticket SET status = 'called', counter_id = $2, staff_id = $3, called_at = now()
  WHERE id = (SELECT id FROM bench_ref_ticket WHERE service_id = ANY($1::uuid[]) AND status = 'waiting'
              ORDER BY priority_rank NULLS LAST, queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id, public_id, service_id, number, code, status, called_at`;
const FINISH = `
  UPDATE bench_ref_ticket SET status = 'done', finished_at = now()
  WHERE id = $1 AND site_id = ANY($2::uuid[]) AND status IN ('called', 'serving')
  RETURNING id, public_id, service_id, number, code, status, finished_at`;

const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
const uuid = { type: 'string', format: 'uuid' } as const;

const app = Fastify({ logger: false });
const io = new Server(app.server, {
  serveClient: false, pingInterval: 10_000, pingTimeout: 8_000, maxHttpBufferSize: 16 * 1024, perMessageDeflate: false, httpCompression: false,
});

app.get('/api/health', async () => ({ status: 'ok' }));

app.post<{ Params: { siteId: string }; Body: { serviceId: string } }>('/api/v1/sites/:siteId/tickets', {
  schema: {
    params: { type: 'object', required: ['siteId'], properties: { siteId: uuid } },
    body: { type: 'object', required: ['serviceId'], additionalProperties: false, properties: { serviceId: uuid, lang: { type: 'string', enum: ['vi', 'en'] } } },
  },
}, async (req, reply) => {
  const device = tokens.devices[bearer(req.headers.authorization) ?? ''];
  if (!device || device.kind !== 'kiosk' || device.siteId !== req.params.siteId) return reply.code(401).send({ error: 'UNAUTHENTICATED' });
  const prefix = tokens.prefixes[req.body.serviceId];
  if (!prefix) return reply.code(404).send({ error: 'SERVICE_NOT_FOUND' });
  const { rows } = await db.query(ISSUE, [req.params.siteId, req.body.serviceId, randomBytes(16).toString('base64url'), prefix, device.id]);
  const ticket = rows[0];
  io.to(`site:${req.params.siteId}`).emit('ticket:issued', { ticket });
  return reply.code(201).send({ ticket });
});

app.post<{ Params: { counterId: string } }>('/api/v1/counters/:counterId/call-next', {
  schema: { params: { type: 'object', required: ['counterId'], properties: { counterId: uuid } } },
}, async (req, reply) => {
  const staff = tokens.staff[bearer(req.headers.authorization) ?? ''];
  if (!staff) return reply.code(401).send({ error: 'UNAUTHENTICATED' });
  const counter = tokens.counters[req.params.counterId];
  if (!counter || !staff.siteIds.includes(counter.siteId)) return reply.code(404).send({ error: 'COUNTER_NOT_FOUND' });
  const { rows } = await db.query(CALL, [counter.serviceIds, req.params.counterId, staff.id]);
  const ticket = rows[0];
  if (!ticket) return reply.code(204).send();
  io.to(`site:${counter.siteId}`).emit('ticket:called', { ticket, counter: { id: req.params.counterId, number: counter.number } });
  return { ticket };
});

app.post<{ Params: { ticketId: string } }>('/api/v1/tickets/:ticketId/finish', {
  schema: { params: { type: 'object', required: ['ticketId'], properties: { ticketId: uuid } } },
}, async (req, reply) => {
  const staff = tokens.staff[bearer(req.headers.authorization) ?? ''];
  if (!staff) return reply.code(401).send({ error: 'UNAUTHENTICATED' });
  const { rows } = await db.query(FINISH, [req.params.ticketId, staff.siteIds]);
  const ticket = rows[0];
  if (!ticket) return reply.code(409).send({ error: 'TICKET_NOT_ACTIVE' });
  io.to(`site:${staff.siteIds[0]}`).emit('ticket:updated', { ticket });
  return { ticket };
});

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  const device = typeof token === 'string' ? tokens.devices[token] : undefined;
  const staff = typeof token === 'string' ? tokens.staff[token] : undefined;
  const siteId = device?.siteId ?? staff?.siteIds[0];
  if (!siteId) return next(new Error('UNAUTHENTICATED'));
  socket.data = { siteId };
  next();
});
io.on('connection', (socket) => {
  void socket.join(`site:${socket.data.siteId as string}`);
  socket.emit('queue:snapshot', { siteId: socket.data.siteId });
});

await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
console.log(`reference listening on ${process.env.HOST ?? '127.0.0.1'}:${(app.server.address() as { port: number }).port}`);

const stop = () => {
  io.close();
  void app.close().then(() => db.end()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
