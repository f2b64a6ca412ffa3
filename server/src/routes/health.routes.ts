import { sql } from 'kysely';
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Db, EmbeddedState } from '@qms/db';
import { version } from '../version.ts';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  db: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  /** with the embedded PostgreSQL: whether it runs, or died and is being started again */
  embeddedPostgres: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('restarting'), Type.Literal('stopped')])),
  /** the part that is down, when one is */
  down: Type.Optional(Type.String()),
});

export async function healthRoutes(app: FastifyInstance, { db, embedded }: { db: Db; embedded?: { state(): EmbeddedState } }) {
  app.get('/api/health', { schema: { tags: ['health'], response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const embeddedPostgres = embedded?.state();
    try {
      await sql`select 1`.execute(db);
      return { status: 'ok' as const, version, db: 'ok' as const, ...(embeddedPostgres ? { embeddedPostgres } : {}) };
    } catch {
      const down = embeddedPostgres === 'restarting' ? 'embedded PostgreSQL: stopped unexpectedly, being started again' : 'database: unreachable';
      return reply.code(503).send({ status: 'degraded' as const, version, db: 'unreachable' as const, ...(embeddedPostgres ? { embeddedPostgres } : {}), down });
    }
  });
}
