import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The ticket's font files, shipped in hardware/fonts (DejaVu, see its LICENSE there). */
export const TICKET_FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'] as const;
export type TicketFontFile = (typeof TICKET_FONT_FILES)[number];

// The single-file site agent (scripts/build.mjs) has the fonts built in, base64 by file name:
// a kiosk PC gets one file, with no hardware/fonts folder beside it.
declare const QMS_BUNDLED_FONTS: Record<TicketFontFile, string> | undefined;

/**
 * A font file's bytes: built into the bundle, or read from hardware/fonts, found by walking up
 * from this module (hardware/src/ticket in the sources, dist/ in the production build).
 */
export function ticketFont(file: TicketFontFile): Buffer {
  if (typeof QMS_BUNDLED_FONTS !== 'undefined') return Buffer.from(QMS_BUNDLED_FONTS[file], 'base64');
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'fonts', file), path.join(dir, 'hardware', 'fonts', file)]) {
      if (existsSync(candidate)) return readFileSync(candidate);
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the ticket font hardware/fonts/${file}`);
  }
}
