import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { reachable, type Db, type EmbeddedState } from '@qms/db';
import { version } from '../version.ts';

const Health = Type.Object({
  /** ok: this process can serve (200); degraded: a part it needs is down (503), named in `down` */
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  db: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  /** with the embedded PostgreSQL: whether it runs, or died and is being started again */
  embeddedPostgres: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('restarting'), Type.Literal('stopped')])),
  /**
   * with several processes (QMS_CLUSTER): whether the socket.io adapter listens in PostgreSQL;
   * down, the calls other processes publish do not reach this process's screens (503)
   */
  socketAdapter: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('down')])),
  /**
   * the day end (tickets of a day that is over are expired): failing when its last sweep failed,
   * until one works again. It does not stop serving, so it makes no 503.
   */
  dayEnd: Type.Union([Type.Literal('ok'), Type.Literal('failing')]),
  /** the parts that are down, when one is: one sentence each, separated by '; ' */
  down: Type.Optional(Type.String()),
});

export interface HealthOptions {
  db: Db;
  embedded?: { state(): EmbeddedState };
  socketAdapter: () => 'ok' | 'down' | undefined;
  dayEndFailing: () => boolean;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { db, embedded, socketAdapter, dayEndFailing }) => {
  app.get('/api/health', {
    schema: { tags: ['health'], summary: 'Whether this process can serve, and the state of each part (docs/observability.md)', response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    const embeddedPostgres = embedded?.state();
    const adapter = socketAdapter();
    const up = await reachable(db);
    const down: string[] = [];
    if (!up) down.push(embeddedPostgres === 'restarting' ? 'embedded PostgreSQL: stopped unexpectedly, being started again' : 'database: unreachable');
    if (adapter === 'down') down.push('socket adapter: not listening in PostgreSQL, other processes\' events do not reach this one\'s screens');
    const body = {
      status: down.length ? 'degraded' as const : 'ok' as const,
      version,
      db: up ? 'ok' as const : 'unreachable' as const,
      ...(embeddedPostgres ? { embeddedPostgres } : {}),
      ...(adapter ? { socketAdapter: adapter } : {}),
      dayEnd: dayEndFailing() ? 'failing' as const : 'ok' as const,
      ...(down.length ? { down: down.join('; ') } : {}),
    };
    return reply.code(down.length ? 503 : 200).send(body);
  });
};
