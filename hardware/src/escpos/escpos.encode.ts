import { bytesPerRow, type MonoBitmap } from '../raster/raster.bitmap.ts';

export const ESC = 0x1b;
export const GS = 0x1d;
export const DLE = 0x10;
export const EOT = 0x04;

export type EncodeTicketOptions = {
  /** partial cut at the end (default true) */
  cut?: boolean;
  /** lines fed before the cut, so the last printed row clears the cutter (default 4) */
  feedLines?: number;
  /**
   * rows per `GS v 0` command (default 24). Small bands keep every command within the
   * receive buffer of cheap printers, and below 256 rows because some firmware reads only
   * the low byte of the row count and prints the rest of the image as garbage text.
   */
  bandRows?: number;
};

/** `DLE EOT n`: real-time status request (1 printer, 2 offline cause, 3 error, 4 paper sensor). */
export function statusRequest(n: 1 | 2 | 3 | 4): Uint8Array {
  return Uint8Array.of(DLE, EOT, n);
}

/**
 * The whole print job for one ticket: `ESC @`, the raster in `GS v 0` bands, `ESC d n`,
 * `GS V 1`. Nothing else: no code page, no text mode, so no printer setting can change it.
 */
export function encodeTicket(raster: MonoBitmap, options: EncodeTicketOptions = {}): Uint8Array {
  const cut = options.cut ?? true;
  const feedLines = options.feedLines ?? 4;
  const bandRows = options.bandRows ?? 24;
  if (!Number.isInteger(bandRows) || bandRows < 1 || bandRows > 255) throw new RangeError(`bandRows must be 1..255, got ${bandRows}`);
  if (!Number.isInteger(feedLines) || feedLines < 0 || feedLines > 255) throw new RangeError(`feedLines must be 0..255, got ${feedLines}`);
  const stride = bytesPerRow(raster.width);
  if (stride > 0xffff) throw new RangeError(`image too wide: ${raster.width} dots`);
  if (raster.bits.length < stride * raster.height) throw new RangeError('bitmap has fewer bytes than width x height');

  const bands = Math.ceil(raster.height / bandRows);
  const size = 2 + bands * 8 + stride * raster.height + (feedLines > 0 ? 3 : 0) + (cut ? 3 : 0);
  const out = new Uint8Array(size);
  let o = 0;
  out[o++] = ESC;
  out[o++] = 0x40; // ESC @: forget whatever a previous job left set
  for (let top = 0; top < raster.height; top += bandRows) {
    const rows = Math.min(bandRows, raster.height - top);
    // GS v 0 m xL xH yL yH: m = 0 is normal density (no doubling)
    out.set([GS, 0x76, 0x30, 0x00, stride & 0xff, stride >> 8, rows & 0xff, rows >> 8], o);
    o += 8;
    out.set(raster.bits.subarray(top * stride, (top + rows) * stride), o);
    o += rows * stride;
  }
  if (feedLines > 0) {
    out.set([ESC, 0x64, feedLines], o); // ESC d n
    o += 3;
  }
  if (cut) {
    out.set([GS, 0x56, 0x01], o); // GS V 1: partial cut, leaves a hinge so the ticket does not fall
    o += 3;
  }
  return out;
}
