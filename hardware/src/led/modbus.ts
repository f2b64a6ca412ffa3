// Modbus RTU frames for the counter LED boards: function 0x10 (Write Multiple Registers) and
// its replies, with the CRC-16/MODBUS check (polynomial 0xA001 reflected, initial 0xFFFF,
// sent low byte first). Pure functions: the bytes on the wire are testable without a port.

export const WRITE_MULTIPLE_REGISTERS = 0x10;
/** the spec's limit for one 0x10 request */
export const MAX_REGISTERS = 123;

export function crc16Modbus(bytes: Uint8Array, length = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < length; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** True when the last two bytes are the CRC of the rest (low byte first). */
export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const crc = crc16Modbus(frame, frame.length - 2);
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}

function withCrc(body: number[]): Uint8Array {
  const frame = new Uint8Array(body.length + 2);
  frame.set(body);
  const crc = crc16Modbus(frame, body.length);
  frame[body.length] = crc & 0xff;
  frame[body.length + 1] = crc >>> 8;
  return frame;
}

/**
 * `slave 10 start(2) quantity(2) byteCount values(2 each) crc(2)`, big-endian registers.
 * Slave 0 is the broadcast address (every board acts, none answers).
 */
export function writeMultipleRegisters(slave: number, start: number, values: readonly number[]): Uint8Array {
  if (!Number.isInteger(slave) || slave < 0 || slave > 247) throw new RangeError(`Modbus slave address ${slave} is not 0-247`);
  if (!Number.isInteger(start) || start < 0 || start > 0xffff) throw new RangeError(`register address ${start} is not 0-65535`);
  if (values.length < 1 || values.length > MAX_REGISTERS) throw new RangeError(`a 0x10 request writes 1-${MAX_REGISTERS} registers, not ${values.length}`);
  if (start + values.length > 0x10000) throw new RangeError('registers run past 65535');
  const body = [slave, WRITE_MULTIPLE_REGISTERS, start >> 8, start & 0xff, values.length >> 8, values.length & 0xff, values.length * 2];
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`register value ${v} is not 0-65535`);
    body.push(v >> 8, v & 0xff);
  }
  return withCrc(body);
}

export type ModbusReply =
  | { kind: 'incomplete' }
  | { kind: 'ok'; length: number }
  | { kind: 'exception'; code: number; length: number }
  | { kind: 'invalid'; reason: string; length: number };

const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'slave device failure', 6: 'slave device busy',
};
export const exceptionText = (code: number) => EXCEPTIONS[code] ?? `exception ${code}`;

/**
 * Reads the reply to a 0x10 request from the bytes received so far: the normal reply echoes
 * slave, function, start and quantity (8 bytes); an exception is `slave 0x90 code crc` (5).
 */
export function parseWriteReply(bytes: Uint8Array, request: { slave: number; start: number; quantity: number }): ModbusReply {
  if (bytes.length < 2) return { kind: 'incomplete' };
  if (bytes[0] !== request.slave) return { kind: 'invalid', reason: `reply from slave ${bytes[0]}, expected ${request.slave}`, length: bytes.length };
  if (bytes[1] === (WRITE_MULTIPLE_REGISTERS | 0x80)) {
    if (bytes.length < 5) return { kind: 'incomplete' };
    const frame = bytes.subarray(0, 5);
    if (!crcOk(frame)) return { kind: 'invalid', reason: 'bad CRC on exception reply', length: 5 };
    return { kind: 'exception', code: frame[2]!, length: 5 };
  }
  if (bytes[1] !== WRITE_MULTIPLE_REGISTERS) return { kind: 'invalid', reason: `reply with function 0x${bytes[1]!.toString(16)}`, length: bytes.length };
  if (bytes.length < 8) return { kind: 'incomplete' };
  const frame = bytes.subarray(0, 8);
  if (!crcOk(frame)) return { kind: 'invalid', reason: 'bad CRC', length: 8 };
  const start = (frame[2]! << 8) | frame[3]!;
  const quantity = (frame[4]! << 8) | frame[5]!;
  if (start !== request.start || quantity !== request.quantity) {
    return { kind: 'invalid', reason: `reply for registers ${start}+${quantity}, expected ${request.start}+${request.quantity}`, length: 8 };
  }
  return { kind: 'ok', length: 8 };
}
