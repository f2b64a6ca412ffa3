import { createHash } from 'node:crypto';
import type { Db } from '@qms/db';
import { staffPhotoUrl, type StaffPhoto } from '@qms/protocol';
import type { Committed } from '../app/after-commit.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { siteUpdated } from '../queue/queue.events.ts';
import { reencodePhoto, type EncodedPhoto } from './photo.image.ts';

// Officials' photos, stored in PostgreSQL (staff_photo) so every process of a cluster serves them.

export interface StoredPhoto {
  image: Buffer;
  contentType: string;
  etag: string;
}

export class StaffPhotoService {
  constructor(private readonly db: Db) {}

  /** The account a photo belongs to, with its role and sites (who may change or read it). */
  async owner(userId: string): Promise<{ id: string; role: string; siteIds: string[] }> {
    const user = await this.db.selectFrom('appUser').select(['id', 'role']).where('id', '=', userId).executeTakeFirst();
    if (!user) throw new QueueError('USER_NOT_FOUND', `No user ${userId}`, 404);
    const sites = await this.db.selectFrom('siteMembership').select('siteId').where('userId', '=', userId).execute();
    return { ...user, siteIds: sites.map((s) => s.siteId) };
  }

  /**
   * The official's photo from an uploaded file, re-encoded (photo.image.ts). The screens of the
   * official's sites hear site:updated ['staff'].
   */
  async replace(userId: string, upload: Buffer, by: string): Promise<Committed<StaffPhoto>> {
    const photo = await this.save(userId, await reencodePhoto(upload), by);
    return { value: photo, events: (await this.owner(userId)).siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) };
  }

  /** Removes the photo; true when there was one (and then the screens of its sites hear of it). */
  async remove(userId: string): Promise<Committed<boolean>> {
    const result = await this.db.deleteFrom('staffPhoto').where('userId', '=', userId).executeTakeFirst();
    const removed = result.numDeletedRows > 0n;
    return { value: removed, events: removed ? (await this.owner(userId)).siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) : [] };
  }

  async save(userId: string, photo: EncodedPhoto, by: string): Promise<StaffPhoto> {
    const etag = digest(photo.image);
    const row = { image: photo.image, contentType: photo.contentType, width: photo.width, height: photo.height, etag, updatedAt: new Date(), updatedBy: by };
    await this.db.insertInto('staffPhoto').values({ userId, ...row })
      .onConflict((oc) => oc.column('userId').doUpdateSet(row)).execute();
    return {
      userId, photoUrl: staffPhotoUrl(userId, etag), contentType: photo.contentType,
      width: photo.width, height: photo.height, bytes: photo.image.length,
    };
  }

  async read(userId: string): Promise<StoredPhoto | undefined> {
    return this.db.selectFrom('staffPhoto').select(['image', 'contentType', 'etag']).where('userId', '=', userId).executeTakeFirst();
  }
}

/** 128 bits of SHA-256, URL-safe: the ETag's value and the `v` of the photo's URL. */
const digest = (image: Buffer) => createHash('sha256').update(image).digest('base64url').slice(0, 22);
