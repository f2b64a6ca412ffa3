import type { FastifyError, FastifyInstance } from 'fastify';
import { QueueError } from '../queue/queue.errors.ts';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

/** Every error leaves as `{error: {code, message}}`; never a stack trace, never a 500 for bad input. */
export function installErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | QueueError | Error, request, reply) => {
    if (error instanceof QueueError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } });
    }
    const fe = error as FastifyError & { validation?: unknown[] };
    if (fe.validation) {
      return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: fe.message } });
    }
    if (fe.statusCode === 429) {
      return reply.code(429).send({ error: { code: 'RATE_LIMITED', message: 'Too many requests: wait a moment and try again' } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'INVALID_JSON'
        : fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'BODY_TOO_LARGE'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE'
        : 'BAD_REQUEST';
      return reply.code(fe.statusCode).send({ error: { code, message: fe.message } });
    }
    const pgCode = (error as { code?: string }).code;
    // (22021/22P05: text PostgreSQL cannot store; the text hook refuses it first, this is the net below)
    if (pgCode === '22P02' || pgCode === '22007' || pgCode === '22008' || pgCode === '22003' || pgCode === '22021' || pgCode === '22P05') {
      // a malformed id or date that reached PostgreSQL: still the caller's input
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'Malformed value in the request' } });
    }
    if (pgCode && CONNECTION_ERRORS.has(pgCode)) {
      request.log.warn({ err: error }, 'database unavailable');
      return reply.code(503).send({ error: { code: 'UNAVAILABLE', message: 'The database is unavailable; try again shortly' } });
    }
    if (/timeout exceeded when trying to connect|Connection terminated|not queryable/i.test(error.message)) {
      return reply.code(503).send({ error: { code: 'UNAVAILABLE', message: 'The database is unavailable; try again shortly' } });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'Something went wrong on the server' } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` } }));
}
