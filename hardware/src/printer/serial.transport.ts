import type { SerialPort } from 'serialport';
import { ReopeningSerialPort } from '../serial/reopening-port.ts';
import { PrinterOfflineError, StatusReplyQueue, requestStatus, type PrinterStatus } from './printer.status.ts';
import type { PrinterTransport } from './printer.transport.ts';

export type SerialTransportOptions = {
  /** e.g. /dev/ttyUSB0, /dev/ttyS0 */
  path: string;
  /** must match the printer's setting (its self-test page shows it); 9600 when absent */
  baudRate?: number;
  /**
   * hardware flow control; XON/XOFF is never offered because 0x11 and 0x13 occur in image
   * data and would stall or corrupt the job
   */
  rtscts?: boolean;
  statusTimeoutMs?: number;
  /** allowance for a stalled printer, on top of the time the bytes need at this baud rate */
  writeTimeoutMs?: number;
};

/**
 * A printer on a serial line. Unlike TCP the port stays open between jobs: opening resets
 * some USB-serial adapters, and nothing else may share the line anyway.
 */
export class SerialTransport implements PrinterTransport {
  readonly path: string;
  readonly baudRate: number;
  private readonly rtscts: boolean;
  private readonly statusTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly replies = new StatusReplyQueue();
  private readonly port: ReopeningSerialPort<SerialPort>;

  constructor(options: SerialTransportOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 9600;
    this.rtscts = options.rtscts ?? false;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 500;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 15_000;
    this.port = new ReopeningSerialPort(async () => {
      // Loaded on first use: the native binding is only needed where a serial printer is.
      const { SerialPort } = await import('serialport');
      return new SerialPort({ path: this.path, baudRate: this.baudRate, rtscts: this.rtscts, autoOpen: false });
    }, (chunk) => this.replies.push(chunk));
  }

  private openPort(): Promise<SerialPort> {
    return this.port.open().catch((error: Error) => {
      throw new PrinterOfflineError(`cannot open serial printer ${this.path}: ${error.message}`);
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = await this.openPort();
    // A 60 KB ticket image needs a minute at 9600 baud (10 bits a byte on the line), so the
    // time the line itself needs comes on top of the allowance for a stalled printer.
    const timeoutMs = this.writeTimeoutMs + Math.ceil((bytes.length * 10 * 1000) / this.baudRate);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serial printer ${this.path} did not take ${bytes.length} bytes within ${timeoutMs} ms`)), timeoutMs);
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => {
        if (error) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        // drain: wait until the bytes have left the UART, not just our buffer
        port.drain((drainError) => {
          clearTimeout(timer);
          if (drainError) reject(drainError);
          else resolve();
        });
      });
    });
  }

  async status(): Promise<PrinterStatus> {
    let port: SerialPort;
    try {
      port = await this.openPort();
    } catch (error) {
      return { online: false, paperOut: false, answered: false, error: (error as Error).message };
    }
    return requestStatus(async (request, timeoutMs) => {
      this.replies.clear();
      await new Promise<void>((resolve, reject) => port.write(Buffer.from(request), (error) => (error ? reject(error) : resolve())));
      return this.replies.next(timeoutMs);
    }, this.statusTimeoutMs).catch((error: Error) => ({ online: false, paperOut: false, answered: false, error: error.message }));
  }

  close(): Promise<void> {
    return this.port.close();
  }
}
