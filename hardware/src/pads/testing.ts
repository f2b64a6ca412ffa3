import { EventEmitter } from 'node:events';
import type { HidDeviceLike } from './hid.pad.ts';

/**
 * A HID pad as node-hid presents one, for tests here and elsewhere: an EventEmitter with
 * 'data' (one input report per event, a Buffer), 'error' (what node-hid emits when the pad is
 * unplugged: "could not read from HID device") and close().
 */
export class FakeHidDevice extends EventEmitter implements HidDeviceLike {
  closed = false;

  /** The pad sends one input report. */
  report(bytes: number[]): void {
    if (!this.closed) this.emit('data', Buffer.from(bytes));
  }

  unplug(): void {
    this.emit('error', new Error('could not read from HID device'));
  }

  close(): void {
    this.closed = true;
  }
}
