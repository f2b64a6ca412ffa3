import { GlobalFonts, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import QRCode from 'qrcode';
import { bitmapFromRgba, bitmapToPng, type MonoBitmap } from '../raster/raster.bitmap.ts';
import { ticketFont } from './ticket.fonts.ts';
import { ticketTexts, type TicketPrintData } from './ticket.text.ts';

export type { TicketPrintData } from './ticket.text.ts';

export type RenderTicketOptions = {
  /** printable width in dots: 576 for 80 mm paper (default), 384 for 58 mm; a multiple of 8 */
  widthDots?: number;
};

export type TicketRaster = MonoBitmap & {
  /** the same 1-bit image as a PNG, for previews and reference files */
  png(): Buffer;
};

export const WIDTH_80MM = 576;
export const WIDTH_58MM = 384;

// Our own family names, so a system font called "DejaVu Sans" (another version, or none at
// all on a kiosk) can never be picked instead of the file we ship.
const REGULAR = 'QmsTicketSans';
const BOLD = 'QmsTicketSansBold';

function registerFonts(): void {
  for (const [file, family] of [['DejaVuSans.ttf', REGULAR], ['DejaVuSans-Bold.ttf', BOLD]] as const) {
    if (GlobalFonts.has(family)) continue;
    const key = GlobalFonts.register(ticketFont(file), family);
    if (!key) throw new Error(`cannot load ticket font hardware/fonts/${file}`);
  }
}
registerFonts();

// One context only for measuring text; it holds no ticket data between calls.
const measureCtx = createCanvas(8, 8).getContext('2d');
const graphemes = new Intl.Segmenter('vi', { granularity: 'grapheme' });

type Run = { text: string; bold?: boolean };
type Token = { text: string; font: string; width: number; space: number; ascent: number; descent: number };
type Line = { tokens: Token[]; width: number; ascent: number; descent: number };

type Op =
  | { kind: 'text'; text: string; font: string; x: number; y: number; colour: string }
  | { kind: 'rect'; x: number; y: number; w: number; h: number; colour: string };

function font(size: number, bold = false): string {
  return `${Math.round(size)}px ${bold ? BOLD : REGULAR}`;
}

function measure(text: string, fontSpec: string): { width: number; ascent: number; descent: number } {
  measureCtx.font = fontSpec;
  const m = measureCtx.measureText(text);
  // The actual box matters: capitals with stacked Vietnamese marks (Ễ, Ẫ) rise above the
  // font's nominal ascent, and a line placed by the nominal one would clip them.
  return {
    width: m.width,
    ascent: Math.ceil(Math.max(m.actualBoundingBoxAscent, m.fontBoundingBoxAscent)),
    descent: Math.ceil(Math.max(m.actualBoundingBoxDescent, m.fontBoundingBoxDescent)),
  };
}

function tokenize(runs: Run[], size: number): Array<Token & { spaceBefore: boolean }> {
  const tokens: Array<Token & { spaceBefore: boolean }> = [];
  let pendingSpace = false;
  for (const run of runs) {
    const f = font(size, run.bold);
    const parts = run.text.split(' ');
    parts.forEach((part, i) => {
      if (i > 0) pendingSpace = true;
      if (part === '') return;
      const m = measure(part, f);
      tokens.push({ text: part, font: f, width: m.width, space: measure(' ', f).width, ascent: m.ascent, descent: m.descent, spaceBefore: pendingSpace });
      pendingSpace = false;
    });
  }
  return tokens;
}

/** Breaks a word that alone is wider than the line, between graphemes so marks stay on their letter. */
function splitWide(token: Token & { spaceBefore: boolean }, maxWidth: number): Array<Token & { spaceBefore: boolean }> {
  const pieces: Array<Token & { spaceBefore: boolean }> = [];
  let current = '';
  for (const { segment } of graphemes.segment(token.text)) {
    const candidate = current + segment;
    if (current !== '' && measure(candidate, token.font).width > maxWidth) {
      pieces.push({ ...token, ...measure(current, token.font), text: current, spaceBefore: pieces.length === 0 && token.spaceBefore });
      current = segment;
    } else {
      current = candidate;
    }
  }
  if (current !== '') pieces.push({ ...token, ...measure(current, token.font), text: current, spaceBefore: pieces.length === 0 && token.spaceBefore });
  return pieces;
}

/** Greedy word wrap: names are never cut, they take as many lines as they need. */
function wrap(runs: Run[], size: number, maxWidth: number): Line[] {
  const lines: Line[] = [];
  let line: Line = { tokens: [], width: 0, ascent: 0, descent: 0 };
  const pushLine = () => {
    if (line.tokens.length > 0) lines.push(line);
    line = { tokens: [], width: 0, ascent: 0, descent: 0 };
  };
  const place = (token: Token, gap: number) => {
    line.tokens.push({ ...token, space: gap });
    line.width += gap + token.width;
    line.ascent = Math.max(line.ascent, token.ascent);
    line.descent = Math.max(line.descent, token.descent);
  };
  for (const word of tokenize(runs, size)) {
    const pieces = word.width > maxWidth ? splitWide(word, maxWidth) : [word];
    for (const token of pieces) {
      const gap = line.tokens.length > 0 && token.spaceBefore ? token.space : 0;
      if (line.tokens.length > 0 && line.width + gap + token.width > maxWidth) {
        pushLine();
        place(token, 0);
      } else {
        place(token, gap);
      }
    }
  }
  pushLine();
  return lines;
}

type Layout = { ops: Op[]; height: number };

class LayoutBuilder {
  readonly ops: Op[] = [];
  y = 0;
  constructor(
    readonly width: number,
    readonly margin: number,
  ) {}

  get content(): number {
    return this.width - 2 * this.margin;
  }

  gap(dots: number): void {
    this.y += Math.round(dots);
  }

  rule(thickness: number): void {
    this.ops.push({ kind: 'rect', x: this.margin, y: this.y, w: this.content, h: thickness, colour: '#000' });
    this.y += thickness;
  }

  paragraph(runs: Run[], size: number, opts: { leading?: number; colour?: string; inset?: number } = {}): void {
    const inset = opts.inset ?? 0;
    const maxWidth = this.content - 2 * inset;
    const lines = wrap(runs, size, maxWidth);
    const advance = Math.round(size * (opts.leading ?? 1.22));
    let previousDescent: number | null = null;
    for (const line of lines) {
      // Baselines step evenly, unless marks above this line would touch the one before.
      const baseline: number = previousDescent === null ? this.y + line.ascent : Math.max(this.y + advance - previousDescent, this.y + line.ascent + 2);
      let x = Math.round(this.margin + inset + (maxWidth - line.width) / 2);
      for (const token of line.tokens) {
        x += token.space;
        this.ops.push({ kind: 'text', text: token.text, font: token.font, x, y: baseline, colour: opts.colour ?? '#000' });
        x += token.width;
      }
      this.y = baseline + line.descent;
      previousDescent = line.descent;
    }
  }

  /** The ticket code, as large as the paper allows. */
  code(text: string, maxSize: number): void {
    const probe = measure(text, font(100, true));
    // 92 % of the line: a code that touches the margins looks cut off even when it is not.
    const size = Math.max(24, Math.min(maxSize, Math.floor((92 * this.content) / Math.max(1, probe.width))));
    measureCtx.font = font(size, true);
    const m = measureCtx.measureText(text);
    // Digits and capital letters: the ink box, not the font's, so the space around is even.
    const ascent = Math.ceil(m.actualBoundingBoxAscent);
    const x = Math.round(this.margin + (this.content - m.width) / 2);
    this.ops.push({ kind: 'text', text, font: font(size, true), x, y: this.y + ascent, colour: '#000' });
    this.y += ascent + Math.ceil(m.actualBoundingBoxDescent);
  }

  /** White text in a black band: the one thing staff must notice at a glance. */
  inverse(text: string, size: number, padding: number): void {
    const top = this.y;
    const index = this.ops.length;
    this.y += padding;
    this.paragraph([{ text, bold: true }], size, { colour: '#fff', inset: padding });
    this.y += padding;
    this.ops.splice(index, 0, { kind: 'rect', x: this.margin, y: top, w: this.content, h: this.y - top, colour: '#000' });
  }

  qr(url: string, targetSize: number): void {
    const qr = QRCode.create(url, { errorCorrectionLevel: 'M' });
    const modules = qr.modules.size;
    const quiet = 4; // the quiet zone the QR standard asks for, in modules
    const total = modules + 2 * quiet;
    let moduleDots = Math.floor(Math.min(targetSize, this.content) / total);
    if (moduleDots < 3) moduleDots = Math.floor(this.content / total);
    if (moduleDots < 2) throw new RangeError(`URL too long for a QR code on this paper: ${url.length} characters`);
    const side = total * moduleDots;
    const left = Math.round((this.width - side) / 2) + quiet * moduleDots;
    const top = this.y + quiet * moduleDots;
    for (let row = 0; row < modules; row++) {
      // One rectangle per horizontal run of dark modules: fewer draw calls, same pixels.
      let col = 0;
      while (col < modules) {
        if (!qr.modules.get(row, col)) {
          col++;
          continue;
        }
        const start = col;
        while (col < modules && qr.modules.get(row, col)) col++;
        this.ops.push({ kind: 'rect', x: left + start * moduleDots, y: top + row * moduleDots, w: (col - start) * moduleDots, h: moduleDots, colour: '#000' });
      }
    }
    this.y += side;
  }
}

function layoutTicket(data: TicketPrintData, width: number): Layout {
  const t = ticketTexts(data);
  // Sizes are set for 80 mm paper; narrower paper shrinks them less than its width so that
  // text stays readable at 58 mm, where lines simply wrap sooner.
  const s = Math.max(0.8, width / WIDTH_80MM);
  const b = new LayoutBuilder(width, Math.round(width * 0.04));

  b.gap(12 * s);
  b.paragraph([{ text: t.centreName, bold: true }], 24 * s);
  b.gap(12 * s);
  b.rule(2);
  b.gap(16 * s);
  b.paragraph([{ text: t.serviceName, bold: true }], 30 * s);
  if (t.procedure) {
    b.gap(8 * s);
    b.paragraph([{ text: t.procedure }], 22 * s);
  }
  b.gap(22 * s);
  b.paragraph([{ text: t.numberLabel }], 28 * s);
  b.gap(14 * s);
  b.code(t.code, 200 * s);
  b.gap(20 * s);
  if (t.booking) {
    b.inverse(t.booking, 28 * s, Math.round(8 * s));
    b.gap(18 * s);
  }
  if (t.priority) {
    b.inverse(t.priority, 26 * s, Math.round(8 * s));
    b.gap(18 * s);
  }
  b.paragraph([{ text: t.peopleAheadLabel }, { text: ' ' + t.peopleAhead, bold: true }], 24 * s);
  b.gap(8 * s);
  b.paragraph([{ text: t.waitLabel }, { text: ' ' + t.wait, bold: true }], 24 * s);
  b.gap(8 * s);
  b.paragraph([{ text: t.issuedLabel }, { text: ' ' + t.issuedAt, bold: true }], 24 * s);
  b.gap(16 * s);
  b.rule(2);
  b.gap(4 * s); // the QR code brings its own white quiet zone
  b.qr(data.url, 270 * s);
  b.gap(2 * s);
  // 18 dots (2.2 mm) is the smallest text that stays legible once thresholded to 1 bit
  b.paragraph([{ text: t.qrCaption }], Math.max(18, 22 * s));
  b.gap(14 * s);
  b.paragraph([{ text: t.english }], Math.max(18, 20 * s), { leading: 1.25 });
  b.gap(20 * s);
  return { ops: b.ops, height: b.y };
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width % 8 !== 0 || width < 192 || width > 2048) {
    throw new RangeError(`widthDots must be a multiple of 8 between 192 and 2048, got ${width}`);
  }
}

function draw(ctx: SKRSContext2D, ops: Op[]): void {
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  for (const op of ops) {
    ctx.fillStyle = op.colour;
    if (op.kind === 'rect') {
      ctx.fillRect(op.x, op.y, op.w, op.h);
    } else {
      ctx.font = op.font;
      ctx.fillText(op.text, op.x, op.y);
    }
  }
}

/**
 * Draws a ticket as one 1-bit raster the width of the print head. Everything is an image,
 * including the text, because code pages cannot print Vietnamese reliably
 * (docs/decisions/0001-printing-as-image.md).
 */
export async function renderTicket(data: TicketPrintData, options: RenderTicketOptions = {}): Promise<TicketRaster> {
  const width = options.widthDots ?? WIDTH_80MM;
  checkWidth(width);
  const layout = layoutTicket(data, width);
  const canvas = createCanvas(width, layout.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, layout.height);
  draw(ctx, layout.ops);
  const rgba = ctx.getImageData(0, 0, width, layout.height).data;
  const bitmap = bitmapFromRgba(rgba, width, layout.height);
  return { ...bitmap, png: () => bitmapToPng(bitmap) };
}
