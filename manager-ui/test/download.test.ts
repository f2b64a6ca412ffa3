import { describe, expect, it } from 'vitest';
import { writeXlsx } from '../../server/src/reports/xlsx.ts';
import { csvRowCounter, fileNameOf, readDownload, xlsxRowCounter, type Progress } from '../src/manage/lib/download.ts';

// The report screen's download progress: rows counted while the body streams in, in chunks cut
// anywhere, for CSV (quoted line breaks are not records) and for the XLSX the server writes.

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function xlsxBytes(rows: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  const data = Array.from({ length: rows }, (_, i) => [`A${i}`, 'Tư pháp – Hộ tịch <row x>', i]);
  for await (const b of writeXlsx([{ name: 'Phiếu', columns: [{ header: 'code' }, { header: 'service' }, { header: 'n', type: 'integer' }], rows: data }])) parts.push(b);
  return new Uint8Array(Buffer.concat(parts));
}

describe('row counters', () => {
  it('counts CSV records, not quoted line breaks, across any chunking', async () => {
    const csv = new TextEncoder().encode('\uFEFFcode,comment\r\nA001,"two\r\nlines"\r\nA002,plain\r\nA003,"say ""hi"""\r\n');
    for (const size of [1, 2, 5, 64]) {
      const counter = csvRowCounter();
      for (const c of chunked(csv, size)) counter.push(c);
      await counter.finish();
      expect(counter.rows(), `chunks of ${size}`).toBe(3);
    }
  });

  it('counts the rows of a streamed XLSX (the worksheet is the first part), across any chunking', async () => {
    const file = await xlsxBytes(5000);
    for (const size of [7, 1000, 65_536]) {
      const counter = xlsxRowCounter();
      for (const c of chunked(file, size)) counter.push(c);
      await counter.finish();
      expect(counter.rows(), `chunks of ${size}`).toBe(5000);
    }
  });

  it('gives up quietly on something that is not a zip', async () => {
    const counter = xlsxRowCounter();
    counter.push(new TextEncoder().encode('{"error":{"code":"X"}} and more text to pass thirty bytes'));
    await counter.finish();
    expect(counter.rows()).toBe(0);
  });
});

describe('readDownload', () => {
  it('reads a response to the end with progress, X-Total-Rows and the file name', async () => {
    const file = await xlsxBytes(1200);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunked(file, 4096)) controller.enqueue(c);
        controller.close();
      },
    });
    const res = new Response(body, { headers: { 'x-total-rows': '1200', 'content-disposition': 'attachment; filename="phieu-X-2026-11-24.xlsx"' } });
    const seen: Progress[] = [];
    const done = await readDownload(res, 'xlsx', (p) => seen.push(p));
    expect(done.fileName).toBe('phieu-X-2026-11-24.xlsx');
    expect(done.progress).toEqual({ bytes: file.length, rows: 1200, totalRows: 1200 });
    expect(new Uint8Array(await done.blob.arrayBuffer())).toEqual(file);
    expect(seen.at(-1)).toEqual(done.progress);
  });

  it('reads file names from Content-Disposition', () => {
    expect(fileNameOf('attachment; filename="a.csv"', 'x')).toBe('a.csv');
    expect(fileNameOf(null, 'x.csv')).toBe('x.csv');
  });
});
