import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * The headers of a citizen's server-rendered page whose address is its key (a ticket's /t/…, a
 * booking's /b/…, the centre's pages): never cached, never handed to another site as a referrer,
 * and only its own nonce'd style and script run. Returns the nonce the page's tags carry.
 */
export function privatePageHeaders(reply: FastifyReply): string {
  const nonce = randomBytes(16).toString('base64');
  reply.headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  return nonce;
}
