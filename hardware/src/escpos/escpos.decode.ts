import { bytesPerRow, type MonoBitmap } from '../raster/raster.bitmap.ts';

/** One command found in an ESC/POS stream, with the byte offset where it starts. */
export type EscPosCommand =
  | { type: 'initialize'; offset: number }
  | { type: 'raster'; offset: number; width: number; height: number; mode: number }
  | { type: 'column-image'; offset: number; width: number; mode: number }
  | { type: 'feed-lines'; offset: number; lines: number }
  | { type: 'feed-dots'; offset: number; dots: number }
  | { type: 'cut'; offset: number; partial: boolean; feed: number }
  | { type: 'status-request'; offset: number; n: number }
  | { type: 'line-feed'; offset: number }
  | { type: 'text'; offset: number; text: string }
  | { type: 'setting'; offset: number; command: string; params: number[] }
  | { type: 'unknown'; offset: number; bytes: number[] };

export type DecodedJob = {
  commands: EscPosCommand[];
  /**
   * Every `GS v 0` band stacked in stream order, as the paper would show them if nothing
   * else moved it in between; null when the stream held no raster image.
   */
  image: MonoBitmap | null;
  cut: boolean;
  /** skipped or doubtful bytes, in words a person can act on */
  notes: string[];
};

const ESC = 0x1b;
const GS = 0x1d;
const DLE = 0x10;
const FS = 0x1c;

// Commands whose parameter count is fixed, by their byte after ESC or GS. Anything here is
// reported as a `setting` so a test printer can show it; it never changes the image.
const ESC_FIXED: Record<number, [name: string, params: number]> = {
  0x20: ['ESC SP right spacing', 1],
  0x21: ['ESC ! print mode', 1],
  0x24: ['ESC $ absolute position', 2],
  0x2d: ['ESC - underline', 1],
  0x32: ['ESC 2 default line spacing', 0],
  0x33: ['ESC 3 line spacing', 1],
  0x3d: ['ESC = select peripheral', 1],
  0x45: ['ESC E emphasis', 1],
  0x47: ['ESC G double strike', 1],
  0x4d: ['ESC M font', 1],
  0x52: ['ESC R international set', 1],
  0x53: ['ESC S standard mode', 0],
  0x54: ['ESC T print direction', 1],
  0x55: ['ESC U unidirectional', 1],
  0x56: ['ESC V rotate', 1],
  0x5c: ['ESC \\ relative position', 2],
  0x61: ['ESC a justification', 1],
  0x63: ['ESC c panel / sensor', 2],
  0x70: ['ESC p drawer pulse', 3],
  0x72: ['ESC r colour', 1],
  0x74: ['ESC t code page', 1],
  0x7b: ['ESC { upside down', 1],
};

const GS_FIXED: Record<number, [name: string, params: number]> = {
  0x21: ['GS ! character size', 1],
  0x42: ['GS B reverse', 1],
  0x48: ['GS H HRI position', 1],
  0x49: ['GS I printer ID', 1],
  0x4c: ['GS L left margin', 2],
  0x50: ['GS P motion units', 2],
  0x57: ['GS W print area width', 2],
  0x61: ['GS a automatic status back', 1],
  0x62: ['GS b smoothing', 1],
  0x66: ['GS f HRI font', 1],
  0x68: ['GS h barcode height', 1],
  0x72: ['GS r transmit status', 1],
  0x77: ['GS w barcode width', 1],
};

type Band = { widthBytes: number; rows: number; data: Uint8Array };

/**
 * Reads an ESC/POS byte stream back into commands and the image it prints. Tests use it to
 * check what a printer would receive; a test printer can use it to show a job. Unknown
 * commands are skipped with a note rather than failing the whole stream.
 */
