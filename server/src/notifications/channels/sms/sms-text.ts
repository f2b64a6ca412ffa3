// Vietnamese text as SMS. With its accents a Vietnamese text needs UCS-2 (70 characters in one
// SMS, 67 a segment once concatenated); without them it fits GSM-7 (160, then 153). A centre
// chooses per channel: 'unaccented' (cheaper: "Moi so A012 den quay 3") or 'ucs2' (the text as
// written). The template editor shows both, with their segments and cost.

export type SmsEncoding = 'unaccented' | 'ucs2';

/** GSM 03.38's basic set, and its extension table (each extension character takes two septets). */
const GSM7_BASIC = new Set([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà']);
const GSM7_EXTENDED = new Set([...'^{}\\[~]|€\f']);

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
  const plain = encoding === 'unaccented' ? unaccent(text) : text;
  if (encoding === 'unaccented' && isGsm7(plain)) {
    let septets = 0;
    for (const c of plain) septets += GSM7_EXTENDED.has(c) ? 2 : 1;
    return { text: plain, encoding: 'gsm7', chars: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  }
  // an emoji or a letter GSM-7 lacks: the text as written, in UCS-2
  const sent = encoding === 'unaccented' ? plain : text;
  const units = sent.length;
  return { text: sent, encoding: 'ucs2', chars: units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

/** What the message costs, in the unit of the channel's pricePerSegment (VND). */
export function smsCost(parts: Pick<SmsParts, 'segments'>, pricePerSegment: number): number {
  return parts.segments * pricePerSegment;
}
