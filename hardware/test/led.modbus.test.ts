import { MockBinding } from '../src/testing/mock-serial.ts';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDeviceApi } from '../src/agent/peripheral.ts';
import { PeripheralConfigError } from '../src/agent/peripherals.ts';
import { codeToRegisters } from '../src/led/led.layout.ts';
import { createLedPeripheral, LedBoards, parseLedConfig } from '../src/led/led.peripheral.ts';
import { crc16Modbus, crcOk, parseWriteReply, writeMultipleRegisters } from '../src/led/modbus.ts';
import { ModbusRtuPort } from '../src/led/modbus.port.ts';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).map((b) => Number.parseInt(b, 16)));
const show = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');

describe('Modbus RTU frames', () => {
  it('builds the Modbus spec example of Write Multiple Registers with its CRC', () => {
    // Modbus Application Protocol v1.1b3, 6.12: registers 2-3 (address 1) := 0x000A, 0x0102, slave 1
    expect(show(writeMultipleRegisters(1, 1, [0x000a, 0x0102]))).toBe('01 10 00 01 00 02 04 00 0A 01 02 92 30');
  });

  it('computes CRC-16/MODBUS of other known frames (low byte sent first)', () => {
    expect(crc16Modbus(hex('01 03 00 00 00 01'))).toBe(0x0a84); // read one holding register: ... 84 0A
    expect(crc16Modbus(hex('01 10 00 01 00 02'))).toBe(0x0810); // the reply to the spec example: ... 10 08
    expect(crcOk(hex('01 10 00 01 00 02 10 08'))).toBe(true);
    expect(crcOk(hex('01 10 00 01 00 02 08 10'))).toBe(false);
  });

  it('refuses what a frame cannot carry', () => {
    expect(() => writeMultipleRegisters(248, 0, [1])).toThrow(RangeError);
    expect(() => writeMultipleRegisters(1, 0, [])).toThrow(RangeError);
    expect(() => writeMultipleRegisters(1, 0, new Array(124).fill(0))).toThrow(RangeError);
    expect(() => writeMultipleRegisters(1, 0, [0x10000])).toThrow(RangeError);
    expect(() => writeMultipleRegisters(1, 0xffff, [1, 2])).toThrow(RangeError);
  });

  it('reads replies: the echo, an exception, a bad CRC, another slave, and partial bytes', () => {
    const request = { slave: 1, start: 1, quantity: 2 };
    expect(parseWriteReply(hex('01 10 00 01 00 02 10 08'), request)).toEqual({ kind: 'ok', length: 8 });
    expect(parseWriteReply(hex('01 10 00 01'), request)).toEqual({ kind: 'incomplete' });
    expect(parseWriteReply(hex('01 10 00 01 00 02 10 09'), request)).toMatchObject({ kind: 'invalid', reason: 'bad CRC' });
    expect(parseWriteReply(hex('02 10 00 01 00 02 10 08'), request)).toMatchObject({ kind: 'invalid' });
    expect(parseWriteReply(hex('01 10 00 01 00 03 D1 C9'), request)).toMatchObject({ kind: 'invalid' });
    const exception = [0x01, 0x90, 0x02];
    const c = crc16Modbus(Uint8Array.from(exception));
    expect(parseWriteReply(Uint8Array.from([...exception, c & 0xff, c >> 8]), request)).toEqual({ kind: 'exception', code: 2, length: 5 });
  });
});

describe('LED register layout', () => {
  const text = { numericOnly: false, registers: 4, blankValue: 0 };
  it('text boards: two ASCII characters per register, high byte first, padded with spaces', () => {
    expect(codeToRegisters('A023', text)).toEqual([0x4130, 0x3233, 0x2020, 0x2020]);
    expect(codeToRegisters(null, text)).toEqual([0x2020, 0x2020, 0x2020, 0x2020]);
    expect(codeToRegisters('b7', { ...text, registers: 1 })).toEqual([0x4237]);
    expect(codeToRegisters('ƯU01', { ...text, registers: 2 })).toEqual([0x3f55, 0x3031]);
  });
  it('numeric boards: the digits as one binary register; blank value when cleared', () => {
    const numeric = { numericOnly: true, registers: 1, blankValue: 0xffff };
    expect(codeToRegisters('A023', numeric)).toEqual([23]);
    expect(codeToRegisters('B1234', numeric)).toEqual([1234]);
    expect(codeToRegisters(null, numeric)).toEqual([0xffff]);
  });
});

// ---- the port, on @serialport/binding-mock ---------------------------------------------

type Reply = 'echo' | 'silent' | 'exception' | 'bad-crc';

