import type { FastifyInstance } from 'fastify';
import { QueueError } from '../queue/queue.errors.ts';

/** Deeper than any request of the API nests (opening hours are the deepest: 4). */
const MAX_DEPTH = 32;

/**
 * Text as it is stored: every string of a request's body, query and path, keys included, in
 * Unicode NFC, so "Hộ tịch" typed with precomposed letters and with combining marks is one
 * name, one login, one search. A NUL character is refused (PostgreSQL cannot store it in text
 * or jsonb, and no name or comment has one), and so is JSON nested deeper than any request.
 */
export function storedText(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new QueueError('VALIDATION_FAILED', 'Text may not contain the NUL character (U+0000)', 400);
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
    if (request.body !== undefined) request.body = storedText(request.body);
    if (request.query && Object.keys(request.query).length) request.query = storedText(request.query);
    if (request.params && Object.keys(request.params).length) request.params = storedText(request.params);
  });
}
