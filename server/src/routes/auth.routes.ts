import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, LoginBody } from '@qms/protocol';
import { SESSION_COOKIE, who } from '../http/auth.plugin.ts';
import { actorOf } from '../http/actor.ts';
import { errors } from '../http/replies.ts';

const User = Type.Object({ id: Type.String(), username: Type.String(), displayName: Type.String(), role: Type.String() });

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/auth/login', {
    schema: { tags: ['auth'], body: LoginBody, response: { 200: Type.Object({ token: Type.String(), user: User, expiresAt: Type.String() }), ...errors } },
    config: { rateLimit: app.rateLimits.login },
    preHandler: app.rateLimits.loginAccount,
  }, async (request, reply) => {
    const { username, password } = request.body;
    const session = await app.auth.login(username, password, request.ip);
    // Secure over HTTPS, also when a trusted proxy ended the TLS (X-Forwarded-Proto, QMS_TRUST_PROXY)
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true, sameSite: 'lax', path: '/', expires: session.expiresAt, secure: request.protocol === 'https',
    });
    return { token: session.token, user: session.user, expiresAt: session.expiresAt.toISOString() };
  });

  app.post('/auth/logout', { schema: { tags: ['auth'], response: { 204: Type.Null(), 401: ErrorBody } } }, async (request, reply) => {
    const principal = who(request);
    if (principal.kind === 'staff') await app.auth.logout(principal.sessionId, actorOf(request));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send(null);
  });

  app.get('/auth/me', { schema: { tags: ['auth'] } }, async (request) => {
    const principal = who(request);
    return principal.kind === 'staff'
      ? { kind: 'staff', user: principal.user, siteIds: principal.siteIds }
      : { kind: 'device', device: principal.device };
  });
};
