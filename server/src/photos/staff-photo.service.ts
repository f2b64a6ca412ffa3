import { createHash } from 'node:crypto';
import type { Db } from '@qms/db';
import { staffPhotoUrl, type StaffPhoto } from '@qms/protocol';
import type { Committed } from '../app/after-commit.ts';
import type { AuditActor, AuditService } from '../audit/audit.service.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { siteUpdated } from '../queue/queue.events.ts';
import { reencodePhoto, type EncodedPhoto } from './photo.image.ts';

// Officials' photos, stored in PostgreSQL (staff_photo) so every process of a cluster serves them.
// Setting or removing one is in the audit log (user.photo.update, user.photo.remove: never the
// image), in the same transaction.

export interface StoredPhoto {
  image: Buffer;
  contentType: string;
  etag: string;
}

export class StaffPhotoService {
  constructor(private readonly db: Db, private readonly audit: AuditService) {}

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
  async replace(userId: string, upload: Buffer, by: AuditActor): Promise<Committed<StaffPhoto>> {
    const photo = await this.save(userId, await reencodePhoto(upload), by);
    return { value: photo, events: (await this.owner(userId)).siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) };
  }

  /** Removes the photo; true when there was one (and then the screens of its sites hear of it). */
  async remove(userId: string, by: AuditActor): Promise<Committed<boolean>> {
    const removed = await this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('staffPhoto').where('userId', '=', userId).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await this.audit.record({ actor: by, siteId: await this.audit.siteOfUser(userId, trx), action: 'user.photo.remove', target: { type: 'user', id: userId } }, trx);
      return true;
    });
    return { value: removed, events: removed ? (await this.owner(userId)).siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) : [] };
  }

  async save(userId: string, photo: EncodedPhoto, by: AuditActor): Promise<StaffPhoto> {
    const etag = digest(photo.image);
    const row = { image: photo.image, contentType: photo.contentType, width: photo.width, height: photo.height, etag, updatedAt: new Date(), updatedBy: by.id };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('staffPhoto').values({ userId, ...row })
        .onConflict((oc) => oc.column('userId').doUpdateSet(row)).execute();
      await this.audit.record({
        actor: by, siteId: await this.audit.siteOfUser(userId, trx), action: 'user.photo.update', target: { type: 'user', id: userId },
        changes: { photo: { etag, width: photo.width, height: photo.height } },
      }, trx);
    });
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
