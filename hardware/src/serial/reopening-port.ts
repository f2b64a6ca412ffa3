// A serial port opened on first use and again after it closed (unplugged, powered off): the
// LED boards' RS-485 line (led/modbus.port.ts) and serial ticket printers
// (printer/serial.transport.ts). Callers at the same moment share one opening; a port that
// fails to open is tried again by the next caller. Port errors never throw from an event
// handler: they surface as the next failed write or request.

/** What both `serialport`'s SerialPort and `@serialport/stream`'s SerialPortStream offer. */
export interface OpenablePort {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  close(callback: (error?: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error' | 'close', listener: (...args: unknown[]) => void): this;
}

export class ReopeningSerialPort<P extends OpenablePort> {
  private port: P | null = null;
  private opening: Promise<P> | null = null;

  /** `create` makes the port object (not opened yet); `onData` gets what it receives. */
  constructor(private readonly create: () => Promise<P>, private readonly onData: (chunk: Buffer) => void) {}

  /** The open port, opening it first when needed. */
  open(): Promise<P> {
    if (this.port?.isOpen) return Promise.resolve(this.port);
    this.opening ??= (async () => {
      const port = await this.create();
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
      port.on('data', this.onData);
      port.on('error', () => {}); // surfaces as the next failed write or request; never crash
      port.on('close', () => {
        if (this.port === port) this.port = null;
      });
      this.port = port;
      return port;
    })().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** Closes the port, also one still opening; the next open() opens it again. */
  async close(): Promise<void> {
    const port = this.port ?? (await this.opening?.catch(() => null)) ?? null;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
