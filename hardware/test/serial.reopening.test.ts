import { SerialPortStream } from '@serialport/stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ReopeningSerialPort } from '../src/serial/reopening-port.ts';
import { MockBinding } from '../src/testing/mock-serial.ts';

// The serial port of the LED boards and of serial printers, opened on first use and again
// after it closed, on @serialport/binding-mock (a port that exists or not, like a USB adapter
// plugged in or pulled out).

afterEach(() => MockBinding.reset());

function reopening(path: string) {
  let created = 0;
  const received: string[] = [];
  const port = new ReopeningSerialPort(async () => {
    created++;
    return new SerialPortStream({ binding: MockBinding, path, baudRate: 9600, autoOpen: false });
  }, (chunk) => received.push(chunk.toString()));
  return { port, received, created: () => created };
}

describe('ReopeningSerialPort', () => {
  it('opens once for callers at the same moment, and hands what arrives to onData', async () => {
    MockBinding.createPort('/dev/ttyMOCK0', { echo: true });
    const r = reopening('/dev/ttyMOCK0');
    const [a, b, c] = await Promise.all([r.port.open(), r.port.open(), r.port.open()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(r.created()).toBe(1);
    await new Promise<void>((resolve, reject) => a.write('A001', (error) => (error ? reject(error) : resolve())));
    await expect.poll(() => r.received.join('')).toBe('A001');
    expect(await r.port.open()).toBe(a);
    await r.port.close();
  });

  it('opens again after the port closed, and retries a port that could not be opened', async () => {
    const r = reopening('/dev/ttyMOCK1');
    await expect(r.port.open()).rejects.toThrow(/ttyMOCK1/); // not plugged in
    MockBinding.createPort('/dev/ttyMOCK1');
    const first = await r.port.open(); // plugged in: the next caller opens it
    await new Promise<void>((resolve) => first.close(() => resolve())); // pulled out
    const second = await r.port.open();
    expect(second).not.toBe(first);
    expect(second.isOpen).toBe(true);
    expect(r.created()).toBe(3);
    await r.port.close();
    expect(second.isOpen).toBe(false);
  });
});
