import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

// A minimal XLSX reader for tests, independent of the writer's code paths: it walks the zip's
// central directory (as spreadsheet programs do), inflates each part, checks its CRC and size,
// and reads worksheets' cells (inline strings, shared strings, numbers, booleans).

export interface ZipPart {
  name: string;
  data: Buffer;
  /** its size in the archive */
  compressed: number;
}

export function unzip(file: Buffer): ZipPart[] {
  const eocd = file.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = file.readUInt16LE(eocd + 10);
  const size = file.readUInt32LE(eocd + 12);
  let at = file.readUInt32LE(eocd + 16);
  if (at + size !== eocd) throw new Error(`central directory at ${at} + ${size} does not end at ${eocd}`);
  const parts: ZipPart[] = [];
  for (let i = 0; i < count; i++) {
    if (file.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central header ${i}`);
    const method = file.readUInt16LE(at + 10);
    const crc = file.readUInt32LE(at + 16);
    const compressed = file.readUInt32LE(at + 20);
    const length = file.readUInt32LE(at + 24);
    const nameLength = file.readUInt16LE(at + 28);
    const extra = file.readUInt16LE(at + 30);
    const comment = file.readUInt16LE(at + 32);
    const offset = file.readUInt32LE(at + 42);
    const name = file.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extra + comment;

    if (file.readUInt32LE(offset) !== 0x04034b50) throw new Error(`bad local header of ${name}`);
    const localName = file.readUInt16LE(offset + 26);
    const localExtra = file.readUInt16LE(offset + 28);
    if (file.subarray(offset + 30, offset + 30 + localName).toString('utf8') !== name) throw new Error(`names differ for ${name}`);
    const start = offset + 30 + localName + localExtra;
    const raw = file.subarray(start, start + compressed);
    const data = method === 8 ? zlib.inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : null;
    if (!data) throw new Error(`unsupported method ${method} in ${name}`);
    if (data.length !== length) throw new Error(`${name}: ${data.length} bytes, directory says ${length}`);
    if ((zlib.crc32(data) >>> 0) !== crc) throw new Error(`${name}: CRC mismatch`);
    // the data descriptor after the data repeats crc and sizes
    if (file.readUInt16LE(offset + 6) & 0x08) {
      const d = start + compressed;
      if (file.readUInt32LE(d) !== 0x08074b50 || file.readUInt32LE(d + 4) !== crc || file.readUInt32LE(d + 8) !== compressed || file.readUInt32LE(d + 12) !== length) {
        throw new Error(`${name}: data descriptor disagrees`);
      }
    }
    parts.push({ name, data, compressed });
  }
  return parts;
}

const decode = (text: string) => text
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
  .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');

export interface Workbook {
  sheets: { name: string; rows: (string | number | boolean | null)[][]; styles: (number | null)[][] }[];
  parts: string[];
}

/** Reads every worksheet in workbook order: rows of cell values (null where a cell is missing). */
export function readXlsx(file: Buffer): Workbook {
  const parts = new Map(unzip(file).map((p) => [p.name, p.data.toString('utf8')]));
  const need = (name: string) => {
    const text = parts.get(name);
    if (text === undefined) throw new Error(`missing part ${name}`);
    return text;
  };
  const types = need('[Content_Types].xml');
  if (!types.includes('spreadsheetml.sheet.main+xml')) throw new Error('no workbook content type');
  if (!need('_rels/.rels').includes('Target="xl/workbook.xml"')) throw new Error('no office document relationship');
  const rels = new Map([...need('xl/_rels/workbook.xml.rels').matchAll(/<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
  const shared = parts.has('xl/sharedStrings.xml')
    ? [...parts.get('xl/sharedStrings.xml')!.matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => decode([...m[1]!.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')))
    : [];
  const sheets = [...need('xl/workbook.xml').matchAll(/<sheet [^>]*name="([^"]*)"[^>]*r:id="([^"]+)"/g)].map((m) => {
    const target = rels.get(m[2]!);
    if (!target) throw new Error(`no relationship ${m[2]}`);
    const xml = need(`xl/${target}`);
    const rows: (string | number | boolean | null)[][] = [];
    const styles: (number | null)[][] = [];
    for (const row of xml.matchAll(/<row\b([^>]*)>([\s\S]*?)<\/row>/g)) {
      const r = Number(/\br="(\d+)"/.exec(row[1]!)?.[1] ?? rows.length + 1);
      const values: (string | number | boolean | null)[] = [];
      const style: (number | null)[] = [];
      for (const c of row[2]!.matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const attrs = c[1]!;
        const ref = /\br="([A-Z]+)\d+"/.exec(attrs)?.[1];
        const col = ref ? [...ref].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1 : values.length;
        const t = /\bt="([^"]+)"/.exec(attrs)?.[1];
        const s = /\bs="(\d+)"/.exec(attrs)?.[1];
        const body = c[2] ?? '';
        const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
        let value: string | number | boolean | null = null;
        if (t === 'inlineStr') value = decode([...body.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((x) => x[1]).join(''));
        else if (t === 's') value = shared[Number(v)] ?? null;
        else if (t === 'b') value = v === '1';
        else if (t === 'str') value = v === undefined ? null : decode(v);
        else if (v !== undefined) value = Number(v);
        while (values.length < col) { values.push(null); style.push(null); }
        values[col] = value;
        style[col] = s === undefined ? null : Number(s);
      }
      while (rows.length < r - 1) { rows.push([]); styles.push([]); }
      rows[r - 1] = values;
      styles[r - 1] = style;
    }
    return { name: decode(m[1]!), rows, styles };
  });
  return { sheets, parts: [...parts.keys()] };
}

/** An Excel serial date as the wall-clock 'yyyy-MM-dd HH:mm:ss.SSS' it stands for. */
export function fromExcelDate(serial: number): string {
  return new Date(Math.round((serial - 25569) * 86_400_000)).toISOString().replace('T', ' ').slice(0, 23);
}

// ---- CSV, and LibreOffice as a second opinion -----------------------------------------------

/** LibreOffice, when installed (Debian: libreoffice-calc-nogui); tests that need it are skipped otherwise. */
export const SOFFICE = ['/usr/bin/soffice', '/usr/bin/libreoffice'].find((p) => existsSync(p));

/** RFC 4180 records (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field); records.push(record); record = []; field = '';
    } else field += c;
  }
  if (field || record.length) { record.push(field); records.push(record); }
  return records;
}

/** LibreOffice's reading of the first sheet, as CSV text (UTF-8). */
export function libreOfficeCsv(file: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qms-xlsx-'));
  try {
    writeFileSync(path.join(dir, 'book.xlsx'), file);
    execFileSync(SOFFICE!, ['--headless', `-env:UserInstallation=file://${dir}/profile`, '--convert-to', 'csv:Text - txt - csv (StarCalc):44,34,76,1', '--outdir', dir, path.join(dir, 'book.xlsx')], { stdio: 'pipe', timeout: 120_000 });
    return readFileSync(path.join(dir, 'book.csv'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

