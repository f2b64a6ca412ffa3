import type { FastifyInstance } from 'fastify';
import { QueueError } from '../queue/queue.errors.ts';

/** Deeper than any request of the API nests (opening hours are the deepest: 4). */
const MAX_DEPTH = 32;

/**
 * Characters no one types into a name, a comment or a password: C0 controls other than tab and
 * line breaks (NUL among them, which PostgreSQL cannot store in text or jsonb), and a lone half
 * of a surrogate pair (not Unicode: the database driver would store U+FFFD in its place).
 */
const UNTYPABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|\p{Cs}/u;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Text as it is stored: every string of a request's body, query and path, keys included, in
 * Unicode NFC, so "Hộ tịch" typed with precomposed letters and with combining marks is one
 * name, one login, one search. Untypable characters are refused, and so is JSON nested deeper
 * than any request.
 */
export function storedText(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    const bad = UNTYPABLE.exec(value);
    if (bad) {
      const what = bad[0] === '\u0000' ? 'the NUL character (U+0000)' : /\p{Cs}/u.test(bad[0]) ? `a lone surrogate (${codePoint(bad[0])})` : `the control character ${codePoint(bad[0])}`;
      throw new QueueError('VALIDATION_FAILED', `Text may not contain ${what}`, 400);
    }
    return value.normalize('NFC');
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new QueueError('VALIDATION_FAILED', 'The request is nested too deeply', 400);
  if (Array.isArray(value)) return value.map((v) => storedText(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // defineProperty: a "__proto__" key stays a plain key (validation refuses it), never a prototype
    Object.defineProperty(out, storedText(key) as string, { value: storedText(v, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Before validation, so that schemas (lengths, patterns) see the text that will be stored. */
export function installTextInput(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    // (an upload's bytes, photos/photo.routes.ts, are no text)
    if (request.body !== undefined && !Buffer.isBuffer(request.body)) request.body = storedText(request.body);
    if (request.query && Object.keys(request.query).length) request.query = storedText(request.query);
    if (request.params && Object.keys(request.params).length) request.params = storedText(request.params);
  });
}
