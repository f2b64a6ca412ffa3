import type { SerialPortStream, StreamOptions } from '@serialport/stream';
import { ReopeningSerialPort } from '../serial/reopening-port.ts';
import { exceptionText, parseWriteReply, writeMultipleRegisters } from './modbus.ts';

// One RS-485 line shared by the boards of a site: Modbus RTU is half-duplex with one master,
// so requests go one at a time, each waiting for its reply (or a timeout) and the line's
// silence before the next. A request that fails is retried; a port that cannot open is
// reopened on the next request. Nothing here throws past the promise of one request.

/** a serialport binding, e.g. @serialport/binding-mock's MockBinding */
export type SerialBinding = StreamOptions<any>['binding'];

export interface ModbusPortOptions {
  path: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** how long a board has to answer */
  responseTimeoutMs?: number;
  /** tries after the first */
  retries?: number;
  /** the serialport binding; the platform's own when absent (tests pass @serialport/binding-mock) */
  binding?: SerialBinding;
}

export class ModbusError extends Error {
  override name = 'ModbusError';
}

export class ModbusRtuPort {
  readonly path: string;
  private readonly baudRate: number;
  private readonly responseTimeoutMs: number;
  private readonly retries: number;
  /** 3.5 characters of silence end an RTU frame; at least 2 ms (many USB adapters need it) */
  private readonly silenceMs: number;
  private readonly port: ReopeningSerialPort<SerialPortStream>;
  private queue: Promise<unknown> = Promise.resolve();
  private received = new Uint8Array(0);
  private onData: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: ModbusPortOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 9600;
    this.responseTimeoutMs = options.responseTimeoutMs ?? 300;
    this.retries = options.retries ?? 2;
    this.silenceMs = Math.max(2, Math.ceil((3.5 * 11 * 1000) / this.baudRate));
    this.port = new ReopeningSerialPort(async () => {
      const settings = {
        path: this.path, baudRate: this.baudRate, dataBits: 8 as const, parity: this.options.parity ?? 'none',
        stopBits: this.options.stopBits ?? 1, autoOpen: false,
      };
      if (this.options.binding) {
        const { SerialPortStream } = await import('@serialport/stream');
        return new SerialPortStream({ ...settings, binding: this.options.binding });
      }
      // loaded on first use: the native binding is only needed where boards are
      const { SerialPort } = await import('serialport');
      return new SerialPort(settings);
    }, (chunk) => {
      const merged = new Uint8Array(this.received.length + chunk.length);
      merged.set(this.received);
      merged.set(chunk, this.received.length);
      this.received = merged;
      this.onData?.();
    });
  }

  /** Writes registers of one board; resolves when it confirmed (at once for broadcast 0). */
  writeRegisters(slave: number, start: number, values: number[]): Promise<void> {
    const frame = writeMultipleRegisters(slave, start, values);
    const run = async () => {
      let last: Error | null = null;
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        if (this.closed) throw new ModbusError('port closed');
        try {
          await this.exchange(frame, slave === 0 ? null : { slave, start, quantity: values.length });
          return;
        } catch (error) {
          last = error as Error;
        }
      }
      throw new ModbusError(`board ${slave} on ${this.path}: ${last?.message ?? 'no reply'} (after ${this.retries + 1} tries)`);
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.port.close();
  }

  private async exchange(frame: Uint8Array, expect: { slave: number; start: number; quantity: number } | null): Promise<void> {
    const port = await this.open();
    this.received = new Uint8Array(0);
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(frame), (error) => (error ? reject(error) : port.drain((e) => (e ? reject(e) : resolve()))));
    });
    if (expect) await this.reply(expect);
    await new Promise((resolve) => setTimeout(resolve, this.silenceMs));
  }

  private reply(expect: { slave: number; start: number; quantity: number }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.onData = null;
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => done(new ModbusError(`no reply within ${this.responseTimeoutMs} ms`)), this.responseTimeoutMs);
      this.onData = () => {
        const reply = parseWriteReply(this.received, expect);
        if (reply.kind === 'incomplete') return;
        if (reply.kind === 'ok') done();
        else if (reply.kind === 'exception') done(new ModbusError(`board answered ${exceptionText(reply.code)}`));
        else done(new ModbusError(reply.reason));
      };
      this.onData();
    });
  }

  private open(): Promise<SerialPortStream> {
    return this.port.open().catch((error: Error) => {
      throw new ModbusError(`cannot open ${this.path}: ${error.message}`);
    });
  }
}
