import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '@qms/db';

/** Where each screen's built single-page app lives (scripts/build-ui.mjs writes them). */
export const SCREENS = [
  { path: 'kiosk', dir: 'kiosk-ui/dist/kiosk' },
  { path: 'display', dir: 'display-ui/dist/display' },
  { path: 'counter', dir: 'counter-ui/dist/counter' },
  { path: 'rating', dir: 'counter-ui/dist/rating' },
  { path: 'manage', dir: 'manager-ui/dist/manage' },
] as const;


async function ui(app: FastifyInstance) {
  for (const screen of SCREENS) {
    const dir = path.join(projectRoot, screen.dir);
    if (!existsSync(path.join(dir, 'index.html'))) {
      app.log.warn(`${screen.dir} is not built: run npm run build:ui`);
      app.get(`/${screen.path}/*`, async (_req, reply) =>
        reply.code(503).type('text/plain; charset=utf-8').send(`/${screen.path} is not built yet: run npm run build:ui`));
      continue;
    }
    await app.register(async (scope) => {
      await scope.register(fastifyStatic, { root: dir, prefix: `/${screen.path}/`, decorateReply: true, wildcard: false,
        // hashed assets may be cached for ever; index.html never, so a redeploy reaches every screen
        setHeaders: (reply, file) => reply.header('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable') });
      // client-side routes fall back to the app's index.html
      scope.get(`/${screen.path}/*`, (_req, reply) => reply.sendFile('index.html'));
    });
    app.get(`/${screen.path}`, (_req, reply) => reply.redirect(`/${screen.path}/`));
  }
}

export const uiPlugin = fp(ui, { name: 'ui' });
