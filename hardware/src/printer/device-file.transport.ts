import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrinterOfflineError, isStatusByte, requestStatus, type PrinterStatus } from './printer.status.ts';
import type { PrinterTransport } from './printer.transport.ts';

export type DeviceFileTransportOptions = {
  /** e.g. /dev/usb/lp0 (Linux usblp), /dev/lp0 (parallel), or a plain file for tests */
  path: string;
  /** how long to wait for each `DLE EOT` reply from a character device */
  statusTimeoutMs?: number;
  /** a USB printer out of paper can block a write for good; give up waiting after this */
  writeTimeoutMs?: number;
};

const OFFLINE_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENODEV', 'ENXIO', 'EBUSY']);

function describe(path: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return `printer device ${path} is not there (unplugged or switched off?)`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write ${path} (add the service user to group lp)`;
    case 'EBUSY':
      return `printer device ${path} is in use by another program`;
    default:
      return `printer device ${path}: ${error.message}`;
  }
}

/**
 * A printer seen as a file: the kernel's usblp or parallel driver. Opened per job and never
 * created: a missing /dev/usb/lp0 must not silently turn into a regular file that swallows
 * tickets.
 */
export class DeviceFileTransport implements PrinterTransport {
  readonly path: string;
  private readonly statusTimeoutMs: number;
  private readonly writeTimeoutMs: number;

  constructor(options: DeviceFileTransportOptions) {
    this.path = options.path;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 500;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 15_000;
  }

  private fail(error: unknown): never {
    const e = error as NodeJS.ErrnoException;
    if (e.code && OFFLINE_CODES.has(e.code)) throw new PrinterOfflineError(describe(this.path, e));
    throw error;
  }

  async write(bytes: Uint8Array): Promise<void> {
    const handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND).catch((error) => this.fail(error));
    let timer: NodeJS.Timeout | undefined;
    try {
      const writing = handle.write(bytes).then(({ bytesWritten }) => {
        if (bytesWritten !== bytes.length) throw new Error(`short write to ${this.path}: ${bytesWritten} of ${bytes.length} bytes`);
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.path} took no data for ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
      });
      await Promise.race([writing, timeout]).catch((error) => this.fail(error));
    } finally {
      clearTimeout(timer);
      await handle.close().catch(() => {});
    }
  }

  async status(): Promise<PrinterStatus> {
    let info: Stats;
    try {
      info = await stat(this.path);
      // May we write it? Opened, not access(2), which asks for the real user rather than the
      // one the agent writes as. (A character device is opened read-write below anyway; a
      // directory is refused by the write, as not a printer.)
      if (info.isFile()) await (await open(this.path, constants.O_WRONLY | constants.O_NONBLOCK)).close();
    } catch (error) {
      return { online: false, paperOut: false, answered: false, error: describe(this.path, error as NodeJS.ErrnoException) };
    }
    if (!info.isCharacterDevice()) {
      // A plain file or a pipe cannot answer; writing DLE EOT into it would only add junk.
      return { online: true, paperOut: false, answered: false };
    }
    let handle;
    try {
      // Non-blocking, so a printer that never answers cannot hold a libuv thread for good.
      handle = await open(this.path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (error) {
      return { online: false, paperOut: false, answered: false, error: describe(this.path, error as NodeJS.ErrnoException) };
    }
    const buffer = new Uint8Array(32);
    try {
      return await requestStatus(async (request, timeoutMs) => {
        await handle.write(request);
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK') return { bytesRead: 0 };
            throw error;
          });
          for (let i = 0; i < bytesRead; i++) if (isStatusByte(buffer[i]!)) return buffer[i]!;
          await sleep(20);
        }
        return null;
      }, this.statusTimeoutMs);
    } catch (error) {
      return { online: false, paperOut: false, answered: false, error: describe(this.path, error as NodeJS.ErrnoException) };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    // Nothing stays open between jobs.
  }
}
