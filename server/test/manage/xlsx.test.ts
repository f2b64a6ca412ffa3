import { spawnSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { columnName, excelDate, writeXlsx, type XlsxSheet } from '../../src/reports/xlsx.ts';
import { fromExcelDate, libreOfficeCsv, parseCsv, readXlsx, SOFFICE, unzip } from './xlsx-reader.ts';

// The streaming XLSX writer, read back by an independent minimal reader (central directory,
// CRC, data descriptors, cells), and by LibreOffice when it is installed.

async function bytes(sheets: XlsxSheet[], options: Parameters<typeof writeXlsx>[1] = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of writeXlsx(sheets, options)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('writeXlsx', () => {
  it('writes text, numbers, dates and percentages that read back exactly', async () => {
    const rows = [
      ['A001', 'Tư pháp – Hộ tịch', 12, 61.25, 0.875, '2026-11-24T08:00:00.250+07:00', '2026-11-24'],
      ['B002', 'Chứng thực, "bản sao" <giấy tờ> & dấu', 0, null, 1, null, null],
      ['  spaced  ', 'control\u0001chars\u0007gone\ttab', -3, 1e-3, 0, '2026-12-31T23:59:59.999+07:00', '2027-01-01'],
    ];
    const file = await bytes([{
      name: 'Phiếu',
      columns: [
        { header: 'Số' }, { header: 'Lĩnh vực' }, { header: 'Số lượng', type: 'integer' }, { header: 'Giây', type: 'seconds' },
        { header: 'Tỷ lệ', type: 'percent' }, { header: 'Lúc', type: 'datetime' }, { header: 'Ngày', type: 'date' },
      ],
      rows,
    }]);
    const book = readXlsx(file);
    expect(book.sheets.map((s) => s.name)).toEqual(['Phiếu']);
    const sheet = book.sheets[0]!;
    expect(sheet.rows[0]).toEqual(['Số', 'Lĩnh vực', 'Số lượng', 'Giây', 'Tỷ lệ', 'Lúc', 'Ngày']);
    expect(sheet.rows[1]!.slice(0, 5)).toEqual(['A001', 'Tư pháp – Hộ tịch', 12, 61.25, 0.875]);
    expect(fromExcelDate(sheet.rows[1]![5] as number)).toBe('2026-11-24 08:00:00.250');
    expect(fromExcelDate(sheet.rows[1]![6] as number)).toBe('2026-11-24 00:00:00.000');
    expect(sheet.rows[2]!.slice(0, 5)).toEqual(['B002', 'Chứng thực, "bản sao" <giấy tờ> & dấu', 0, null, 1]);
    expect(sheet.rows[3]!.slice(0, 2)).toEqual(['  spaced  ', 'controlcharsgone\ttab']);
    expect(fromExcelDate(sheet.rows[3]![5] as number)).toBe('2026-12-31 23:59:59.999');
    // header bold, then the styles of the types
    expect(sheet.styles[0]).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(sheet.styles[1]).toEqual([null, null, 3, 4, 5, 2, 6]);
    // the worksheet is the first part of the archive: a download's rows follow its first header
    expect(unzip(file)[0]!.name).toBe('xl/worksheets/sheet1.xml');
  });

  it('continues on a new sheet past the row limit, and names sheets as Excel allows', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => [`T${i}`, i]);
    const file = await bytes([
      { name: 'Phiếu', columns: [{ header: 'code' }, { header: 'n', type: 'integer' }], rows },
      { name: 'Tên/dài:quá*mức?[cho]một trang tính Excel', columns: [{ header: 'x' }], rows: [['y']] },
    ], { maxRowsPerSheet: 10 });
    const book = readXlsx(file);
    expect(book.sheets.map((s) => s.name)).toEqual(['Phiếu', 'Phiếu (2)', 'Phiếu (3)', 'Tên dài quá mức  cho một trang']);
    expect(book.sheets.map((s) => s.rows.length)).toEqual([11, 11, 6, 2]);
    expect(book.sheets.flatMap((s) => s.rows.slice(1)).slice(0, 25).map((r) => r[0])).toEqual(rows.map((r) => r[0]));
    expect(book.sheets[2]!.rows[0]).toEqual(['code', 'n']);
  });

  it('streams: bytes leave before the last row is produced', async () => {
    let produced = 0;
    let firstChunkAt = -1;
    async function* rows() {
      for (let i = 0; i < 20_000; i++) {
        produced++;
        yield [`A${String(i).padStart(5, '0')}`, 'Đăng ký khai sinh', i, '2026-11-24T08:00:00.000+07:00'];
      }
    }
    const chunks: Buffer[] = [];
    for await (const chunk of writeXlsx([{ name: 's', columns: [{ header: 'a' }, { header: 'b' }, { header: 'c', type: 'integer' }, { header: 'd', type: 'datetime' }], rows: rows() }])) {
      if (firstChunkAt < 0 && chunk.length > 100) firstChunkAt = produced;
      chunks.push(chunk);
    }
    expect(firstChunkAt).toBeGreaterThan(0);
    expect(firstChunkAt).toBeLessThan(20_000);
    const book = readXlsx(Buffer.concat(chunks));
    expect(book.sheets[0]!.rows).toHaveLength(20_001);
    expect(book.sheets[0]!.rows[20_000]).toEqual(['A19999', 'Đăng ký khai sinh', 19_999, excelDate('2026-11-24T08:00:00.000+07:00')]);
  });

  it('deflates on its own thread: a workbook is written while every thread of the shared pool is held', async () => {
    // libuv's pool runs at the event loop's priority and serves the whole process: the report
    // thread's compression must not go there (src/reports/xlsx.ts, Entry). Each pool thread is held
    // by an open of a FIFO that no writer has opened yet.
    const dir = mkdtempSync(path.join(tmpdir(), 'qms-xlsx-'));
    const fifo = path.join(dir, 'held');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    const held = Array.from({ length: poolSize }, () => open(fifo, 'r'));
    try {
      const rows = Array.from({ length: 6_000 }, (_, i) => [`A${String(i).padStart(4, '0')}`, 'Đăng ký khai sinh cho trẻ em', i]);
      const written = bytes([{ name: 's', columns: [{ header: 'a' }, { header: 'b' }, { header: 'n', type: 'integer' }], rows }]);
      const outcome = await Promise.race([written.then(() => 'written'), new Promise((r) => setTimeout(() => r('waited for the pool'), 5_000))]);
      expect(outcome).toBe('written');
      expect(readXlsx(await written).sheets[0]!.rows).toHaveLength(6_001);
    } finally {
      // a writer's open lets every reader's open return
      const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      for (const handle of await Promise.all(held)) await handle.close();
      closeSync(writer);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deflates in segments that make one stream, as small as one deflate of the whole part', async () => {
    // 600 KB of rows: ten segments, each referring back into the one before
    const rows = Array.from({ length: 8_000 }, (_, i) => [`A${String(i % 1000).padStart(3, '0')}`, i % 7 ? 'Chứng thực bản sao' : 'Đăng ký khai sinh', i, '2026-11-24T08:00:00.000+07:00']);
    const file = await bytes([{ name: 's', columns: [{ header: 'a' }, { header: 'b' }, { header: 'n', type: 'integer' }, { header: 'd', type: 'datetime' }], rows }]);
    const [sheet] = unzip(file);
    expect(sheet!.data.length).toBeGreaterThan(8 * 65_536);
    const whole = zlib.deflateRawSync(sheet!.data, { level: 6 }).length;
    // (without the dictionaries 1.1% larger: each segment would start from nothing)
    expect(sheet!.compressed).toBeLessThanOrEqual(whole);
    expect(readXlsx(file).sheets[0]!.rows[8_000]).toEqual(['A999', 'Chứng thực bản sao', 7_999, excelDate('2026-11-24T08:00:00.000+07:00')]);
  });

  it('has the pieces right: column letters, serial dates', () => {
    expect([0, 25, 26, 27, 51, 52, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
    expect(excelDate('1900-03-01T00:00:00Z')).toBe(61);
    expect(excelDate('2026-11-24T12:00:00.000+07:00')).toBe(46350.5);
    expect(excelDate('not a date')).toBeNull();
  });

  it.runIf(SOFFICE)('opens in LibreOffice with the same cells', async () => {
    const file = await bytes([{
      name: 'Phiếu',
      columns: [{ header: 'Số' }, { header: 'Lĩnh vực' }, { header: 'Chờ (giây)', type: 'seconds' }, { header: 'Lúc', type: 'datetime' }],
      rows: [['A001', 'Tư pháp – Hộ tịch', 61.5, '2026-11-24T08:05:09.000+07:00'], ['B002', 'Chứng thực, "bản sao"', 600, null]],
    }]);
    const rows = parseCsv(libreOfficeCsv(file));
    expect(rows[0]).toEqual(['Số', 'Lĩnh vực', 'Chờ (giây)', 'Lúc']);
    expect(rows[1]!.slice(0, 2)).toEqual(['A001', 'Tư pháp – Hộ tịch']);
    expect(Number(rows[1]![2]!.replace(',', '.'))).toBe(61.5);
    expect(rows[1]![3]).toBe('24/11/2026 08:05:09');
    expect(rows[2]!.slice(0, 2)).toEqual(['B002', 'Chứng thực, "bản sao"']);
    expect(Number(rows[2]![2])).toBe(600); // shown with the column's 0.0 format
    expect(rows[2]![3]).toBe('');
  }, 180_000);
});