export function decodeEscPos(input: Uint8Array): DecodedJob {
  const commands: EscPosCommand[] = [];
  const notes: string[] = [];
  const bands: Band[] = [];
  let cut = false;
  let i = 0;
  const n = input.length;
  const byte = (at: number): number => input[at] ?? 0;
  const need = (offset: number, count: number, what: string): boolean => {
    if (offset + count <= n) return true;
    notes.push(`stream ends inside ${what} at offset ${offset} (needs ${count} bytes, has ${n - offset})`);
    return false;
  };
  const unknown = (offset: number, length: number, what: string) => {
    commands.push({ type: 'unknown', offset, bytes: Array.from(input.subarray(offset, offset + length)) });
    notes.push(`skipped ${what} at offset ${offset}`);
  };

  while (i < n) {
    const start = i;
    const b = byte(i);

    if (b === ESC) {
      if (!need(i, 2, 'ESC command')) break;
      const c = byte(i + 1);
      if (c === 0x40) {
        commands.push({ type: 'initialize', offset: start });
        i += 2;
      } else if (c === 0x64 || c === 0x4a) {
        if (!need(i, 3, c === 0x64 ? 'ESC d' : 'ESC J')) break;
        commands.push(c === 0x64 ? { type: 'feed-lines', offset: start, lines: byte(i + 2) } : { type: 'feed-dots', offset: start, dots: byte(i + 2) });
        i += 3;
      } else if (c === 0x69 || c === 0x6d) {
        // ESC i / ESC m: the old single-byte cut commands
        commands.push({ type: 'cut', offset: start, partial: c === 0x6d, feed: 0 });
        cut = true;
        i += 2;
      } else if (c === 0x2a) {
        if (!need(i, 5, 'ESC * header')) break;
        const mode = byte(i + 2);
        const dots = byte(i + 3) | (byte(i + 4) << 8);
        const length = dots * (mode >= 32 ? 3 : 1);
        if (!need(i + 5, length, 'ESC * image data')) break;
        commands.push({ type: 'column-image', offset: start, width: dots, mode });
        notes.push(`column image (ESC *) at offset ${start} is listed but not drawn into the image`);
        i += 5 + length;
      } else if (c === 0x44) {
        // ESC D: tab stops, ended by NUL
        let end = i + 2;
        while (end < n && byte(end) !== 0) end++;
        commands.push({ type: 'setting', offset: start, command: 'ESC D tab stops', params: Array.from(input.subarray(i + 2, end)) });
        i = end + 1;
      } else if (ESC_FIXED[c]) {
        const [name, count] = ESC_FIXED[c]!;
        if (!need(i, 2 + count, name)) break;
        commands.push({ type: 'setting', offset: start, command: name, params: Array.from(input.subarray(i + 2, i + 2 + count)) });
        i += 2 + count;
      } else {
        unknown(start, 2, `unknown command ESC 0x${hex(c)}`);
        i += 2;
      }
      continue;
    }

    if (b === GS) {
      if (!need(i, 2, 'GS command')) break;
      const c = byte(i + 1);
      if (c === 0x76) {
        if (!need(i, 8, 'GS v 0 header')) break;
        if (byte(i + 2) !== 0x30) {
          unknown(start, 3, `GS v with function 0x${hex(byte(i + 2))}`);
          i += 3;
          continue;
        }
        const mode = byte(i + 3);
        const widthBytes = byte(i + 4) | (byte(i + 5) << 8);
        const rows = byte(i + 6) | (byte(i + 7) << 8);
        const length = widthBytes * rows;
        if (!need(i + 8, length, 'GS v 0 image data')) break;
        if (mode !== 0 && mode !== 0x30) notes.push(`GS v 0 at offset ${start} uses scaling mode ${mode}; drawn at 1:1`);
        bands.push({ widthBytes, rows, data: input.subarray(i + 8, i + 8 + length) });
        commands.push({ type: 'raster', offset: start, width: widthBytes * 8, height: rows, mode });
        i += 8 + length;
      } else if (c === 0x56) {
        if (!need(i, 3, 'GS V')) break;
        const m = byte(i + 2);
        if (m === 0x41 || m === 0x42 || m === 0x61 || m === 0x62 || m === 0x67 || m === 0x68) {
          // Function B/C/D: feed n, then cut; one more byte
          if (!need(i, 4, 'GS V with feed')) break;
          commands.push({ type: 'cut', offset: start, partial: m % 2 === 0, feed: byte(i + 3) });
          i += 4;
        } else {
          commands.push({ type: 'cut', offset: start, partial: m === 0x01 || m === 0x31, feed: 0 });
          i += 3;
        }
        cut = true;
      } else if (c === 0x28) {
        // GS ( X pL pH ...: every extended function says its own length
        if (!need(i, 5, 'GS ( header')) break;
        const length = byte(i + 3) | (byte(i + 4) << 8);
        if (!need(i + 5, length, 'GS ( data')) break;
        commands.push({ type: 'setting', offset: start, command: `GS ( ${String.fromCharCode(byte(i + 2))}`, params: Array.from(input.subarray(i + 5, i + 5 + length)) });
        i += 5 + length;
      } else if (c === 0x6b) {
        i = skipBarcode(input, i, commands, notes);
      } else if (GS_FIXED[c]) {
        const [name, count] = GS_FIXED[c]!;
        if (!need(i, 2 + count, name)) break;
        commands.push({ type: 'setting', offset: start, command: name, params: Array.from(input.subarray(i + 2, i + 2 + count)) });
        i += 2 + count;
      } else {
        unknown(start, 2, `unknown command GS 0x${hex(c)}`);
        i += 2;
      }
      continue;
    }

    if (b === DLE) {
      if (!need(i, 3, 'DLE command')) break;
      const c = byte(i + 1);
      if (c === 0x04) {
        commands.push({ type: 'status-request', offset: start, n: byte(i + 2) });
        i += 3;
      } else if (c === 0x05) {
        commands.push({ type: 'setting', offset: start, command: 'DLE ENQ real-time request', params: [byte(i + 2)] });
        i += 3;
      } else if (c === 0x14) {
        // DLE DC4 fn ...: lengths by function
        const fn = byte(i + 2);
        const length = fn === 1 ? 5 : fn === 2 ? 5 : fn === 8 ? 10 : 3;
        if (!need(i, length, 'DLE DC4')) break;
        if (fn !== 1 && fn !== 2 && fn !== 8) notes.push(`DLE DC4 function ${fn} at offset ${start} has an unknown length; skipped 3 bytes`);
        commands.push({ type: 'setting', offset: start, command: `DLE DC4 ${fn}`, params: Array.from(input.subarray(i + 3, i + length)) });
        i += length;
      } else {
        unknown(start, 2, `unknown command DLE 0x${hex(c)}`);
        i += 2;
      }
      continue;
    }

    if (b === FS) {
      unknown(start, 2, `FS command 0x${hex(byte(i + 1))} (Kanji and NV commands are not decoded)`);
      i += 2;
      continue;
    }

    if (b === 0x0a) {
      commands.push({ type: 'line-feed', offset: start });
      i += 1;
      continue;
    }

    if (b >= 0x20 || b === 0x09 || b === 0x0d) {
      // Text bytes mean something only under a code page; latin1 shows them one to one.
      let end = i;
      while (end < n && (byte(end) >= 0x20 || byte(end) === 0x09 || byte(end) === 0x0d)) end++;
      commands.push({ type: 'text', offset: start, text: Buffer.from(input.subarray(i, end)).toString('latin1') });
      i = end;
      continue;
    }

    unknown(start, 1, `control byte 0x${hex(b)}`);
    i += 1;
  }

  return { commands, image: assemble(bands), cut, notes };
}

