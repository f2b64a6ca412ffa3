import type { FastifyServerOptions } from 'fastify';

/**
 * What never reaches a log line, whoever logs it (docs/observability.md): credentials (tokens,
 * passwords, pairing codes, cookies, Authorization) at the top level or one level down, and
 * PostgreSQL's `detail`, which quotes the values of a row ("Failing row contains (...)", "Key
 * (...)=(...)"): a citizen's phone number or a password hash would otherwise be in the log.
 */
const SECRETS = ['password', 'newPassword', 'currentPassword', 'token', 'deviceToken', 'pairingCode', 'secret', 'authorization', 'cookie', 'phone', 'phoneNumber', 'idNumber',
  // notifications: a citizen's or leader's address, a channel's secrets
  'address', 'to', 'email', 'secrets', 'accessToken', 'secretKey', 'apiKey'];
export const REDACTED_PATHS = [
  ...SECRETS,
  ...SECRETS.map((key) => `*.${key}`),
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-qms-signature"]', 'res.headers["set-cookie"]',
  'err.detail', 'err.cause.detail', 'error.detail',
];

/** A request as a log line shows it: no query string (pairing codes, tokens), no headers. */
function request(req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) {
  return { method: req.method, url: req.url?.split('?')[0], remoteAddress: req.ip ?? req.socket?.remoteAddress };
}

/** The app's logger options with the redaction above; `false` (no logging) stays false. */
export function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const given = logger === true ? {} : logger;
  return {
    ...given,
    redact: { paths: [...REDACTED_PATHS, ...(Array.isArray(given.redact) ? given.redact : given.redact?.paths ?? [])], censor: '[redacted]' },
    serializers: { req: request, ...given.serializers },
  };
}
