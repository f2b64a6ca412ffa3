import type { Db, Localized } from '@qms/db';
import type { PublicTicket } from '@qms/protocol';
import type { Lang } from '@qms/ui-shared/format';
import type { AfterCommit } from '../app/after-commit.ts';
import { masked } from '../notifications/addresses.ts';
import { notificationSettings } from '../notifications/settings.ts';
import type { QueueService } from '../queue/queue.service.ts';
import type { RatingService } from '../ratings/rating.service.ts';

// What the phone page behind a ticket's QR code (/t/:publicId, routes/phone.routes.ts) shows.

export interface RatingLevel {
  score: number;
  label: Localized;
  asksReason?: boolean;
}

export interface PageModel {
  publicId: string;
  lang: Lang;
  siteName: string;
  timezone: string;
  services: Record<string, Localized>;
  ticket: PublicTicket;
  rated: boolean;
  scale: RatingLevel[];
  reasons: { code: string; label: Localized }[];
  /** the server's time (the queue's clock) */
  now: Date;
  /** text messages: whether the site offers them, and the number given for this ticket (masked) */
  sms: { offered: boolean; phone: string | null };
}

/** The scale RatingService uses when a site configures none. */
const DEFAULT_SCALE: RatingLevel[] = [
  { score: 3, label: { vi: 'Rất hài lòng', en: 'Very satisfied' } },
  { score: 2, label: { vi: 'Hài lòng', en: 'Satisfied' } },
  { score: 1, label: { vi: 'Không hài lòng', en: 'Not satisfied' }, asksReason: true },
];

export class PhonePages {
  constructor(private readonly db: Db, private readonly queue: QueueService, private readonly ratings: AfterCommit<RatingService>) {}

  /** The page of a ticket, in the language asked for (else the ticket's), or null for no such ticket. */
  async model(publicId: string, langParam: string | undefined): Promise<PageModel | null> {
    const { db, queue, ratings } = this;
    const row = await db.selectFrom('ticket').innerJoin('site', 'site.id', 'ticket.siteId')
      .select(['ticket.id', 'ticket.siteId', 'ticket.lang', 'site.name as siteName', 'site.timezone', 'site.settings'])
      .where('ticket.publicId', '=', publicId).executeTakeFirst();
    if (!row) return null;
    const notices = notificationSettings(row);
    const [ticket, services, rating, channel, contact] = await Promise.all([
      queue.publicTicket(publicId),
      db.selectFrom('service').select(['id', 'name']).where('siteId', '=', row.siteId).execute(),
      ratings.publicState(publicId),
      db.selectFrom('notificationChannel').select('kind').where('siteId', '=', row.siteId).where('kind', '=', notices.citizenChannel)
        .where('enabled', '=', true).executeTakeFirst(),
      db.selectFrom('ticketContact').select('phone').where('ticketId', '=', row.id).executeTakeFirst(),
    ]);
    const lang: Lang = langParam === 'en' || langParam === 'vi' ? langParam : row.lang === 'en' ? 'en' : 'vi';
    return {
      publicId, lang, siteName: row.siteName, timezone: row.timezone, ticket: { ...ticket, ...rating }, rated: rating.rated === true, now: queue.now(),
      services: Object.fromEntries(services.map((s) => [s.id, s.name])),
      scale: row.settings.ratingScale?.length ? row.settings.ratingScale : DEFAULT_SCALE,
      reasons: row.settings.ratingReasons ?? [],
      sms: { offered: notices.offerPhone && !!channel, phone: masked(contact?.phone ?? null, 'sms') },
    };
  }
}

