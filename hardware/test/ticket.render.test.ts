import { describe, expect, it } from 'vitest';
import { decodeEscPos } from '../src/escpos/escpos.decode.ts';
import { encodeTicket } from '../src/escpos/escpos.encode.ts';
import { bytesPerRow, createBitmap, inkBounds, isBlack, type MonoBitmap } from '../src/raster/raster.bitmap.ts';
import { renderTicket } from '../src/ticket/ticket.render.ts';
import { formatIssuedAt, formatWait, ticketTexts } from '../src/ticket/ticket.text.ts';
import { cropRows, normalise, ocr } from './support/ocr.ts';
import { longServiceName, readQr, sameBits, sampleTicket } from './support/tickets.ts';

describe('ticket texts', () => {
  it('prints the issue time as dd/MM/yyyy HH:mm in the site zone, not the machine zone', () => {
    const at = new Date('2025-03-04T17:30:00Z');
    expect(formatIssuedAt(at)).toBe('05/03/2025 00:30');
    expect(formatIssuedAt(at, 'Europe/Paris')).toBe('04/03/2025 18:30');
    expect(ticketTexts({ ...sampleTicket, issuedAt: at }).issuedAt).toBe('05/03/2025 00:30');
  });

  it('rounds the estimated wait to minutes and says so when there is no estimate', () => {
    const plain = (s: string | null) => s?.replace(/\u00a0/g, ' ');
    expect(plain(formatWait(12 * 60, 'vi'))).toBe('~12 phút');
    expect(plain(formatWait(12 * 60 + 20, 'en'))).toBe('~12 min');
    expect(plain(formatWait(20, 'vi'))).toBe('dưới 1 phút');
    expect(plain(formatWait(85 * 60, 'vi'))).toBe('~1 giờ 25 phút');
    expect(plain(formatWait(120 * 60, 'en'))).toBe('~2 h');
    expect(formatWait(null, 'vi')).toBeNull();
    expect(ticketTexts({ ...sampleTicket, estimatedWaitSeconds: null }).wait).toBe('chưa xác định');
  });

  it('says nobody serves yet instead of "under a minute" when no counter is open, and a longer wait as a lower bound', () => {
    const plain = (s: string) => s.replace(/\u00a0/g, ' ');
    const none = ticketTexts({ ...sampleTicket, peopleAhead: 0, estimatedWaitSeconds: 0, noCounterOpen: true });
    expect(plain(none.wait)).toBe('Chưa có quầy phục vụ');
    expect(plain(none.english)).toContain('0 ahead · no counter is serving yet · scan');
    const later = ticketTexts({ ...sampleTicket, estimatedWaitSeconds: 12 * 60, noCounterOpen: true });
    expect(plain(later.wait)).toBe('Chưa có quầy phục vụ · ít nhất ~12 phút');
    expect(plain(later.english)).toContain('no counter is serving yet, at least ~12 min');
  });

  it('writes the English line and Vietnamese thousands separators', () => {
    const texts = ticketTexts({ ...sampleTicket, peopleAhead: 1234 });
    expect(texts.peopleAhead).toBe('1.234');
    expect(ticketTexts(sampleTicket).english.replace(/\u00a0/g, ' ')).toBe(
      'Ticket A023 · Justice – Civil status · 4 ahead · ~12 min · scan to follow your turn',
    );
    const priority = ticketTexts({ ...sampleTicket, priorityLabel: { vi: 'Người cao tuổi', en: 'Elderly' } });
    expect(priority.priority).toBe('Ưu tiên: Người cao tuổi');
    expect(priority.english).toContain('priority: Elderly');
  });

  it('composes decomposed Vietnamese before drawing', () => {
    const decomposed = 'Tư pháp – Hộ tịch'.normalize('NFD');
    expect(ticketTexts({ ...sampleTicket, serviceName: { vi: decomposed, en: 'x' } }).serviceName).toBe('Tư pháp – Hộ tịch'.normalize('NFC'));
  });
});

