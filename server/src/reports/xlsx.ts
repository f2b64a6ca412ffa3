import zlib from 'node:zlib';

// A streaming XLSX writer: no library, nothing held in memory but the row being written.
//
// An XLSX file is a zip of a few XML parts. Rows go straight into a deflate stream as they
// arrive, and the compressed bytes leave as soon as zlib produces them. Zip needs each part's
// CRC and sizes, unknown until its end, so every entry is written with a data descriptor
// after its data (general-purpose flag bit 3) and the central directory comes last, as the
// format allows. Strings are written inline (`t="inlineStr"`), not in a shared-strings table,
// which would have to hold every distinct string until the end.
//
// The worksheets come first in the archive, before the workbook that lists them: a client
// reading the download as it arrives finds rows right after the first local header (the
// manager console counts them for its progress bar), and the workbook can name sheets that
// only exist because the rows overflowed one (Excel stops at 1,048,576 rows per sheet).
//
// Limits: no ZIP64, so the archive must stay under 4 GiB (a sheet of a million ticket rows
// deflates to about 40 MB).

export type XlsxValue = string | number | boolean | null | undefined;
/** A cell written its own way rather than its column's (a sheet of indicators mixes counts and shares). */
export interface XlsxCell {
  value: XlsxValue;
  type: XlsxType;
}

/** How a column's values are written. `datetime` takes ISO-8601 strings and keeps their local wall time. */
export type XlsxType = 'text' | 'integer' | 'number' | 'seconds' | 'percent' | 'datetime' | 'date' | 'wrap';

export interface XlsxColumn {
  header: string;
  type?: XlsxType;
  /** width in characters */
  width?: number;
}

export interface XlsxSheet {
  name: string;
  columns: XlsxColumn[];
  rows: AsyncIterable<(XlsxValue | XlsxCell)[]> | Iterable<(XlsxValue | XlsxCell)[]>;
}

export interface XlsxOptions {
  /** data rows per worksheet before continuing on "name (2)"; default 1,000,000 */
  maxRowsPerSheet?: number;
  /** called after every data row written (for progress and tests) */
  onRow?: () => void;
  /** timestamp of the zip entries (the exports pass their clock's, so one workbook is the same bytes wherever it is written); default now */
  date?: Date;
}

// ---- styles: cellXfs indexes ------------------------------------------------------------
/** `wrap`: text wrapped within its column, top-aligned (a sentence of definitions) */
const STYLE: Record<XlsxType | 'header', number> = { header: 1, datetime: 2, integer: 3, number: 4, seconds: 4, percent: 5, date: 6, text: 0, wrap: 7 };
const STYLES_XML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="4"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm:ss"/><numFmt numFmtId="165" formatCode="#,##0.0"/><numFmt numFmtId="166" formatCode="0.0%"/><numFmt numFmtId="167" formatCode="dd/mm/yyyy"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="8">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>`;

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** XML text: escaped, and without the control characters XML 1.0 forbids. */
export function xmlText(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Column letters: 0 → A, 25 → Z, 26 → AA. */
export function columnName(index: number): string {
  let n = index + 1;
  let name = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    name = String.fromCharCode(65 + r) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

const EXCEL_EPOCH_DAYS = 25569; // 1970-01-01 as an Excel serial date

/**
 * An ISO-8601 instant as an Excel serial date of its own wall-clock time
 * ('2026-11-24T08:00:00.000+07:00' → 24/11/2026 08:00 whatever the viewer's timezone).
 */
export function excelDate(iso: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?/.exec(iso);
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), +((m[7] ?? '0').padEnd(3, '0')));
  return ms / 86_400_000 + EXCEL_EPOCH_DAYS;
}

function cell(ref: string, value: XlsxValue, type: XlsxType): string {
  if (value === null || value === undefined || value === '') return '';
  if (type !== 'text' && type !== 'wrap' && type !== 'datetime' && type !== 'date') {
    const n = typeof value === 'number' ? value : Number(value);
    if (Number.isFinite(n)) return `<c r="${ref}" s="${STYLE[type]}"><v>${n}</v></c>`;
  }
  if ((type === 'datetime' || type === 'date') && typeof value === 'string') {
    const serial = excelDate(value);
    if (serial !== null) return `<c r="${ref}" s="${STYLE[type]}"><v>${serial}</v></c>`;
  }
  if (typeof value === 'boolean') return `<c r="${ref}" t="b"><v>${value ? 1 : 0}</v></c>`;
  const text = xmlText(String(value));
  const space = /^\s|\s$/.test(text) ? ' xml:space="preserve"' : '';
  return `<c r="${ref}" t="inlineStr"${type === 'wrap' ? ` s="${STYLE.wrap}"` : ''}><is><t${space}>${text}</t></is></c>`;
}

