import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEscPos } from '../src/escpos/escpos.decode.ts';
import { DeviceFileTransport } from '../src/printer/device-file.transport.ts';
import { printTicket } from '../src/printer/printer.print.ts';
import { createTransport } from '../src/printer/printer.transport.ts';
import { renderTicket } from '../src/ticket/ticket.render.ts';
import { readQr, sameBits, sampleTicket } from './support/tickets.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qms-lp-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('device-file transport', () => {
  it('writes a job whose bytes decode back to the same image', async () => {
    const file = path.join(dir, 'lp0');
    await writeFile(file, '');
    const transport = createTransport({ kind: 'file', path: file });
    expect(await transport.status()).toEqual({ online: true, paperOut: false, answered: false });
    expect(await printTicket(transport, sampleTicket, { widthDots: 384 })).toEqual({ ok: true });
    await transport.close();

    const job = decodeEscPos(await readFile(file));
    // a plain file cannot answer, so no DLE EOT was written into it
    expect(job.commands.filter((c) => c.type === 'status-request')).toEqual([]);
    expect(job.cut).toBe(true);
    expect(sameBits(job.image!, await renderTicket(sampleTicket, { widthDots: 384 }))).toBe(true);
    expect(readQr(job.image!)).toBe(sampleTicket.url);
  });

  it('appends jobs one after another', async () => {
    const file = path.join(dir, 'lp1');
    await writeFile(file, '');
    const transport = new DeviceFileTransport({ path: file });
    await transport.write(Uint8Array.of(0x1b, 0x40));
    await transport.write(Uint8Array.of(0x1d, 0x56, 0x01));
    expect(Array.from(await readFile(file))).toEqual([0x1b, 0x40, 0x1d, 0x56, 0x01]);
  });

  it('reports a missing device as offline and never creates it', async () => {
    const file = path.join(dir, 'usb', 'lp9');
    const transport = new DeviceFileTransport({ path: file });
    expect(await transport.status()).toMatchObject({ online: false, paperOut: false, error: expect.stringMatching(/not there/) });
    const result = await printTicket(transport, sampleTicket);
    expect(result).toMatchObject({ ok: false, reason: 'offline' });
    await expect(transport.write(Uint8Array.of(0x1b, 0x40))).rejects.toThrow(/not there/);
    expect(existsSync(file)).toBe(false);
  });

  it('reports a path that is not a printer as an error', async () => {
    const result = await printTicket(new DeviceFileTransport({ path: dir }), sampleTicket);
    expect(result).toMatchObject({ ok: false, reason: 'error', message: expect.stringMatching(/EISDIR/) });
  });

  // Root may write anything: as root (how CI runs), the check runs with the effective user
  // switched to nobody for its duration, as an agent run by a service user would be (this test
  // file has its own process: vitest's forks pool).
  it('reports a device it may not write as offline', async () => {
    const file = path.join(dir, 'locked');
    await writeFile(file, '');
    await chmod(file, 0o444);
    await chmod(dir, 0o755); // nobody may reach the file, only not write it
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    try {
      expect(process.geteuid?.()).not.toBe(0);
      const status = await new DeviceFileTransport({ path: file }).status();
      expect(status).toMatchObject({ online: false, error: expect.stringMatching(/no permission/) });
    } finally {
      if (asRoot) process.seteuid!(0);
    }
  });
});