function skipBarcode(input: Uint8Array, i: number, commands: EscPosCommand[], notes: string[]): number {
  const m = input[i + 2] ?? 0;
  let end: number;
  if (m <= 6) {
    // Function A: data ends with NUL
    end = i + 3;
    while (end < input.length && input[end] !== 0) end++;
    end += 1;
  } else {
    end = i + 4 + (input[i + 3] ?? 0);
  }
  commands.push({ type: 'setting', offset: i, command: 'GS k barcode', params: [m] });
  notes.push(`barcode (GS k) at offset ${i} is listed but not drawn into the image`);
  return Math.min(end, input.length);
}

function assemble(bands: Band[]): MonoBitmap | null {
  if (bands.length === 0) return null;
  const widthBytes = Math.max(...bands.map((band) => band.widthBytes));
  const height = bands.reduce((sum, band) => sum + band.rows, 0);
  const width = widthBytes * 8;
  const bits = new Uint8Array(bytesPerRow(width) * height);
  let row = 0;
  for (const band of bands) {
    for (let r = 0; r < band.rows; r++) {
      bits.set(band.data.subarray(r * band.widthBytes, (r + 1) * band.widthBytes), (row + r) * widthBytes);
    }
    row += band.rows;
  }
  return { width, height, bits };
}

function hex(value: number): string {
  return value.toString(16).padStart(2, '0');
}
