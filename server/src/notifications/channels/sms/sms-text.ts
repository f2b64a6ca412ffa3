// Vietnamese text as SMS. With its accents a Vietnamese text needs UCS-2 (70 characters in one
// SMS, 67 a segment once concatenated); without them it fits GSM-7 (160, then 153). A centre
// chooses per channel: 'unaccented' (cheaper: "Moi so A012 den quay 3") or 'ucs2' (the text as
// written). The template editor shows both, with their segments and cost.

export type SmsEncoding = 'unaccented' | 'ucs2';

/** GSM 03.38's basic set, and its extension table (each extension character takes two septets: ESC and itself). */
const GSM7_BASIC = new Set([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà']);
const GSM7_EXTENDED = new Set([...'^{}\\[~]|€\f']);

/** What one SMS holds: alone, and as a segment of a concatenated one (the rest is the 6-byte UDH). */
const LIMITS = { gsm7: { single: 160, segment: 153 }, ucs2: { single: 70, segment: 67 } } as const;

/** Strips Vietnamese diacritics: "Mời số A012 đến quầy 3" → "Moi so A012 den quay 3". */
export function unaccent(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC');
}

export function isGsm7(text: string): boolean {
  for (const c of text) if (!GSM7_BASIC.has(c) && !GSM7_EXTENDED.has(c)) return false;
  return true;
}

export interface SmsParts {
  /** what is sent */
  text: string;
  encoding: 'gsm7' | 'ucs2';
  /** septets (GSM-7, an extension character counting two) or UTF-16 code units (UCS-2) */
  chars: number;
  segments: number;
}

export function smsParts(text: string, encoding: SmsEncoding): SmsParts {
  // NFC: a text typed decomposed ("e" + U+0301) would cost two UCS-2 units a letter
  const sent = encoding === 'unaccented' ? unaccent(text) : text.normalize('NFC');
  // an emoji or a letter GSM-7 lacks: UCS-2 even when unaccented
  const coding = encoding === 'unaccented' && isGsm7(sent) ? 'gsm7' : 'ucs2';
  let chars = 0;
  for (const c of sent) chars += size(c, coding);
  return { text: sent, encoding: coding, chars, segments: chars <= LIMITS[coding].single ? 1 : split(sent, coding).length };
}

/**
 * The text of each segment as sent: up to 153 septets or 67 UTF-16 units, never cutting an
 * extension character from its escape or an emoji in half (so a boundary there costs a segment
 * more than chars / 153 would say, and smsParts counts it).
 */
export function smsSegments(parts: SmsParts): string[] {
  return parts.segments === 1 ? [parts.text] : split(parts.text, parts.encoding);
}

/** What the message costs, in the unit of the channel's pricePerSegment (VND). */
export function smsCost(parts: Pick<SmsParts, 'segments'>, pricePerSegment: number): number {
  return parts.segments * pricePerSegment;
}

const size = (c: string, coding: SmsParts['encoding']) => (coding === 'ucs2' ? c.length : GSM7_EXTENDED.has(c) ? 2 : 1);

function split(text: string, coding: SmsParts['encoding']): string[] {
  const out: string[] = [];
  let current = '';
  let used = 0;
  for (const c of text) {
    if (used + size(c, coding) > LIMITS[coding].segment) {
      out.push(current);
      current = '';
      used = 0;
    }
    current += c;
    used += size(c, coding);
  }
  out.push(current);
  return out;
}
