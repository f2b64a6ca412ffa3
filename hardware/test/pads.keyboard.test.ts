import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKeyboardPadConfig } from '../src/pads/pad.config.ts';
import { KeyboardPadReader } from '../src/pads/keyboard.pad.ts';
import { actionText, type PadAction } from '../src/pads/pad.actions.ts';
import { encodeInputEvents, KEY_CODES, keyStroke, KEY_PRESS, KEY_RELEASE, KEY_REPEAT } from '../src/pads/input-event.ts';

// The reader opens a FIFO exactly as it opens /dev/input/eventN (fs stream on the path); the
// test writes the kernel's input_event records into it. Closing the writer is what an unplug
// looks like to the reader (end of file here, ENODEV on an event device): it opens again.

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const stroke = (name: string, ...values: number[]) => encodeInputEvents(values.flatMap((v) => keyStroke(KEY_CODES[name]!, v)));

describe('keyboard pad reader', () => {
  let dir: string;
  let fifo: string;
  const writers: FileHandle[] = [];
  const readers: KeyboardPadReader[] = [];
  const logs: { level: string; line: Record<string, unknown> }[] = [];
  const log = {
    info: (line: object) => logs.push({ level: 'info', line: line as Record<string, unknown> }),
    warn: (line: object) => logs.push({ level: 'warn', line: line as Record<string, unknown> }),
    error: (line: object) => logs.push({ level: 'error', line: line as Record<string, unknown> }),
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qms-pad-'));
    fifo = join(dir, 'usb-Rating_Pad-event-kbd');
    logs.length = 0;
  });

  afterEach(async () => {
    // stop first, then close the writers: that ends the read still blocked on the FIFO
    await Promise.all(readers.splice(0).map((r) => r.stop()));
    await Promise.all(writers.splice(0).map((w) => w.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  const ratingPad = (path: string) => parseKeyboardPadConfig({
    type: 'keyboard-pad', path, reconnectMinMs: 20, reconnectMaxMs: 100,
    keys: { KEY_KP1: 'score:1', KEY_KP2: 'score:2', KEY_KP3: 'score:3', KEY_KPENTER: 'criticism' },
  });

  const start = async (path: string) => {
    const presses: string[] = [];
    const reader = new KeyboardPadReader(ratingPad(path), (input: string, action: PadAction) => presses.push(`${input}:${actionText(action)}`), { log });
    readers.push(reader);
    await reader.start();
    return { reader, presses };
  };

  const plugIn = async () => {
    const w = await open(fifo, 'w');
    writers.push(w);
    return w;
  };

  it('acts on key presses only: not on auto-repeat, release, or keys it does not map', async () => {
    execFileSync('mkfifo', [fifo]);
    const { presses } = await start(fifo);
    const w = await plugIn();
    await w.write(stroke('KEY_KP1', KEY_PRESS, KEY_REPEAT, KEY_REPEAT, KEY_RELEASE));
    await w.write(stroke('KEY_A', KEY_PRESS, KEY_RELEASE));
    await w.write(stroke('KEY_KPENTER', KEY_PRESS, KEY_RELEASE));
    await until(() => presses.length >= 2);
    // records split across writes are put back together
    const three = stroke('KEY_KP3', KEY_PRESS);
    await w.write(three.subarray(0, 30));
    await new Promise((r) => setTimeout(r, 30));
    await w.write(three.subarray(30));
    await until(() => presses.length >= 3);
    expect(presses).toEqual(['key KEY_KP1:score:1', 'key KEY_KPENTER:criticism', 'key KEY_KP3:score:3']);
  });

  it('opens the path again after the pad goes away and comes back', async () => {
    const { reader, presses } = await start(fifo); // not there yet: unplugged at start
    expect(reader.connected).toBe(false);
    expect(logs.some((l) => l.level === 'warn' && l.line.hint === 'not plugged in')).toBe(true);
    execFileSync('mkfifo', [fifo]);
    const first = await plugIn();
    await first.write(stroke('KEY_KP2', KEY_PRESS, KEY_RELEASE));
    await until(() => presses.length === 1);
    await first.close();
    writers.splice(writers.indexOf(first), 1);
    await until(() => logs.some((l) => l.level === 'warn' && /ended/.test(String(l.line.err))));
    const second = await plugIn(); // the reader reopened the path and is waiting
    await second.write(stroke('KEY_KP3', KEY_PRESS, KEY_RELEASE));
    await until(() => presses.length === 2);
    expect(presses).toEqual(['key KEY_KP2:score:2', 'key KEY_KP3:score:3']);
    expect(logs.filter((l) => l.level === 'info').length).toBe(2); // opened twice
  });

  it('refuses a regular file (it would be replayed on every reopen) with a clear error', async () => {
    const file = join(dir, 'event3');
    writeFileSync(file, stroke('KEY_KP1', KEY_PRESS));
    const { reader, presses } = await start(file);
    await new Promise((r) => setTimeout(r, 80));
    expect(reader.connected).toBe(false);
    expect(presses).toEqual([]);
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors.length).toBe(1); // logged once, retried quietly
    expect(String(errors[0]!.line.err)).toMatch(/is not an input device/);
  });
});