describe('renderTicket', () => {
  it('fills the print head: 576 dots for 80 mm by default, 384 for 58 mm, one bit per dot', async () => {
    const wide = await renderTicket(sampleTicket);
    const narrow = await renderTicket(sampleTicket, { widthDots: 384 });
    expect(wide.width).toBe(576);
    expect(narrow.width).toBe(384);
    expect(wide.bits.length).toBe((576 / 8) * wide.height);
    expect(narrow.bits.length).toBe((384 / 8) * narrow.height);
    // a ticket, not a receipt roll: between 6 and 16 cm at 203 dpi
    expect(wide.height).toBeGreaterThan(480);
    expect(wide.height).toBeLessThan(1280);
    expect(wide.png().subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses a width the printer cannot take', async () => {
    await expect(renderTicket(sampleTicket, { widthDots: 500 })).rejects.toThrow(RangeError);
  });

  it('draws the same dots every time for the same ticket', async () => {
    const a = await renderTicket(sampleTicket);
    const b = await renderTicket(sampleTicket);
    expect(sameBits(a, b)).toBe(true);
    const other = await renderTicket({ ...sampleTicket, code: 'A024' });
    expect(sameBits(a, other)).toBe(false);
  });

  it('draws a QR code a phone can read back to the exact URL, at both widths', async () => {
    const url = 'https://hcc.example.gov.vn/t/8F3K-B117?lang=vi';
    for (const widthDots of [576, 384]) {
      const raster = await renderTicket({ ...sampleTicket, url }, { widthDots });
      expect(readQr(raster)).toBe(url);
    }
  });

  it('wraps a long service name onto more lines instead of cutting it off', async () => {
    const short = await renderTicket(sampleTicket);
    const long = await renderTicket({ ...sampleTicket, serviceName: { vi: longServiceName, en: 'Land: first certificate of land use rights' } });
    // three lines of 30-dot bold text instead of one
    expect(long.height).toBeGreaterThan(short.height + 60);
    const margin = Math.round(576 * 0.04);
    const ink = inkBounds(long)!;
    expect(ink.left).toBeGreaterThanOrEqual(margin - 1);
    expect(ink.right).toBeLessThanOrEqual(576 - margin);
    const text = normalise(await ocr(long));
    expect(text).toContain('Đăng ký, cấp Giấy chứng nhận');
    expect(text).toContain('gắn liền với đất lần đầu');
  });

  it('breaks a single word wider than the paper rather than drawing past the edge', async () => {
    const raster = await renderTicket({ ...sampleTicket, centreName: 'TRUNGTÂMPHỤCVỤHÀNHCHÍNHCÔNGTỈNHTHỪATHIÊNHUẾ' }, { widthDots: 384 });
    for (let y = 0; y < raster.height; y++) {
      for (const x of [0, 1, 2, 3, 380, 381, 382, 383]) expect(isBlack(raster, x, y)).toBe(false);
    }
  });

  it('sets the priority group apart', async () => {
    const plain = await renderTicket(sampleTicket);
    const priority = await renderTicket({ ...sampleTicket, priorityLabel: { vi: 'Người khuyết tật', en: 'Disability' } });
    expect(priority.height).toBeGreaterThan(plain.height + 30);
  });

  it('prints the procedure found at the kiosk under the field, readable by a person', async () => {
    const procedure = { code: '1.001193', name: { vi: 'Đăng ký khai sinh', en: 'Birth registration' } };
    const texts = ticketTexts({ ...sampleTicket, procedure });
    expect(texts.procedure).toBe('Thủ tục 1.001193: Đăng ký khai sinh');
    expect(texts.english).toContain('procedure 1.001193');
    expect(ticketTexts(sampleTicket).procedure).toBeNull();
    const plain = await renderTicket(sampleTicket);
    const raster = await renderTicket({ ...sampleTicket, procedure });
    expect(raster.height).toBeGreaterThan(plain.height + 20);
    const text = normalise(await ocr(raster));
    expect(text).toContain('Thủ tục 1.001193');
    expect(text).toContain('Đăng ký khai sinh');
  });

  it('marks a booked ticket "ĐẶT LỊCH 09:00 / BOOKED" and a remote one "LẤY SỐ TỪ XA / REMOTE", in a band a person reads off the paper', async () => {
    // 02:00Z is 09:00 in Hà Nội: the slot's time is the site's, 24-hour
    const booked = { ...sampleTicket, booking: { kind: 'slot' as const, slotAt: new Date('2025-11-24T02:00:00Z') } };
    const remote = { ...sampleTicket, booking: { kind: 'remote' as const, slotAt: new Date('2025-11-24T01:40:00Z') } };
    expect(ticketTexts(booked).booking).toBe('ĐẶT LỊCH 09:00 / BOOKED');
    expect(ticketTexts({ ...booked, timeZone: 'Europe/Paris' }).booking).toBe('ĐẶT LỊCH 03:00 / BOOKED');
    expect(ticketTexts(booked).english.replace(/\u00a0/g, ' ')).toContain('Justice – Civil status · booked 09:00 · 4 ahead');
    expect(ticketTexts(remote).booking).toBe('LẤY SỐ TỪ XA / REMOTE');
    expect(ticketTexts(remote).english).toContain('remote ticket');
    expect(ticketTexts(sampleTicket).booking).toBeNull();

    for (const [data, words] of [[booked, ['ĐẶT LỊCH 09:00', 'BOOKED']], [remote, ['LẤY SỐ TỪ XA', 'REMOTE']]] as const) {
      // what the printer receives: the ESC/POS job, decoded back to its dots
      const printed = decodeEscPos(encodeTicket(await renderTicket(data))).image!;
      const band = blackBand(printed);
      expect(band, 'a black band under the number').not.toBeNull();
      const text = normalise(await ocr(inverted(cropRows(printed, band!.top, band!.bottom)), { psm: 7 }));
      for (const word of words) expect(text).toContain(word);
    }
    const plain = decodeEscPos(encodeTicket(await renderTicket(sampleTicket))).image!;
    expect(blackBand(plain)).toBeNull();
  });
});

/**
 * The rows of a white-on-black band, if the ticket has one: the longest run of rows black from
 * margin to margin (which no letter is), taller than the 2-dot rules.
 */
function blackBand(bitmap: MonoBitmap): { top: number; bottom: number } | null {
  const margin = Math.round(bitmap.width * 0.04);
  const filled = (y: number) => isBlack(bitmap, margin + 2, y) && isBlack(bitmap, bitmap.width - margin - 3, y);
  let best: { top: number; bottom: number } | null = null;
  for (let y = 0; y < bitmap.height; y++) {
    if (!filled(y)) continue;
    const top = y;
    while (y + 1 < bitmap.height && filled(y + 1)) y++;
    if (y - top >= 20 && (!best || y - top > best.bottom - best.top)) best = { top, bottom: y };
  }
  return best;
}

/** Black for white: tesseract reads dark letters on light paper. */
function inverted(bitmap: MonoBitmap): MonoBitmap {
  const out = createBitmap(bitmap.width, bitmap.height);
  const stride = bytesPerRow(bitmap.width);
  for (let y = 0; y < bitmap.height; y++) {
    for (let x = 0; x < bitmap.width; x++) if (!isBlack(bitmap, x, y)) out.bits[y * stride + (x >> 3)]! |= 0x80 >> (x & 7);
  }
  return out;
}
