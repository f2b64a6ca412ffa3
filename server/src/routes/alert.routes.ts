import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';
import type { QueueService } from '../queue/queue.service.ts';

// Routes of the alert feature (filled in by its issue).
export async function alertRoutes(_app: FastifyInstance, _deps: { db: Db; queue: QueueService }) {}
