import jsQR from 'jsqr';
import { bitmapToRgba, type MonoBitmap } from '../../src/raster/raster.bitmap.ts';
import type { TicketPrintData } from '../../src/ticket/ticket.text.ts';

export const sampleTicket: TicketPrintData = {
  centreName: 'Trung tâm Phục vụ hành chính công tỉnh Thừa Thiên Huế',
  serviceName: { vi: 'Tư pháp – Hộ tịch', en: 'Justice – Civil status' },
  code: 'A023',
  peopleAhead: 4,
  estimatedWaitSeconds: 12 * 60,
  issuedAt: new Date('2025-11-24T02:05:00Z'),
  url: 'https://hcc.example.gov.vn/t/7Q2M-A023',
};

/** A real procedure name, long enough to need three lines at 80 mm. */
export const longServiceName =
  'Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu';

export function readQr(bitmap: MonoBitmap): string | null {
  return jsQR(bitmapToRgba(bitmap), bitmap.width, bitmap.height)?.data ?? null;
}

export function sameBits(a: MonoBitmap, b: MonoBitmap): boolean {
  return a.width === b.width && a.height === b.height && Buffer.compare(Buffer.from(a.bits), Buffer.from(b.bits)) === 0;
}