function sheetHead(columns: XlsxColumn[]): string {
  const cols = columns.map((c, i) => `<col min="${i + 1}" max="${i + 1}" width="${c.width ?? Math.max(10, Math.min(60, c.header.length + 2))}" customWidth="1"/>`).join('');
  const header = columns.map((c, i) => {
    const ref = `${columnName(i)}1`;
    return `<c r="${ref}" t="inlineStr" s="${STYLE.header}"><is><t>${xmlText(c.header)}</t></is></c>`;
  }).join('');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">`
    + '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    + `<cols>${cols}</cols><sheetData><row r="1">${header}</row>`;
}

const SHEET_TAIL = '</sheetData></worksheet>';

/** Sheet names: at most 31 characters, none of []:*?/\, unique. */
function sheetName(name: string, taken: Set<string>): string {
  const base = (name.replace(/[[\]:*?/\\]/g, ' ').trim() || 'Sheet').slice(0, 31).trim();
  let candidate = base;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) candidate = `${base.slice(0, 31 - String(i).length - 3)} (${i})`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

// ---- zip -----------------------------------------------------------------------------------

function dosTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((Math.max(1980, date.getFullYear()) - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

interface EntryRecord {
  name: Buffer;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

const FLAGS = 0x0808; // bit 3: sizes in a data descriptor; bit 11: UTF-8 names
const LIMIT = 0xffffffff;

/** Writes zip entries one after another as byte chunks (yield them in order). */
class ZipStream {
  private offset = 0;
  private readonly entries: EntryRecord[] = [];
  private readonly stamp: { time: number; date: number };

  constructor(date: Date) {
    this.stamp = dosTime(date);
  }

  /** Local header of an entry about to be written. */
  begin(name: string): { header: Buffer; entry: Entry } {
    const nameBytes = Buffer.from(name, 'utf8');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt16LE(this.stamp.time, 10);
    header.writeUInt16LE(this.stamp.date, 12);
    // crc and sizes (14..25) are zero: they follow the data
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(0, 28);
    const record: EntryRecord = { name: nameBytes, crc: 0, compressed: 0, size: 0, offset: this.offset };
    this.entries.push(record);
    this.advance(header.length + nameBytes.length);
    return { header: Buffer.concat([header, nameBytes]), entry: new Entry(record, (n) => this.advance(n)) };
  }

  /** Data descriptor of the entry just finished. */
  descriptor(record: EntryRecord): Buffer {
    if (record.size > LIMIT || record.compressed > LIMIT) throw new Error('XLSX part larger than 4 GiB (no ZIP64 support)');
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0x08074b50, 0);
    b.writeUInt32LE(record.crc >>> 0, 4);
    b.writeUInt32LE(record.compressed, 8);
    b.writeUInt32LE(record.size, 12);
    this.advance(b.length);
    return b;
  }

  /** Central directory and its end record. */
  finish(): Buffer {
    const start = this.offset;
    const parts: Buffer[] = [];
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(20, 4); // made by: 2.0, MS-DOS attributes
      h.writeUInt16LE(20, 6);
      h.writeUInt16LE(FLAGS, 8);
      h.writeUInt16LE(8, 10);
      h.writeUInt16LE(this.stamp.time, 12);
      h.writeUInt16LE(this.stamp.date, 14);
      h.writeUInt32LE(e.crc >>> 0, 16);
      h.writeUInt32LE(e.compressed, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      // extra, comment, disk, internal attributes: 0
      h.writeUInt32LE(0, 38);
      h.writeUInt32LE(e.offset, 42);
      parts.push(h, e.name);
    }
    const directory = Buffer.concat(parts);
    if (start > LIMIT || start + directory.length > LIMIT) throw new Error('XLSX larger than 4 GiB (no ZIP64 support)');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(start, 16);
    this.advance(directory.length + end.length);
    return Buffer.concat([directory, end]);
  }

  private advance(n: number) {
    this.offset += n;
  }
}

/** Uncompressed bytes handed to deflate at a time. */
const SEGMENT_BYTES = 65_536;
/** Deflate's window: what a segment may refer back to in the ones before it. */
const WINDOW_BYTES = 32_768;

/**
 * One entry's deflate stream: text in, compressed chunks out a segment (~64 KiB of text) at a
 * time. Each segment is deflated synchronously, on the thread that writes the workbook (the
 * report thread, at its low priority), never on the process's shared thread pool: libuv's
 * threads run at the event loop's priority and took about 20 ms a second of a core the calls
 * needed while five managers pulled workbooks (docs/performance.md, h, "Sessions"). The segments make one deflate
 * stream: each but the last ends on a sync flush (a byte boundary, no final block) and is
 * compressed with the 32 KiB before it as its dictionary, so it can refer back into them as a
 * single stream would; the last one is finished.
 */
class Entry {
  private out: Buffer[] = [];
  private pending: string[] = [];
  private pendingBytes = 0;
  private window: Buffer | undefined;

  constructor(readonly record: EntryRecord, private readonly advance: (n: number) => void) {}

  /** Buffers text; deflates ~64 KiB at a time (one call per row would be slow). */
  write(text: string): void {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= SEGMENT_BYTES) this.deflatePending(false);
  }

  /** Compressed bytes produced so far (taken: the caller yields them). */
  take(): Buffer[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  end(): void {
    this.deflatePending(true);
  }

  private deflatePending(last: boolean): void {
    if (!this.pending.length && !last) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.record.crc = zlib.crc32(bytes, this.record.crc);
    this.record.size += bytes.length;
    const chunk = zlib.deflateRawSync(bytes, {
      level: 6,
      ...(this.window ? { dictionary: this.window } : {}),
      ...(last ? {} : { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
    });
    this.window = Buffer.concat([this.window ?? Buffer.alloc(0), bytes]).subarray(-WINDOW_BYTES);
    this.out.push(chunk);
    this.record.compressed += chunk.length;
    this.advance(chunk.length);
  }
}

/**
 * The workbook as a stream of byte chunks. Rows are pulled from each sheet's iterable only as
 * fast as the consumer takes the bytes, so a slow download holds back the database reads.
 */
export async function* writeXlsx(sheets: XlsxSheet[], options: XlsxOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const maxRows = Math.max(1, options.maxRowsPerSheet ?? 1_000_000);
  const zip = new ZipStream(options.date ?? new Date());
  const names: string[] = [];
  const taken = new Set<string>();

  for (const sheet of sheets) {
    let part = 0;
    let entry: Entry | null = null;
    let rowNumber = 0;
    const open = async function* (): AsyncGenerator<Buffer> {
      part++;
      names.push(sheetName(part === 1 ? sheet.name : `${sheet.name} (${part})`, taken));
      const begun = zip.begin(`xl/worksheets/sheet${names.length}.xml`);
      entry = begun.entry;
      rowNumber = 1;
      yield begun.header;
      entry.write(sheetHead(sheet.columns));
    };
    const close = async function* (): AsyncGenerator<Buffer> {
      const e = entry!;
      e.write(SHEET_TAIL);
      e.end();
      yield* e.take();
      yield zip.descriptor(e.record);
      entry = null;
    };

    yield* open();
    for await (const values of sheet.rows) {
      if (rowNumber > maxRows) {
        yield* close();
        yield* open();
      }
      rowNumber++;
      let xml = `<row r="${rowNumber}">`;
      for (let i = 0; i < sheet.columns.length; i++) {
        const v = values[i];
        xml += v !== null && typeof v === 'object'
          ? cell(`${columnName(i)}${rowNumber}`, v.value, v.type)
          : cell(`${columnName(i)}${rowNumber}`, v, sheet.columns[i]!.type ?? 'text');
      }
      entry!.write(`${xml}</row>`);
      options.onRow?.();
      const ready = entry!.take();
      if (ready.length) yield Buffer.concat(ready);
    }
    yield* close();
  }

  const fixed: [string, string][] = [
    ['[Content_Types].xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`
      + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      + '<Default Extension="xml" ContentType="application/xml"/>'
      + '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
      + names.map((_, i) => `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('')
      + '</Types>'],
    ['_rels/.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
      + `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
    ['xl/workbook.xml', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="${NS}" xmlns:r="${REL_NS}"><sheets>`
      + names.map((n, i) => `<sheet name="${xmlText(n)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')
      + '</sheets></workbook>'],
    ['xl/_rels/workbook.xml.rels', `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
      + names.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL_NS}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join('')
      + `<Relationship Id="rId${names.length + 1}" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`],
    ['xl/styles.xml', STYLES_XML],
  ];
  for (const [name, xml] of fixed) {
    const { header, entry } = zip.begin(name);
    yield header;
    entry.write(xml);
    entry.end();
    yield* entry.take();
    yield zip.descriptor(entry.record);
  }
  yield zip.finish();
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
