import { afterEach, describe, expect, it } from 'vitest';
import { parseHidPadConfig } from '../src/pads/pad.config.ts';
import { HidPadReader, HidReportDecoder, openNodeHid } from '../src/pads/hid.pad.ts';
import type { HidTarget } from '../src/pads/pad.config.ts';
import { FakeHidDevice } from '../src/pads/testing.ts';
import { actionText, type PadAction } from '../src/pads/pad.actions.ts';

// A vendor-defined 8-byte report, no report id: byte 0 carries the buttons as bits
// (what simple USB button boxes built on a HID encoder chip send on every change).
const idle = [0, 0, 0, 0, 0, 0, 0, 0];
const bits = (b: number) => [b, 0, 0, 0, 0, 0, 0, 0];
// A boot-keyboard report (modifiers, reserved, six key usages): F1 = 0x3a, F2 = 0x3b.
const keys = (...usages: number[]) => [0, 0, ...usages, ...Array(6 - usages.length).fill(0)];

const counterPad = parseHidPadConfig({
  type: 'hid-pad', vendorId: '1209', productId: 'a0c1', reconnectMinMs: 20, reconnectMaxMs: 80,
  buttons: [
    { byte: 0, mask: 0x01, action: 'call-next' },
    { byte: 0, mask: 0x02, action: 'recall' },
    { byte: 0, mask: 0x04, action: 'finish' },
    { byte: 0, mask: 0x08, action: 'no-show' },
  ],
});

const quietLog = { info() {}, warn() {}, error() {} };
const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('HID report decoding', () => {
  it('acts on the edge of a press: a held button does not press again, a released one can', () => {
    const decoder = new HidReportDecoder(counterPad.buttons);
    const feed = (bytes: number[]) => decoder.feed(Buffer.from(bytes));
    expect(feed(bits(0x01))).toEqual([0]);
    expect(feed(bits(0x01))).toEqual([]); // held: the pad repeats its report
    expect(feed(bits(0x05))).toEqual([2]); // finish pressed while next still held
    expect(feed(idle)).toEqual([]);
    expect(feed(bits(0x01))).toEqual([0]);
    expect(feed(bits(0x0a))).toEqual([1, 3]);
  });

  it('reads boot-keyboard reports: a key usage in any of the six slots', () => {
    const pad = parseHidPadConfig({
      type: 'hid-pad', vendorId: 1, productId: 2,
      buttons: [{ byte: [2, 3, 4, 5, 6, 7], value: 0x3a, action: 'call-next' }, { byte: [2, 3, 4, 5, 6, 7], value: 0x3b, action: 'finish' }],
    });
    const decoder = new HidReportDecoder(pad.buttons);
    expect(decoder.feed(Buffer.from(keys(0x3a)))).toEqual([0]);
    expect(decoder.feed(Buffer.from(keys(0x3a, 0x3b)))).toEqual([1]); // rollover: only the new key
    expect(decoder.feed(Buffer.from(keys(0x3b)))).toEqual([]);
    expect(decoder.feed(Buffer.from(keys()))).toEqual([]);
  });

  it('reads a button only from reports with its report id', () => {
    const pad = parseHidPadConfig({
      type: 'hid-pad', vendorId: 1, productId: 2,
      buttons: [{ reportId: 1, byte: 1, mask: 0x10, action: 'start' }],
    });
    const decoder = new HidReportDecoder(pad.buttons);
    expect(decoder.feed(Buffer.from([2, 0x10]))).toEqual([]); // another report (say, a dial) with the same bit
    expect(decoder.feed(Buffer.from([1, 0x10]))).toEqual([0]);
    expect(decoder.feed(Buffer.from([2, 0x00]))).toEqual([]); // says nothing about the button: still held
    expect(decoder.feed(Buffer.from([1, 0x10]))).toEqual([]);
    expect(decoder.feed(Buffer.from([1, 0x00, 0, 0]))).toEqual([]);
    expect(decoder.feed(Buffer.from([1, 0x10]))).toEqual([0]);
  });
});

describe('HID pad reader', () => {
  const readers: HidPadReader[] = [];
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.stop()));
  });

  it('waits for the pad, reads its presses, and opens it again after an unplug', async () => {
    const devices: FakeHidDevice[] = [];
    const targets: HidTarget[] = [];
    let plugged = false;
    const open = async (target: HidTarget) => {
      targets.push(target);
      if (!plugged) throw new Error('cannot open device with vendor id 0x1209 and product id 0xa0c1');
      const device = new FakeHidDevice();
      devices.push(device);
      return device;
    };
    const presses: string[] = [];
    const warnings: string[] = [];
    const reader = new HidPadReader(counterPad, (input: string, action: PadAction) => presses.push(`${input}:${actionText(action)}`),
      { open, log: { ...quietLog, warn: (o: object) => warnings.push(JSON.stringify(o)) } });
    readers.push(reader);

    await reader.start(); // not plugged in: start returns, the agent goes on
    expect(reader.connected).toBe(false);
    expect(targets[0]).toEqual({ vendorId: 0x1209, productId: 0xa0c1 });
    plugged = true;
    await until(() => reader.connected);
    expect(targets.length).toBeGreaterThanOrEqual(2);
    expect(warnings.length).toBe(1); // the same failure is logged once

    devices[0]!.report(bits(0x01));
    devices[0]!.report(bits(0x01));
    devices[0]!.report(idle);
    devices[0]!.report(bits(0x04));
    expect(presses).toEqual(['button 0:call-next', 'button 2:finish']);

    // unplugged while "finish" is held: the handle is closed and opened again
    devices[0]!.unplug();
    await until(() => devices[0]!.closed);
    await until(() => devices.length === 2 && reader.connected);
    devices[1]!.report(bits(0x04)); // nothing is held after a reconnect
    devices[0]!.report(bits(0x01)); // the old handle is gone
    expect(presses).toEqual(['button 0:call-next', 'button 2:finish', 'button 2:finish']);

    await reader.stop();
    expect(devices[1]!.closed).toBe(true);
    const opened = targets.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(targets.length).toBe(opened); // stopped: no more attempts
  });

  it('passes path and serial number to the opener', async () => {
    const targets: HidTarget[] = [];
    const pad = parseHidPadConfig({
      type: 'hid-pad', vendorId: 0x1209, productId: 0xa0c1, serialNumber: 'QMS-0007', interface: 1, driver: 'libusb',
      buttons: [{ byte: 0, mask: 1, action: 'call-next' }],
    });
    const reader = new HidPadReader(pad, () => {}, { open: async (t) => { targets.push(t); return new FakeHidDevice(); }, log: quietLog });
    readers.push(reader);
    await reader.start();
    expect(targets).toEqual([{ vendorId: 0x1209, productId: 0xa0c1, serialNumber: 'QMS-0007', interface: 1, driver: 'libusb' }]);
  });

  it('node-hid itself loads here and reports a missing pad as an error to retry', async () => {
    // the real opener, against a vendor/product id no machine has: an error, not a crash
    await expect(openNodeHid({ vendorId: 0xfffe, productId: 0xfffd })).rejects.toThrow();
    await expect(openNodeHid({ vendorId: 0xfffe, productId: 0xfffd, serialNumber: 'none' })).rejects.toThrow(/no HID device fffe:fffd serial none is plugged in/);
  });
});
