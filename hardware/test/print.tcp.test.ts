import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeEscPos } from '../src/escpos/escpos.decode.ts';
import { printTicket } from '../src/printer/printer.print.ts';
import { TcpTransport } from '../src/printer/tcp.transport.ts';
import { renderTicket } from '../src/ticket/ticket.render.ts';
import { startTestPrinter, type TestPrinter } from '../src/testing/test-printer.ts';
import { cropRows, inkBands, normalise, ocr } from './support/ocr.ts';
import { readQr, sameBits, sampleTicket } from './support/tickets.ts';

let printer: TestPrinter;
let transport: TcpTransport;

beforeAll(async () => {
  printer = await startTestPrinter();
  transport = new TcpTransport({ host: printer.host, port: printer.port, statusTimeoutMs: 300 });
});

afterAll(async () => {
  await transport.close();
  await printer.close();
});

beforeEach(() => {
  printer.clear();
  printer.setState({ online: true, paperOut: false, paperLow: false, coverOpen: false, silent: false });
});

/** The job connection: the last one, after the status check's own connection. */
function lastJob() {
  const connections = printer.connections();
  return decodeEscPos(connections.at(-1)!);
}

describe.each([
  { paper: '80 mm', widthDots: 576, code: 'A023', url: 'https://hcc.example.gov.vn/t/7Q2M-A023' },
  { paper: '58 mm', widthDots: 384, code: 'B117', url: 'https://hcc.example.gov.vn/t/9ZK4-B117?lang=en' },
])('a ticket printed on $paper paper over TCP', ({ widthDots, code, url }) => {
  const data = { ...sampleTicket, code, url };

  it('reaches the printer as one image the width of the head, then a cut, and reads back', async () => {
    const result = await printTicket(transport, data, { widthDots });
    expect(result).toEqual({ ok: true });
    await printer.waitForJobs(2);

    const job = lastJob();
    expect(job.notes).toEqual([]);
    expect(job.commands[0]?.type).toBe('initialize');
    expect(job.cut).toBe(true);
    expect(job.commands.at(-1)).toMatchObject({ type: 'cut', partial: true });
    const image = job.image!;
    expect(image.width).toBe(widthDots);
    expect(sameBits(image, await renderTicket(data, { widthDots }))).toBe(true);

    expect(readQr(image)).toBe(url);

    const text = normalise(await ocr(image));
    expect(text).toContain('Số thứ tự');
    expect(text).toContain('Số người đang chờ trước bạn: 4');
    // The code must be read from the big print itself, not from the English line that also
    // names it: the tallest block above the QR code, read on its own.
    const bands = inkBands(image);
    const qr = bands.reduce((a, b) => (b.height > a.height ? b : a));
    const above = bands.filter((band) => band.bottom < qr.top);
    const big = above.reduce((a, b) => (b.height > a.height ? b : a));
    expect(big.height).toBeGreaterThan(widthDots / 6);
    // Shrunk to about 42 dots high, the size tesseract reads best; English model, one line.
    const shrink = Math.max(1, Math.round(big.height / 42));
    expect(normalise(await ocr(cropRows(image, big.top, big.bottom), { psm: 7, lang: 'eng', shrink }))).toBe(code);
  });
});

describe('printTicket over TCP when the printer cannot print', () => {
  it('reports paper out and sends no image', async () => {
    printer.setState({ paperOut: true });
    const result = await printTicket(transport, sampleTicket);
    expect(result).toMatchObject({ ok: false, reason: 'paper_out' });
    await printer.waitForJobs(1);
    const sent = decodeEscPos(printer.received());
    expect(sent.commands.length).toBeGreaterThan(0);
    expect(sent.commands.every((c) => c.type === 'status-request')).toBe(true);
    expect(sent.image).toBeNull();
  });

  it('reports an open cover as an error', async () => {
    printer.setState({ coverOpen: true });
    const result = await printTicket(transport, sampleTicket);
    expect(result).toEqual({ ok: false, reason: 'error', message: 'cover open' });
  });

  it('prints, and says so, when the paper is running low', async () => {
    printer.setState({ paperLow: true });
    expect(await printTicket(transport, sampleTicket)).toEqual({ ok: true, paperLow: true });
  });

  it('reports offline when nothing listens on the port', { timeout: 5000 }, async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const nowhere = new TcpTransport({ host: '127.0.0.1', port: closed, connectTimeoutMs: 1000 });
    expect(await nowhere.status()).toMatchObject({ online: false, answered: false });
    const result = await printTicket(nowhere, sampleTicket);
    expect(result).toMatchObject({ ok: false, reason: 'offline' });
    expect(result.ok ? '' : result.message).toMatch(/ECONNREFUSED/);
    await expect(nowhere.write(Uint8Array.of(0x1b, 0x40))).rejects.toThrow(/cannot connect/);
    await nowhere.close();
  });

  it('still prints on a printer that never answers status requests', { timeout: 5000 }, async () => {
    printer.setState({ silent: true });
    expect(await transport.status()).toEqual({ online: true, paperOut: false, answered: false });
    expect(await printTicket(transport, sampleTicket)).toEqual({ ok: true });
    await printer.waitForJobs(3);
    expect(lastJob().cut).toBe(true);
  });

  it('sends no ticket to another kind of service: one that greets, replies in its own protocol, or hangs up', { timeout: 10_000 }, async () => {
    const services: Record<string, (socket: net.Socket) => void> = {
      greets: (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
      replies: (socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')),
      'hangs up': (socket) => socket.once('data', () => socket.end()),
    };
    for (const [name, behave] of Object.entries(services)) {
      const received: Buffer[] = [];
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.on('data', (chunk) => received.push(chunk));
        behave(socket);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const other = new TcpTransport({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, statusTimeoutMs: 300 });
      expect(await other.status(), name).toMatchObject({ online: false, answered: false, error: expect.stringMatching(/no ESC\/POS printer answers/) });
      expect(await printTicket(other, sampleTicket), name).toMatchObject({ ok: false, reason: 'offline' });
      // nothing but status requests (DLE EOT n) went there
      expect(Buffer.concat(received).toString('hex'), name).toMatch(/^(1004(01|02|04))+$/);
      await other.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reads each status of the test printer back through the transport', async () => {
    printer.setState({ paperLow: true });
    expect(await transport.status()).toEqual({ online: true, paperOut: false, paperLow: true, coverOpen: false, answered: true });
    printer.setState({ paperLow: false, online: false });
    expect(await transport.status()).toMatchObject({ online: false, paperOut: false, coverOpen: false });
  });
});
