import { sql } from 'kysely';
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';
import { version } from '../version.ts';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  db: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
});

export async function healthRoutes(app: FastifyInstance, { db }: { db: Db }) {
  app.get('/api/health', { schema: { tags: ['health'], response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(db);
      return { status: 'ok' as const, version, db: 'ok' as const };
    } catch {
      return reply.code(503).send({ status: 'degraded' as const, version, db: 'unreachable' as const });
    }
  });
}
