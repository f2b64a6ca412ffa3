import type { HidButton, HidPadOptions, HidTarget } from './pad.config.ts';
import type { PadAction } from './pad.actions.ts';
import { Backoff, type PadLog } from './pad.timing.ts';

/**
 * HID button pads through node-hid: open by vendor/product id (or path/serial), read input
 * reports, and turn a button going from released to pressed into its action. Unplugging is an
 * 'error' from node-hid: the pad closes the handle and opens again with backoff.
 */

/** The part of node-hid's HID/HIDAsync a pad uses; tests pass an object with the same surface. */
export interface HidDeviceLike {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  close(): unknown;
}


/** Opens the pad or throws (not plugged in, no permission). */
export type HidOpener = (target: HidTarget) => Promise<HidDeviceLike>;

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** The real opener: node-hid's HIDAsync, loaded on first use (a native binding). */
export const openNodeHid: HidOpener = async (target) => {
  const HID = await import('node-hid');
  // process-wide in node-hid, and only before its binding is first loaded
  if (target.driver) HID.setDriverType(target.driver);
  let path = target.path;
  if (!path && (target.serialNumber !== undefined || target.interface !== undefined || target.usagePage !== undefined)) {
    const found = (await HID.devicesAsync(target.vendorId, target.productId)).find((d) =>
      (target.serialNumber === undefined || d.serialNumber === target.serialNumber)
      && (target.interface === undefined || d.interface === target.interface)
      && (target.usagePage === undefined || d.usagePage === target.usagePage));
    if (!found?.path) {
      throw Object.assign(new Error(`no HID device ${hex4(target.vendorId)}:${hex4(target.productId)}`
        + `${target.serialNumber !== undefined ? ` serial ${target.serialNumber}` : ''}`
        + `${target.interface !== undefined ? ` interface ${target.interface}` : ''}`
        + `${target.usagePage !== undefined ? ` usage page ${target.usagePage}` : ''} is plugged in`), { code: 'ENODEV' });
    }
    path = found.path;
  }
  return path ? HID.HIDAsync.open(path) : HID.HIDAsync.open(target.vendorId, target.productId);
};

function isPressed(button: HidButton, report: Buffer): boolean {
  return button.bytes.some((i) => {
    if (i >= report.length) return false;
    const byte = report[i]!;
    if (button.mask !== undefined) return button.value !== undefined ? (byte & button.mask) === button.value : (byte & button.mask) !== 0;
    return byte === button.value;
  });
}

/**
 * Edge detection over a pad's reports: which buttons went from released to pressed. A report
 * with another report id says nothing about a button bound to an id. Pure, for tests.
 */
export class HidReportDecoder {
  private readonly down: boolean[];

  constructor(private readonly buttons: HidButton[]) {
    this.down = buttons.map(() => false);
  }

  /** Indices of the buttons this report presses (held buttons are not pressed again). */
  feed(report: Buffer): number[] {
    const pressed: number[] = [];
    this.buttons.forEach((button, i) => {
      if (button.reportId !== undefined && report[0] !== button.reportId) return;
      const now = isPressed(button, report);
      if (now && !this.down[i]) pressed.push(i);
      this.down[i] = now;
    });
    return pressed;
  }

  /** After a reconnect nothing is held. */
  reset(): void {
    this.down.fill(false);
  }
}

export interface PadInputSink {
  (input: string, action: PadAction): void;
}

export interface HidPadReaderDeps {
  open?: HidOpener;
  log: PadLog;
}

/** Keeps the pad open (reopening after unplug) and reports presses to `sink`. */
export class HidPadReader {
  private device: HidDeviceLike | null = null;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly decoder: HidReportDecoder;
  private readonly backoff: Backoff;
  private readonly open: HidOpener;
  private lastFailure = '';
  /** resolves once, after the first open attempt */
  private firstAttempt: Promise<void> | null = null;

  constructor(private readonly options: HidPadOptions, private readonly sink: PadInputSink, private readonly deps: HidPadReaderDeps) {
    this.decoder = new HidReportDecoder(options.buttons);
    this.backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
    this.open = deps.open ?? openNodeHid;
  }

  get connected(): boolean {
    return this.device !== null;
  }

  /** Tries to open the pad once; a missing pad is logged and tried again later, never thrown. */
  start(): Promise<void> {
    if (!this.stopped) return this.firstAttempt ?? Promise.resolve();
    this.stopped = false;
    this.firstAttempt = this.connect();
    return this.firstAttempt;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.release();
  }

  private target(): HidTarget {
    const { vendorId, productId, path, serialNumber, usagePage, driver } = this.options;
    return {
      vendorId, productId,
      ...(path ? { path } : {}),
      ...(serialNumber !== undefined ? { serialNumber } : {}),
      ...(this.options.interface !== undefined ? { interface: this.options.interface } : {}),
      ...(usagePage !== undefined ? { usagePage } : {}),
      ...(driver ? { driver } : {}),
    };
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    let device: HidDeviceLike;
    try {
      device = await this.open(this.target());
    } catch (err) {
      this.retry(err);
      return;
    }
    if (this.stopped) {
      await Promise.resolve(device.close()).catch(() => undefined);
      return;
    }
    this.device = device;
    this.decoder.reset();
    this.backoff.reset();
    this.lastFailure = '';
    device.on('data', (report: Buffer) => this.onReport(report));
    device.on('error', (err: unknown) => {
      if (this.device !== device) return;
      void this.release().then(() => this.retry(err));
    });
    this.deps.log.info({ pad: this.options.name }, 'pad: HID pad open');
  }

  private onReport(report: Buffer): void {
    const data = Buffer.isBuffer(report) ? report : Buffer.from(report as ArrayLike<number>);
    for (const i of this.decoder.feed(data)) this.sink(`button ${i}`, this.options.buttons[i]!.action);
  }

  private async release(): Promise<void> {
    const device = this.device;
    this.device = null;
    if (device) await Promise.resolve().then(() => device.close()).catch(() => undefined);
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    const message = err instanceof Error ? err.message : String(err);
    // the same failure every few seconds is logged once, not a thousand times a day
    if (message !== this.lastFailure) {
      this.deps.log.warn({ pad: this.options.name, err: message, retryInMs: delay }, 'pad: HID pad not available; retrying');
      this.lastFailure = message;
    }
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref?.();
  }
}
