import net from 'node:net';
import { PrinterOfflineError, StatusReplyQueue, requestStatus, type PrinterStatus } from './printer.status.ts';
import type { PrinterTransport } from './printer.transport.ts';

export type TcpTransportOptions = {
  host: string;
  /** raw printing port, 9100 unless the printer was set otherwise */
  port?: number;
  connectTimeoutMs?: number;
  /** how long the printer may stop taking data before the job counts as failed */
  writeTimeoutMs?: number;
  /** how long to wait for each `DLE EOT` reply */
  statusTimeoutMs?: number;
};

/**
 * Raw TCP ("JetDirect", port 9100). Each job and each status check opens its own
 * connection: network printers drop idle connections and many accept only one at a time,
 * so a connection kept open all day would block the next job after the first hiccup.
 */
export class TcpTransport implements PrinterTransport {
  readonly host: string;
  readonly port: number;
  private readonly connectTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly statusTimeoutMs: number;
  private readonly open = new Set<net.Socket>();
  private closed = false;

  constructor(options: TcpTransportOptions) {
    this.host = options.host;
    this.port = options.port ?? 9100;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 15_000;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 1000;
  }

  private connect(): Promise<net.Socket> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new PrinterOfflineError(`cannot connect to printer ${this.host}:${this.port}: ${error.message}`));
      };
      const timer = setTimeout(() => fail(new Error(`no answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setNoDelay(true);
        resolve(socket);
      });
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const socket = await this.connect();
    await new Promise<void>((resolve, reject) => {
      let flushed = false;
      socket.setTimeout(this.writeTimeoutMs, () => {
        // Everything is with the OS once flushed; a printer that keeps the connection open
        // instead of closing it after our end-of-job must not make a printed ticket "fail".
        if (flushed) {
          socket.destroy();
          resolve();
        } else {
          socket.destroy(new Error(`printer ${this.host}:${this.port} stopped taking data for ${this.writeTimeoutMs} ms`));
        }
      });
      socket.on('error', reject);
      socket.on('data', () => {}); // replies to real-time bytes hidden in image data; not ours to read here
      socket.once('finish', () => (flushed = true));
      // The printer closing its side after our FIN is the best sign it has read everything.
      socket.once('close', (hadError) => {
        if (!hadError) resolve();
      });
      socket.end(bytes);
    });
  }

  async status(): Promise<PrinterStatus> {
    let socket: net.Socket;
    try {
      socket = await this.connect();
    } catch (error) {
      return { online: false, paperOut: false, answered: false, error: (error as Error).message };
    }
    const replies = new StatusReplyQueue();
    let lost: Error | null = null;
    socket.on('data', (chunk: Buffer) => replies.push(chunk));
    socket.on('error', (error) => (lost = error));
    try {
      return await requestStatus(async (request, timeoutMs) => {
        if (lost) return null;
        replies.clear();
        socket.write(request);
        return replies.next(timeoutMs);
      }, this.statusTimeoutMs);
    } finally {
      socket.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }
}
