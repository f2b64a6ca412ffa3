import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';
import type { QueueService } from '../queue/queue.service.ts';

// Routes of the phone feature (filled in by its issue).
export async function phoneRoutes(_app: FastifyInstance, _deps: { db: Db; queue: QueueService }) {}
