import cookie from '@fastify/cookie';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.ts';
import type { Principal } from '../auth/principal.ts';
import { QueueError } from '../queue/queue.errors.ts';

export const SESSION_COOKIE = 'qms_session';

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Resolves the caller once per request, from the bearer token or the session cookie. */
async function auth(app: FastifyInstance, { auth }: { auth: AuthService }) {
  await app.register(cookie);
  app.decorate('auth', auth);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const token = bearer(request.headers.authorization) ?? request.cookies[SESSION_COOKIE];
    request.principal = await auth.resolve(token);
  });
}

export const authPlugin = fp(auth, { name: 'auth' });

/** The caller, or 401. */
export function who(request: FastifyRequest): Principal {
  if (!request.principal) throw new QueueError('UNAUTHENTICATED', 'Sign in, or use a device token', 401);
  return request.principal;
}

export function allow(condition: boolean, message = 'You are not allowed to do this'): asserts condition {
  if (!condition) throw new QueueError('FORBIDDEN', message, 403);
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}
