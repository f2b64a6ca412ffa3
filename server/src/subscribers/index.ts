import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';
import { alertsSubscriber } from './alerts.ts';
import { metricsSubscriber } from './metrics.ts';
import { notificationsSubscriber } from './notifications.ts';
import { realtimeSubscriber } from './realtime.ts';
import { settingsSubscriber } from './settings.ts';
import { statsSubscriber } from './stats.ts';

/**
 * Every reaction to committed events, in the order each commit's events reach them: a changed
 * site's settings forgotten (no work, no wait), then the sockets (a call reaches the displays
 * before anything else is done with it). A new
 * reaction is a file here and a line below (docs/architecture.md).
 */
export const SUBSCRIBERS: ((app: FastifyInstance) => Subscriber)[] = [
  settingsSubscriber,
  realtimeSubscriber,
  statsSubscriber,
  alertsSubscriber,
  metricsSubscriber,
  notificationsSubscriber,
];
