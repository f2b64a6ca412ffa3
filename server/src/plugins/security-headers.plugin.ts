import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

// What a browser may do with anything this server sends. The screens are built by Vite into
// files of their own (no inline script), load nothing from elsewhere and talk only to this
// server (HTTP and same-origin WebSocket); the display fetches its voice clips from here. A
// page of the manager console inside someone else's frame could be clicked through without
// the manager knowing (clickjacking), so no page may be framed at all.
//
// Style attributes stay allowed (style-src-attr): Svelte sets them on elements, and they
// cannot run code. <style> elements and inline scripts are refused.
const SCREEN_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];
export const SCREEN_CSP = SCREEN_DIRECTIVES.join('; ');

/**
 * The API docs (swagger-ui, not ours to change) add a <style> element at run time; scripts
 * stay as strict as the screens'.
 */
export const DOCS_CSP = SCREEN_DIRECTIVES.map((d) => (d === "style-src 'self'" ? "style-src 'self' 'unsafe-inline'" : d)).join('; ');

/**
 * Every response gets the headers, not only HTML: a 404, a JSON error or a CSV opened in a
 * tab is a page too. A route that sets its own policy keeps it (the phone page, with the
 * nonce of its inline script).
 */
async function securityHeaders(app: FastifyInstance) {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', SCREEN_CSP);
    // for browsers that predate frame-ancestors (old TV browsers of wall displays)
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    // a screen's address may carry a pairing code (?pair=): never send it to another site
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
    return payload;
  });
}

export const securityHeadersPlugin = fp(securityHeaders, { name: 'security-headers' });
