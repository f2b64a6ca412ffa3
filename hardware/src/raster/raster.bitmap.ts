import { PNG } from 'pngjs';

/**
 * A 1-bit image as a thermal printer sees it: row-major, MSB first, 1 = black (a dot burnt).
 * Each row starts on a byte boundary (`bytesPerRow(width)` bytes), which is exactly the
 * payload layout of ESC/POS `GS v 0`, so encoding needs no repacking.
 */
export type MonoBitmap = {
  width: number;
  height: number;
  bits: Uint8Array;
};

export function bytesPerRow(width: number): number {
  return Math.ceil(width / 8);
}

export function createBitmap(width: number, height: number): MonoBitmap {
  return { width, height, bits: new Uint8Array(bytesPerRow(width) * height) };
}

export function isBlack(bitmap: MonoBitmap, x: number, y: number): boolean {
  if (x < 0 || y < 0 || x >= bitmap.width || y >= bitmap.height) return false;
  const byte = bitmap.bits[y * bytesPerRow(bitmap.width) + (x >> 3)] ?? 0;
  return (byte & (0x80 >> (x & 7))) !== 0;
}

/**
 * Thresholds RGBA pixels (as from canvas getImageData) without dithering: dithering turns
 * the edges of small letters into noise on a 203 dpi head, a hard cut keeps them crisp.
 */
export function bitmapFromRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, threshold = 128): MonoBitmap {
  const bitmap = createBitmap(width, height);
  const stride = bytesPerRow(width);
  const bits = bitmap.bits;
  for (let y = 0; y < height; y++) {
    let i = y * width * 4;
    const rowStart = y * stride;
    for (let x = 0; x < width; x++, i += 4) {
      // Rec. 601 luma in integers; alpha is ignored because the canvas is painted opaque.
      const luma = (rgba[i]! * 299 + rgba[i + 1]! * 587 + rgba[i + 2]! * 114) / 1000;
      if (luma < threshold) bits[rowStart + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return bitmap;
}

/** Black on white RGBA, the form image tools (jsQR, PNG writers) expect. */
export function bitmapToRgba(bitmap: MonoBitmap): Uint8ClampedArray {
  const { width, height } = bitmap;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = isBlack(bitmap, x, y) ? 0 : 255;
      const o = (y * width + x) * 4;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      out[o + 3] = 255;
    }
  }
  return out;
}

export function bitmapToPng(bitmap: MonoBitmap): Buffer {
  const png = new PNG({ width: bitmap.width, height: bitmap.height, colorType: 0 });
  png.data = Buffer.from(bitmapToRgba(bitmap).buffer);
  return PNG.sync.write(png, { colorType: 0 });
}

/** The rectangle holding every black pixel, or null for a blank image. */
export function inkBounds(bitmap: MonoBitmap): { left: number; top: number; right: number; bottom: number } | null {
  let left = Infinity;
  let top = Infinity;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < bitmap.height; y++) {
    for (let x = 0; x < bitmap.width; x++) {
      if (!isBlack(bitmap, x, y)) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  return right < 0 ? null : { left, top, right, bottom };
}

/** A copy of a region; used to OCR or inspect one part of a ticket. */
export function cropBitmap(bitmap: MonoBitmap, x: number, y: number, width: number, height: number): MonoBitmap {
  const out = createBitmap(width, height);
  const stride = bytesPerRow(width);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      if (isBlack(bitmap, x + col, y + row)) out.bits[row * stride + (col >> 3)]! |= 0x80 >> (col & 7);
    }
  }
  return out;
}
