import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEscPos, type DecodedJob } from '../src/escpos/escpos.decode.ts';
import { printTicket } from '../src/printer/printer.print.ts';
import { SerialTransport } from '../src/printer/serial.transport.ts';
import { renderTicket } from '../src/ticket/ticket.render.ts';
import { sameBits, sampleTicket } from './support/tickets.ts';

// The pretend printer is a Python script on a real pseudo-terminal (Python is on every
// machine of this project's kind); without Python these tests are skipped, not faked.
const hasPython = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!hasPython)('serial transport on a pseudo-terminal', () => {
  let dir: string;
  let capture: string;
  let child: ChildProcessWithoutNullStreams;
  let lines: AsyncIterator<string>;
  let ttyPath: string;
  let transport: SerialTransport;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'qms-serial-'));
    capture = path.join(dir, 'received.bin');
    child = spawn('python3', [path.join(import.meta.dirname, 'support', 'pty-printer.py'), capture]);
    lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    ttyPath = (await lines.next()).value as string;
    transport = new SerialTransport({ path: ttyPath, baudRate: 115200, statusTimeoutMs: 300 });
  });

  afterAll(async () => {
    await transport?.close();
    child?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  async function setState(state: Record<string, boolean>): Promise<void> {
    child.stdin.write(JSON.stringify(state) + '\n');
    expect((await lines.next()).value).toBe('ok');
  }

  async function received(until: (job: DecodedJob) => boolean): Promise<DecodedJob> {
    for (let i = 0; i < 100; i++) {
      const job = decodeEscPos(await readFile(capture).catch(() => Buffer.alloc(0)));
      if (until(job)) return job;
      await sleep(20);
    }
    throw new Error('the pretend serial printer did not receive the whole job');
  }

  it('reads status from the line', async () => {
    expect(await transport.status()).toEqual({ online: true, paperOut: false, paperLow: false, coverOpen: false, answered: true });
  });

  it('prints a ticket that decodes back to the same image', async () => {
    expect(await printTicket(transport, sampleTicket)).toEqual({ ok: true });
    const job = await received((j) => j.cut);
    expect(job.commands.filter((c) => c.type === 'status-request').map((c) => (c.type === 'status-request' ? c.n : 0)).slice(0, 3)).toEqual([1, 2, 4]);
    expect(sameBits(job.image!, await renderTicket(sampleTicket))).toBe(true);
  });

  it('reports paper out from the line', async () => {
    await setState({ paperOut: true });
    expect(await printTicket(transport, sampleTicket)).toMatchObject({ ok: false, reason: 'paper_out' });
    await setState({ paperOut: false });
  });

  it('reports a port that does not exist as offline', async () => {
    const missing = new SerialTransport({ path: path.join(dir, 'ttyUSB9') });
    expect(await missing.status()).toMatchObject({ online: false, error: expect.stringMatching(/cannot open serial printer/) });
    expect(await printTicket(missing, sampleTicket)).toMatchObject({ ok: false, reason: 'offline' });
    await missing.close();
  });
});
