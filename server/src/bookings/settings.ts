import type { SiteRow } from '@qms/db';
import { DEFAULT_BOOKING_SETTINGS, type BookingSettings } from '@qms/protocol';

/** A site's booking rules (site.settings.bookings), over the defaults. */
export function bookingSettings(site: Pick<SiteRow, 'settings'>): BookingSettings {
  const own = (site.settings as { bookings?: Partial<BookingSettings> }).bookings ?? {};
  return { ...DEFAULT_BOOKING_SETTINGS, ...own };
}
