// Renders a sample ticket to a PNG (docs/ticket-sample.png by default) and, with --print,
// sends it to a printer: the quickest way to check a printer and the paper width.
//   npx tsx hardware/scripts/sample-ticket.ts [--width 576|384] [--out file.png]
//   npx tsx hardware/scripts/sample-ticket.ts --print tcp://192.168.1.50:9100
//   npx tsx hardware/scripts/sample-ticket.ts --print /dev/usb/lp0
//   npx tsx hardware/scripts/sample-ticket.ts --print serial:/dev/ttyUSB0:19200
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTransport, printTicket, renderTicket, type TicketPrintData, type TransportConfig } from '../src/index.ts';

export const sampleTicket: TicketPrintData = {
  centreName: 'Trung tâm Phục vụ hành chính công tỉnh Thừa Thiên Huế',
  serviceName: { vi: 'Tư pháp – Hộ tịch', en: 'Justice – Civil status' },
  code: 'A023',
  peopleAhead: 4,
  estimatedWaitSeconds: 12 * 60,
  issuedAt: new Date('2025-11-24T02:05:00Z'),
  timeZone: 'Asia/Ho_Chi_Minh',
  url: 'https://hcc.example.gov.vn/t/7Q2M-A023',
};

function parsePrinter(spec: string): TransportConfig {
  if (spec.startsWith('tcp://')) {
    const url = new URL(spec);
    return { kind: 'tcp', host: url.hostname, port: url.port ? Number(url.port) : 9100 };
  }
  if (spec.startsWith('serial:')) {
    const [, path, baud] = spec.split(':');
    return { kind: 'serial', path: path ?? '', baudRate: baud ? Number(baud) : undefined };
  }
  return { kind: 'file', path: spec };
}

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '576' },
    out: { type: 'string' },
    print: { type: 'string' },
  },
});
const widthDots = Number(values.width);
const out = values.out ?? fileURLToPath(new URL('../../docs/ticket-sample.png', import.meta.url));

const started = performance.now();
const raster = await renderTicket(sampleTicket, { widthDots });
const ms = performance.now() - started;
await writeFile(out, raster.png());
console.log(`${out}: ${raster.width} x ${raster.height} dots (${(raster.height / 8).toFixed(0)} mm at 203 dpi), rendered in ${ms.toFixed(1)} ms`);

if (values.print) {
  const transport = createTransport(parsePrinter(values.print));
  try {
    const result = await printTicket(transport, sampleTicket, { widthDots });
    console.log(result.ok ? 'printed' : `not printed: ${result.reason} (${result.message})`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    await transport.close();
  }
}
