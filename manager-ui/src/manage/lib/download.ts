// A report download with progress: the body is read as it streams, rows are counted on the way
// (the server says how many to expect in X-Total-Rows), and the file is saved at the end.
//
// CSV: records end with a line break outside quotes. XLSX: the server writes the worksheet as
// the first part of the zip, so after its local header come its deflated rows; they are
// inflated on the side (DecompressionStream) just to count `<row ` tags. Counting never holds
// up or breaks the download: if it fails, the bytes still arrive and progress shows bytes only.

export interface Progress {
  bytes: number;
  /** data rows received so far (header excluded) */
  rows: number;
  /** from X-Total-Rows; null when the server did not say */
  totalRows: number | null;
}

export interface Downloaded {
  blob: Blob;
  fileName: string;
  progress: Progress;
}

type Counter = { push(chunk: Uint8Array): void; finish(): Promise<void>; rows(): number };

/** Data records of a CSV stream (the header line not counted). Quoted line breaks do not end a record. */
export function csvRowCounter(): Counter {
  let quoted = false;
  let lines = 0;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === 0x22) quoted = !quoted;
        else if (b === 0x0a && !quoted) lines++;
      }
    },
    async finish() {},
    rows: () => Math.max(0, lines - 1),
  };
}

/** Rows of the first worksheet of a streamed XLSX written worksheet-first (header row not counted). */
export function xlsxRowCounter(): Counter {
  let header: Uint8Array = new Uint8Array(0);
  let dataStart = -1;
  let rows = 0;
  let tail = '';
  let failed = false;
  const inflate = new DecompressionStream('deflate-raw');
  const writer = inflate.writable.getWriter();
  const decoder = new TextDecoder();
  const reading = (async () => {
    const reader = inflate.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const text = tail + decoder.decode(value, { stream: true });
      let at = text.indexOf('<row ');
      while (at >= 0) {
        rows++;
        at = text.indexOf('<row ', at + 5);
      }
      tail = text.slice(-4);
    }
  })().catch(() => {
    // the deflate stream ended and the next zip parts followed ("junk"): counting is over
  });
  const feed = (bytes: Uint8Array) => {
    if (failed || !bytes.length) return;
    writer.write(bytes.slice()).catch(() => { failed = true; });
  };
  return {
    push(chunk) {
      if (failed) return;
      if (dataStart < 0) {
        const joined = new Uint8Array(header.length + chunk.length);
        joined.set(header);
        joined.set(chunk, header.length);
        header = joined;
        if (header.length < 30) return;
        const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
        if (view.getUint32(0, true) !== 0x04034b50 || view.getUint16(8, true) !== 8) {
          failed = true;
          return;
        }
        const start = 30 + view.getUint16(26, true) + view.getUint16(28, true);
        if (header.length < start) return;
        dataStart = start;
        feed(header.subarray(start));
        header = new Uint8Array(0);
        return;
      }
      feed(chunk);
    },
    async finish() {
      // a failed count ends its side stream too, or reading it would wait for ever
      if (failed) await writer.abort().catch(() => {});
      else await writer.close().catch(() => {});
      await reading;
    },
    rows: () => Math.max(0, rows - 1),
  };
}

/** The file name of a Content-Disposition header. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const m = /filename="([^"]+)"/.exec(disposition ?? '');
  return m?.[1] ?? fallback;
}

/** Reads a download to the end, reporting progress at most every 100 ms. */
export async function readDownload(res: Response, kind: 'csv' | 'xlsx', onProgress: (p: Progress) => void, fallbackName = `report.${kind}`): Promise<Downloaded> {
  const total = res.headers.get('x-total-rows');
  const progress: Progress = { bytes: 0, rows: 0, totalRows: total !== null && /^\d+$/.test(total) ? Number(total) : null };
  const counter = kind === 'csv' ? csvRowCounter() : xlsxRowCounter();
  const chunks: Uint8Array[] = [];
  const reader = res.body!.getReader();
  let last = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    progress.bytes += value.length;
    try {
      counter.push(value);
    } catch {
      // counting is a nicety
    }
    progress.rows = counter.rows();
    if (Date.now() - last > 100) {
      last = Date.now();
      onProgress({ ...progress });
    }
  }
  await counter.finish();
  progress.rows = Math.max(counter.rows(), progress.rows);
  if (progress.totalRows !== null) progress.rows = Math.min(progress.rows, progress.totalRows);
  onProgress({ ...progress });
  const type = kind === 'csv' ? 'text/csv;charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  return { blob: new Blob(chunks as BlobPart[], { type }), fileName: fileNameOf(res.headers.get('content-disposition'), fallbackName), progress };
}

/** Hands a finished download to the browser as a saved file. */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
