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
  /** resolves (and may refuse) the host name of each connection; the system resolver by default */
  lookup?: net.LookupFunction;
};

/** The most a printer sends during a status check: three replies and one ASB block, and a spare. */
const MAX_STATUS_BYTES = 8;

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
  private readonly lookup: net.LookupFunction | undefined;
  private readonly open = new Set<net.Socket>();
  private closed = false;

  constructor(options: TcpTransportOptions) {
    this.host = options.host;
    this.port = options.port ?? 9100;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 15_000;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 1000;
    this.lookup = options.lookup;
  }

  private connect(): Promise<net.Socket> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, ...(this.lookup ? { lookup: this.lookup } : {}) });
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
    // What the other end did besides answering. A printer keeps the connection open and sends
    // one byte per request (or nothing; an Automatic Status Back block adds four); another
    // service greets, replies in its own protocol, or hangs up. Text may hold bytes that look
    // like status bytes ("2" is 0x32), so it is told by its length, not by its bits.
    let received = 0;
    let hungUp = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      replies.push(chunk);
    });
    socket.on('error', (error) => (lost = error));
    socket.on('end', () => (hungUp = true));
    try {
      const status = await requestStatus(async (request, timeoutMs) => {
        if (lost) return null;
        replies.clear();
        socket.write(request);
        return replies.next(timeoutMs);
      }, this.statusTimeoutMs);
      // A silent printer still gets its ticket; a service that answered in some other way
      // gets nothing more, and counts as no printer there, like a closed port.
      if (received > MAX_STATUS_BYTES || (!status.answered && (hungUp || lost))) {
        return { online: false, paperOut: false, answered: false, error: `no ESC/POS printer answers at ${this.host}:${this.port}` };
      }
      return status;
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
