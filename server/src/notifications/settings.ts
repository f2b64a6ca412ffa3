import type { SiteRow } from '@qms/db';
import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings } from '@qms/protocol';

/** A site's notification options (site.settings.notifications), over the defaults. */
export function notificationSettings(site: Pick<SiteRow, 'settings'>): NotificationSettings {
  const own = (site.settings as { notifications?: Partial<NotificationSettings> }).notifications ?? {};
  return { ...DEFAULT_NOTIFICATION_SETTINGS, ...own };
}
