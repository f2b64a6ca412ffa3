import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { bitmapToPng, createBitmap, bytesPerRow, isBlack, type MonoBitmap } from '../../src/raster/raster.bitmap.ts';

/** Whitespace collapsed and letters composed, so OCR output compares with what we printed. */
export function normalise(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Reads text with Debian's tesseract (packages tesseract-ocr, tesseract-ocr-vie), the way
 * a person would read the paper: from pixels only.
 */
export async function ocr(bitmap: MonoBitmap, options: { psm?: number; lang?: string; shrink?: number } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-ocr-'));
  try {
    const file = path.join(dir, 'in.png');
    await writeFile(file, options.shrink && options.shrink > 1 ? shrunkPng(bitmap, options.shrink) : bitmapToPng(bitmap));
    const args = [file, '-', '-l', options.lang ?? 'vie'];
    if (options.psm !== undefined) args.push('--psm', String(options.psm));
    return await new Promise<string>((resolve, reject) => {
      // One thread each: the suite runs files in parallel on two cores.
      const child = spawn('tesseract', args, { env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', (error) => reject(new Error(`cannot run tesseract (apt-get install tesseract-ocr tesseract-ocr-vie): ${error.message}`)));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`tesseract exited ${code}: ${err}`))));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs of rows that hold ink, separated by at least `minGap` blank rows: the printed blocks. */
export function inkBands(bitmap: MonoBitmap, minGap = 6): Array<{ top: number; bottom: number; height: number }> {
  const stride = bytesPerRow(bitmap.width);
  const inked = (y: number) => bitmap.bits.subarray(y * stride, (y + 1) * stride).some((b) => b !== 0);
  const bands: Array<{ top: number; bottom: number; height: number }> = [];
  let top = -1;
  let lastInk = -1;
  for (let y = 0; y < bitmap.height; y++) {
    if (!inked(y)) continue;
    if (top < 0) top = y;
    else if (y - lastInk > minGap) {
      bands.push({ top, bottom: lastInk, height: lastInk - top + 1 });
      top = y;
    }
    lastInk = y;
  }
  if (top >= 0) bands.push({ top, bottom: lastInk, height: lastInk - top + 1 });
  return bands;
}

/** Rows top..bottom with a white margin around, which tesseract needs to find the text. */
export function cropRows(bitmap: MonoBitmap, top: number, bottom: number, margin = 16): MonoBitmap {
  const height = bottom - top + 1 + 2 * margin;
  const out = createBitmap(bitmap.width, height);
  const stride = bytesPerRow(bitmap.width);
  for (let y = top; y <= bottom; y++) {
    for (let x = 0; x < bitmap.width; x++) {
      if (isBlack(bitmap, x, y)) out.bits[(y - top + margin) * stride + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return out;
}

/**
 * Grey PNG at 1/factor size, each pixel the share of white in its block. Tesseract is
 * trained on text a few dozen pixels high and misreads letters several times that size.
 */
function shrunkPng(bitmap: MonoBitmap, factor: number): Buffer {
  const width = Math.floor(bitmap.width / factor);
  const height = Math.floor(bitmap.height / factor);
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let black = 0;
      for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) if (isBlack(bitmap, x * factor + dx, y * factor + dy)) black++;
      const v = Math.round(255 * (1 - black / (factor * factor)));
      const o = (y * width + x) * 4;
      png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 0 });
}