/** Mock binding whose slaves answer as told, recording each request. */
function boards(behaviour: (slave: number, attempt: number) => Reply, frames: Uint8Array[]) {
  const attempts = new Map<number, number>();
  return {
    ...MockBinding,
    async open(options: Parameters<typeof MockBinding.open>[0]) {
      const port = await MockBinding.open(options);
      const write = port.write.bind(port);
      port.write = async (buffer: Buffer) => {
        await write(buffer);
        frames.push(Uint8Array.from(buffer));
        const slave = buffer[0]!;
        const n = (attempts.get(slave) ?? 0) + 1;
        attempts.set(slave, n);
        const how = behaviour(slave, n);
        if (how === 'silent') return;
        let reply: number[];
        if (how === 'exception') reply = [slave, 0x90, 0x04];
        else reply = Array.from(buffer.subarray(0, 6));
        const c = crc16Modbus(Uint8Array.from(reply));
        const bytes = [...reply, c & 0xff, c >> 8];
        if (how === 'bad-crc') bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
        // split in two, as a slow line delivers it
        setTimeout(() => port.emitData(Buffer.from(bytes.slice(0, 3))), 2);
        setTimeout(() => port.emitData(Buffer.from(bytes.slice(3))), 6);
      };
      return port;
    },
  } as never;
}

afterEach(() => MockBinding.reset());

describe('ModbusRtuPort on a mocked serial port', () => {
  it('writes one frame at a time and resolves on the echo', async () => {
    MockBinding.createPort('/dev/ttyMB0', { echo: false, record: true });
    const frames: Uint8Array[] = [];
    const port = new ModbusRtuPort({ path: '/dev/ttyMB0', baudRate: 19200, binding: boards(() => 'echo', frames) });
    await Promise.all([port.writeRegisters(1, 1, [0x000a, 0x0102]), port.writeRegisters(2, 0, [0x4130])]);
    expect(frames.map(show)).toEqual(['01 10 00 01 00 02 04 00 0A 01 02 92 30', show(writeMultipleRegisters(2, 0, [0x4130]))]);
    await port.close();
  });

  it('retries a board that stays silent or answers garbage, then gives up with a clear error', async () => {
    MockBinding.createPort('/dev/ttyMB1', { echo: false, record: true });
    const frames: Uint8Array[] = [];
    const port = new ModbusRtuPort({
      path: '/dev/ttyMB1', responseTimeoutMs: 50, retries: 2,
      binding: boards((slave, n) => (slave === 3 ? 'silent' : slave === 4 ? (n === 1 ? 'bad-crc' : 'echo') : 'exception'), frames),
    });
    await expect(port.writeRegisters(3, 0, [1])).rejects.toThrow(/board 3 on \/dev\/ttyMB1: no reply within 50 ms \(after 3 tries\)/);
    expect(frames).toHaveLength(3);
    await expect(port.writeRegisters(4, 0, [1])).resolves.toBeUndefined(); // bad CRC, then fine
    await expect(port.writeRegisters(5, 0, [1])).rejects.toThrow(/slave device failure/);
    await port.close();
  });

  it('a missing port fails the request, not the process, and works once it appears', async () => {
    const frames: Uint8Array[] = [];
    const port = new ModbusRtuPort({ path: '/dev/ttyMB9', retries: 0, binding: boards(() => 'echo', frames) });
    await expect(port.writeRegisters(1, 0, [1])).rejects.toThrow(/cannot open \/dev\/ttyMB9/);
    MockBinding.createPort('/dev/ttyMB9', { echo: false, record: true });
    await expect(port.writeRegisters(1, 0, [1])).resolves.toBeUndefined();
    expect(frames).toHaveLength(1);
    await port.close();
  });
});

// ---- the peripheral, fed events as the agent would -------------------------------------

function fakeApi() {
  const listeners = new Map<string, Set<(p: any) => void>>();
  const logs: Array<{ level: string; obj: object; msg?: string }> = [];
  const api: AgentDeviceApi = {
    device: { id: 'd', kind: 'display', siteId: 's', counterId: null },
    request: async () => ({ status: 200, body: null }),
    on: (event, listener) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      return () => listeners.get(event)!.delete(listener);
    },
    log: { info: (obj, msg) => logs.push({ level: 'info', obj, msg }), warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }), error: (obj, msg) => logs.push({ level: 'error', obj, msg }) },
  };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload));
  return { api, emit, logs, listeners };
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const ticket = (id: string, code: string, status = 'called') => ({ id, code, status });
const counters = (c1?: object) => ({ counters: [{ counterId: 'c1', number: 1, status: 'open', ...(c1 ? { ticket: c1 } : {}) }, { counterId: 'c2', number: 2, status: 'open' }] });

