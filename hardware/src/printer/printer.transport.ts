import type { PrinterStatus } from './printer.status.ts';
import { TcpTransport, type TcpTransportOptions } from './tcp.transport.ts';
import { DeviceFileTransport, type DeviceFileTransportOptions } from './device-file.transport.ts';
import { SerialTransport, type SerialTransportOptions } from './serial.transport.ts';

/** How bytes reach one printer. Implementations never keep a job half-sent between calls. */
export interface PrinterTransport {
  /** Sends a whole print job; rejects with PrinterOfflineError when the printer cannot be reached. */
  write(bytes: Uint8Array): Promise<void>;
  /** Never rejects: an unreachable printer is `{ online: false }` with the reason in `error`. */
  status(): Promise<PrinterStatus>;
  close(): Promise<void>;
}

export type TransportConfig =
  | ({ kind: 'tcp' } & TcpTransportOptions)
  | ({ kind: 'file' } & DeviceFileTransportOptions)
  | ({ kind: 'serial' } & SerialTransportOptions);

export function createTransport(config: TransportConfig): PrinterTransport {
  switch (config.kind) {
    case 'tcp':
      return new TcpTransport(config);
    case 'file':
      return new DeviceFileTransport(config);
    case 'serial':
      return new SerialTransport(config);
    default: {
      const unknown: never = config;
      throw new Error(`unknown printer transport: ${JSON.stringify(unknown)}`);
    }
  }
}
