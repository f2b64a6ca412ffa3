import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '@qms/db';
import { loadConfig, type Config } from './config.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { uiPlugin } from './plugins/ui.plugin.ts';

export interface AppOptions {
  db: Db;
  config?: Partial<Config>;
  logger?: FastifyServerOptions['logger'];
  /** serve the built screens (off in most HTTP tests) */
  serveUi?: boolean;
}

export async function buildApp(options: AppOptions) {
  const config = { ...loadConfig(), ...options.config };
  const app = Fastify({
    logger: options.logger ?? false,
    // a site server logs what needs attention, not every poll of every screen
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ajv: {
      // unknown fields are an error (400), never silently stored
      customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(healthRoutes, { db: options.db });
  if (options.serveUi ?? true) await app.register(uiPlugin);
  app.decorate('config', config);
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}