describe('led-modbus peripheral', () => {
  it('checks its config with clear errors', () => {
    expect(() => parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', boards: [] })).toThrow(PeripheralConfigError);
    expect(() => parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', boards: [{ address: 1 }] })).toThrow(/exactly one of "counter"/);
    expect(() => parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', boards: [{ counter: 1, address: 1 }, { counter: 2, address: 1 }] })).toThrow(/address 1 is used twice/);
    expect(() => parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', boards: [{ counter: 1, address: 300 }] })).toThrow(/address/);
    expect(() => parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', baud: 9600, boards: [{ counter: 1, address: 1 }] })).toThrow(/unknown field.*baud/);
    expect(parseLedConfig({ type: 'led-modbus', path: '/dev/ttyUSB0', boards: [{ counterId: 'abc', address: 7 }] }).boards).toEqual([{ counterId: 'abc', address: 7 }]);
  });

  it('shows calls and recalls, clears on finish and close, re-syncs from snapshots; numeric boards get the digits', async () => {
    MockBinding.createPort('/dev/ttyLED', { echo: false, record: true });
    const frames: Uint8Array[] = [];
    const { api, emit } = fakeApi();
    const leds = createLedPeripheral({
      type: 'led-modbus', path: '/dev/ttyLED', numericOnly: true, blankValue: 0xffff, startRegister: 0x10,
      boards: [{ counter: 1, address: 1 }, { counter: 2, address: 2 }],
    }, api, { binding: boards(() => 'echo', frames) }) as LedBoards;
    await leds.start();
    const last = (slave: number) => frames.filter((f) => f[0] === slave).at(-1);
    const value = (frame: Uint8Array | undefined) => (frame ? (frame[7]! << 8) | frame[8]! : undefined);

    emit('queue:snapshot', counters(ticket('t0', 'A007', 'serving')));
    await until(() => frames.length === 2);
    expect(show(last(1)!)).toBe(show(writeMultipleRegisters(1, 0x10, [7])));
    expect(value(last(2))).toBe(0xffff);

    emit('ticket:called', { ticket: ticket('t1', 'B042'), counter: { id: 'c2', number: 2, name: 'Quầy 2' }, recall: false });
    await until(() => value(last(2)) === 42);
    const count = frames.length;
    emit('ticket:called', { ticket: ticket('t1', 'B042'), counter: { id: 'c2', number: 2, name: 'Quầy 2' }, recall: true });
    await until(() => frames.length === count + 1); // a recall writes again
    expect(value(last(2))).toBe(42);

    emit('ticket:updated', { ticket: ticket('t1', 'B042', 'serving') });
    emit('ticket:updated', { ticket: ticket('t9', 'C001', 'done') }); // not on a board
    await new Promise((r) => setTimeout(r, 50));
    expect(frames.length).toBe(count + 1);
    emit('ticket:updated', { ticket: ticket('t1', 'B042', 'done') });
    await until(() => value(last(2)) === 0xffff);
    emit('counter:updated', { counter: { id: 'c1', number: 1, status: 'closed' } });
    await until(() => value(last(1)) === 0xffff);
    expect(leds.shown()).toEqual([{ address: 1, code: null }, { address: 2, code: null }]);
    await leds.stop();
  });

  it('a board that does not answer is retried later and never holds up the others', async () => {
    MockBinding.createPort('/dev/ttyLED2', { echo: false, record: true });
    const frames: Uint8Array[] = [];
    let dead = true;
    const { api, emit, logs } = fakeApi();
    const leds = createLedPeripheral({
      type: 'led-modbus', path: '/dev/ttyLED2', responseTimeoutMs: 30, retries: 1, retryAfterMs: 150,
      boards: [{ counter: 1, address: 1 }, { counter: 2, address: 2 }],
    }, api, { binding: boards((slave) => (slave === 1 && dead ? 'silent' : 'echo'), frames) });
    await leds.start();
    emit('ticket:called', { ticket: ticket('t1', 'A001'), counter: { id: 'c1', number: 1, name: '1' }, recall: false });
    emit('ticket:called', { ticket: ticket('t2', 'A002'), counter: { id: 'c2', number: 2, name: '2' }, recall: false });
    await until(() => frames.some((f) => f[0] === 2));
    expect(logs.some((l) => l.level === 'warn' && (l.obj as { address?: number }).address === 1)).toBe(true);
    dead = false;
    const before = frames.length;
    await until(() => frames.length > before && frames.at(-1)![0] === 1, 2000);
    expect(String.fromCharCode(...frames.at(-1)!.subarray(7, 15))).toBe('A001    ');
    await leds.stop();
  });
});
