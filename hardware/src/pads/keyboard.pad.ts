import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { KeyboardPadOptions } from './pad.config.ts';
import { EV_KEY, KEY_PRESS, keyName, parseInputEvents } from './input-event.ts';
import { Backoff, type PadLog } from './pad.timing.ts';
import type { PadInputSink } from './hid.pad.ts';

/**
 * Pads that are USB keyboards to Linux (most cheap 3-5 key rating pads and foot switches),
 * read from their event device: each key press (EV_KEY value 1) of a mapped key is an action;
 * auto-repeat (2) and release (0) are not. Unplugging ends the read with ENODEV (or end of
 * file for a FIFO): the pad opens the path again with backoff, so the stable
 * /dev/input/by-id/ link finds the keyboard again when it comes back.
 *
 * Reads on an event device block in one libuv thread-pool thread per pad (Node has no poll for
 * character devices); the default pool has four.
 */

export interface KeyboardPadReaderDeps {
  log: PadLog;
}

export class KeyboardPadReader {
  private stream: ReadStream | null = null;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private rest: Buffer = Buffer.alloc(0);
  private readonly backoff: Backoff;
  private lastFailure = '';

  constructor(private readonly options: KeyboardPadOptions, private readonly sink: PadInputSink, private readonly deps: KeyboardPadReaderDeps) {
    this.backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
  }

  get connected(): boolean {
    return this.stream !== null;
  }

  /** Checks the path once and starts reading; a missing pad is logged and tried again later. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.connect();
  }

  /**
   * Stops reading. Does not wait for the file to close: a read blocked on an event device only
   * returns with the next key press (or at process exit).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.release();
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    const { path } = this.options;
    try {
      const info = await stat(path);
      // a regular file would be read to its end and replayed on every reopen
      if (!info.isCharacterDevice() && !info.isFIFO()) {
        throw Object.assign(new Error(`${path} is not an input device (expected /dev/input/event* or its /dev/input/by-id/ link)`), { code: 'ENOTCHR' });
      }
    } catch (err) {
      this.retry(err);
      return;
    }
    if (this.stopped) return;
    const stream = createReadStream(path, { highWaterMark: this.options.recordSize * 64 });
    this.stream = stream;
    this.rest = Buffer.alloc(0);
    stream.on('open', () => {
      this.backoff.reset();
      this.lastFailure = '';
      this.deps.log.info({ pad: this.options.name, path }, 'pad: keyboard pad open');
    });
    stream.on('data', (chunk: Buffer | string) => {
      if (this.stream === stream) this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.on('error', (err) => this.lost(stream, err));
    // end of file: the FIFO's writer went away (an event device ends with ENODEV instead)
    stream.on('end', () => this.lost(stream, Object.assign(new Error(`${path} ended`), { code: 'EOF' })));
  }

  private onData(chunk: Buffer): void {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const { events, rest } = parseInputEvents(data, this.options.recordSize);
    this.rest = rest;
    for (const e of events) {
      if (e.type !== EV_KEY || e.value !== KEY_PRESS) continue;
      const action = this.options.keys.get(e.code);
      if (action) this.sink(`key ${keyName(e.code)}`, action);
    }
  }

  private lost(stream: ReadStream, err: unknown): void {
    if (this.stream !== stream) return;
    this.release();
    this.retry(err);
  }

  private release(): void {
    const stream = this.stream;
    this.stream = null;
    stream?.destroy();
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    const code = (err as { code?: string } | null)?.code;
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastFailure) {
      const hint = code === 'EACCES'
        ? 'the agent user may not read this device: see the udev rule in docs/pads.md'
        : code === 'ENOENT' ? 'not plugged in' : undefined;
      const line = { pad: this.options.name, path: this.options.path, err: message, retryInMs: delay, ...(hint ? { hint } : {}) };
      if (code === 'EACCES' || code === 'ENOTCHR') this.deps.log.error(line, 'pad: cannot read the keyboard pad; retrying');
      else this.deps.log.warn(line, 'pad: keyboard pad not available; retrying');
      this.lastFailure = message;
    }
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref?.();
  }
}
