import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody, Id, StaffPhoto } from '@qms/protocol';
import { isAdmin, type StaffPrincipal } from '../auth/principal.ts';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { PHOTO_SIDE } from './photo.image.ts';

// An official's photo (extension of API.md): managers of the official's sites and administrators
// upload and delete it; the devices and staff of those sites read it (the rating tablet shows it
// to the citizen, the counter terminal to the official). Officials do not change their own: the
// photo is what a centre shows citizens as its official, like the name badge, so the centre
// chooses it.

/** The largest upload read; a larger body is refused (413) before it is stored anywhere. */
export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;

const strict = { additionalProperties: false } as const;
const UserParams = Type.Object({ userId: Id }, strict);
const PhotoQuery = Type.Object({
  v: Type.Optional(Type.String({ maxLength: 64, description: "the photo's version (its ETag) as in photoUrl; the photo is served whatever it says" })),
}, strict);
const ImageBytes = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the image file itself (not multipart, not base64)' });
const photoErrors = { ...errors, 413: ErrorBody, 415: ErrorBody };

/** Params and query are checked as everywhere else; the body is the upload's bytes, read by the parser below. */
const ajv = new Ajv({ removeAdditional: false, coerceTypes: false, allErrors: false });
addFormats.default(ajv);

export const photoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { photos } = app.services;

  // Every body here is an image: read as bytes whatever Content-Type the client sent (the kind is
  // taken from the bytes themselves), up to PHOTO_MAX_BYTES, and never parsed as JSON or text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PHOTO_MAX_BYTES }, (_request, body, done) => done(null, body));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body'
    ? (data: unknown) => Buffer.isBuffer(data) && data.length > 0
      ? { value: data }
      : { error: Object.assign(new Error('body must be the bytes of a JPEG, PNG or WebP image'), { validation: [] }) }
    : ajv.compile(schema)));

  /** Managers and administrators: decided from the token alone, before an upload's body is read. */
  const managerOrAdmin = (request: FastifyRequest): StaffPrincipal => {
    const p = who(request);
    allow(p.kind === 'staff' && (p.user.role === 'admin' || p.user.role === 'manager'), "Only managers and administrators change officials' photos");
    return p;
  };
  /** The account, when the caller manages every site it belongs to (as for PUT /users/:userId), or is an administrator. */
  const managedOwner = async (request: FastifyRequest, userId: string) => {
    const p = managerOrAdmin(request);
    if (isAdmin(p)) return { p, owner: await photos.owner(userId) };
    // an unknown account is refused like another site's, so no one learns which ids exist
    const owner = await photos.owner(userId).catch(() => null);
    allow(!!owner && owner.role !== 'admin' && owner.siteIds.length > 0 && owner.siteIds.every((s) => p.siteIds.includes(s)),
      'Only a manager of every site of this official changes their photo');
    return { p, owner };
  };

  app.put('/users/:userId/photo', {
    bodyLimit: PHOTO_MAX_BYTES,
    onRequest: async (request) => void managerOrAdmin(request),
    schema: {
      tags: ['configuration'], params: UserParams, body: ImageBytes, consumes: ['image/jpeg', 'image/png', 'image/webp'],
      response: { 200: StaffPhoto, ...photoErrors },
      description: `Sets the official's photo from a JPEG, PNG or WebP file of at most ${PHOTO_MAX_BYTES / 1024 / 1024} MB (413 above; `
        + "415 for anything else, whatever its Content-Type says). The server stores its own re-encoding: a JPEG of at most "
        + `${PHOTO_SIDE} px a side, without the file's metadata. The site's screens hear site:updated with parts ['staff'].`,
    },
  }, async (request) => {
    const { userId } = request.params;
    await managedOwner(request, userId);
    return (await photos.replace(userId, request.body, actorOf(request))).value;
  });

  app.delete('/users/:userId/photo', {
    onRequest: async (request) => void managerOrAdmin(request),
    schema: { tags: ['configuration'], params: UserParams, response: { 204: Type.Null(), ...errors }, description: "Removes the official's photo (204 also when there was none)." },
  }, async (request, reply) => {
    await managedOwner(request, request.params.userId);
    await photos.remove(request.params.userId, actorOf(request));
    return reply.code(204).send(null);
  });

  app.get('/users/:userId/photo', {
    schema: {
      tags: ['configuration'], params: UserParams, querystring: PhotoQuery, produces: ['image/jpeg', 'image/png', 'image/webp'],
      response: {
        200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the image, with its ETag' }),
        304: Type.Null({ description: 'If-None-Match named the current photo' }),
        ...errors,
      },
      description: "The official's photo, for the devices and staff of the official's sites (and administrators); 404 when there is none. "
        + 'Fetch the photoUrl of StaffRef: it changes with the photo. Answers carry an ETag and Cache-Control: private, no-cache.',
    },
  }, async (request, reply) => {
    const { userId } = request.params;
    const p = who(request);
    if (!isAdmin(p)) {
      const owner = await photos.owner(userId).catch(() => null);
      const sites = owner?.siteIds ?? [];
      allow(p.kind === 'device' ? sites.includes(p.device.siteId) : sites.some((s) => p.siteIds.includes(s)),
        'Only the devices and staff of this official\'s sites see their photo');
    }
    const photo = await photos.read(userId);
    if (!photo) throw new QueueError('PHOTO_NOT_FOUND', 'This official has no photo', 404);
    const etag = `"${photo.etag}"`;
    // private: a shared cache must not hand one site's photo to another; no-cache: checked
    // every time (a 304 is a few bytes), so a revoked tablet or a changed photo shows at once
    // (X-Content-Type-Options: nosniff is on every answer: plugins/security-headers.plugin.ts)
    reply.header('etag', etag).header('cache-control', 'private, no-cache');
    if (noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
    return reply.type(photo.contentType).send(photo.image);
  });
};

/** If-None-Match lists `etag` (or is *), comparing weakly as RFC 9110 says for GET. */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
