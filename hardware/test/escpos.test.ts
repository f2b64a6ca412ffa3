import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import { describe, expect, it } from 'vitest';
import { decodeEscPos } from '../src/escpos/escpos.decode.ts';
import { encodeTicket } from '../src/escpos/escpos.encode.ts';
import { bitmapToRgba, createBitmap, isBlack, type MonoBitmap } from '../src/raster/raster.bitmap.ts';
import { renderTicket } from '../src/ticket/ticket.render.ts';
import { sameBits, sampleTicket } from './support/tickets.ts';

function pattern(width: number, height: number): MonoBitmap {
  const bitmap = createBitmap(width, height);
  // deterministic noise so every byte value, 0x10 0x04 included, turns up in the image data
  let seed = 7;
  for (let i = 0; i < bitmap.bits.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bitmap.bits[i] = seed >>> 24;
  }
  return bitmap;
}

describe('encodeTicket', () => {
  it('initialises, sends the raster in bands, feeds and cuts partially', () => {
    const image = pattern(576, 100);
    const job = encodeTicket(image);
    expect(Array.from(job.subarray(0, 2))).toEqual([0x1b, 0x40]);
    expect(Array.from(job.subarray(2, 10))).toEqual([0x1d, 0x76, 0x30, 0x00, 72, 0, 24, 0]);
    expect(Array.from(job.subarray(-6))).toEqual([0x1b, 0x64, 4, 0x1d, 0x56, 0x01]);

    const decoded = decodeEscPos(job);
    expect(decoded.notes).toEqual([]);
    expect(decoded.commands.map((c) => (c.type === 'raster' ? `raster ${c.width}x${c.height}` : c.type))).toEqual([
      'initialize',
      'raster 576x24',
      'raster 576x24',
      'raster 576x24',
      'raster 576x24',
      'raster 576x4',
      'feed-lines',
      'cut',
    ]);
    expect(decoded.cut).toBe(true);
    expect(decoded.commands.at(-1)).toMatchObject({ type: 'cut', partial: true });
    expect(sameBits(decoded.image!, image)).toBe(true);
  });

  it('takes the band height, feed and cut from the options', () => {
    const image = pattern(384, 300);
    const decoded = decodeEscPos(encodeTicket(image, { bandRows: 128, feedLines: 0, cut: false }));
    expect(decoded.commands.filter((c) => c.type === 'raster').map((c) => (c.type === 'raster' ? c.height : 0))).toEqual([128, 128, 44]);
    expect(decoded.commands.some((c) => c.type === 'feed-lines')).toBe(false);
    expect(decoded.cut).toBe(false);
    expect(sameBits(decoded.image!, image)).toBe(true);
    expect(() => encodeTicket(image, { bandRows: 256 })).toThrow(RangeError);
  });

  it('round-trips a rendered ticket dot for dot', async () => {
    const raster = await renderTicket(sampleTicket);
    const decoded = decodeEscPos(encodeTicket(raster));
    expect(sameBits(decoded.image!, raster)).toBe(true);
  });
});

describe('decodeEscPos', () => {
  it('reads the image written by another encoder (@point-of-sale/receipt-printer-encoder)', () => {
    // An independent implementation of GS v 0 guards against our encoder and decoder sharing one mistake.
    const image = pattern(64, 40);
    const encoder = new ReceiptPrinterEncoder({ language: 'esc-pos', imageMode: 'raster' });
    const bytes = encoder
      .initialize()
      .image({ data: bitmapToRgba(image), width: 64, height: 40 }, 64, 40, 'threshold')
      .cut('partial')
      .encode();
    const decoded = decodeEscPos(bytes);
    expect(decoded.cut).toBe(true);
    const got = decoded.image!;
    expect(got.width).toBe(64);
    expect(got.height).toBeGreaterThanOrEqual(40); // that encoder pads to whole 8-row groups
    for (let y = 0; y < got.height; y++) {
      for (let x = 0; x < 64; x++) expect(isBlack(got, x, y), `dot ${x},${y}`).toBe(y < 40 && isBlack(image, x, y));
    }
  });

  it('skips commands it does not know, with a note, and still finds the image and the cut', () => {
    const image = pattern(16, 3);
    const stream = Buffer.concat([
      Buffer.from([0x1b, 0x40]),
      Buffer.from([0x1b, 0x61, 0x01]), // ESC a 1: centre
      Buffer.from('Xin chao\n', 'latin1'),
      Buffer.from([0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 0x06]), // GS ( k: QR module size
      Buffer.from([0x1b, 0x99]), // no such command
      Buffer.from([0x10, 0x04, 0x04]), // DLE EOT 4
      Buffer.from([0x07]), // BEL
      Buffer.from(encodeTicket(image, { cut: false, feedLines: 0 }).subarray(2)),
      Buffer.from([0x1d, 0x56, 0x42, 0x03]), // GS V 66 3: feed and partial cut
    ]);
    const decoded = decodeEscPos(stream);
    expect(decoded.commands.map((c) => c.type)).toEqual([
      'initialize',
      'setting',
      'text',
      'line-feed',
      'setting',
      'unknown',
      'status-request',
      'unknown',
      'raster',
      'cut',
    ]);
    expect(decoded.commands[2]).toMatchObject({ type: 'text', text: 'Xin chao' });
    expect(decoded.commands[6]).toMatchObject({ type: 'status-request', n: 4 });
    expect(decoded.commands[9]).toMatchObject({ type: 'cut', partial: true, feed: 3 });
    expect(decoded.notes).toEqual(['skipped unknown command ESC 0x99 at offset 22', 'skipped control byte 0x07 at offset 27']);
    expect(sameBits(decoded.image!, image)).toBe(true);
  });

  it('reports a stream cut short inside an image instead of throwing', () => {
    const job = encodeTicket(pattern(576, 48));
    const decoded = decodeEscPos(job.subarray(0, 500));
    expect(decoded.cut).toBe(false);
    expect(decoded.notes.join(' ')).toMatch(/ends inside GS v 0 image data/);
    expect(decoded.image).toBeNull();
  });
});
