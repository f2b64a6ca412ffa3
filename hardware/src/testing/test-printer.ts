import net from 'node:net';
import { decodeEscPos, type DecodedJob } from '../escpos/escpos.decode.ts';

/** What the pretend printer reports to `DLE EOT`. */
export type TestPrinterState = {
  online: boolean;
  paperOut: boolean;
  paperLow: boolean;
  coverOpen: boolean;
  /** a printer that never answers status requests (many cheap ones) */
  silent: boolean;
};

export type TestPrinter = {
  readonly host: string;
  readonly port: number;
  setState(change: Partial<TestPrinterState>): void;
  state(): TestPrinterState;
  /** every byte received, all connections in the order they were opened */
  received(): Uint8Array;
  /** bytes per connection, in the order the connections were opened */
  connections(): Uint8Array[];
  /** the received bytes read back as ESC/POS */
  decoded(): DecodedJob;
  /** resolves once `count` connections that carried bytes have ended (counting from start) */
  waitForJobs(count: number, timeoutMs?: number): Promise<void>;
  /** forget what was received; call it when no job is in flight */
  clear(): void;
  close(): Promise<void>;
};

const HEALTHY: TestPrinterState = { online: true, paperOut: false, paperLow: false, coverOpen: false, silent: false };

/** Status bytes as an Epson TM printer would send them (fixed bits 1 and 4 set). */
export function statusReply(n: number, state: TestPrinterState): number {
  const offline = !state.online || state.paperOut || state.coverOpen;
  switch (n) {
    case 1:
      return 0x12 | (offline ? 0x08 : 0);
    case 2:
      return 0x12 | (state.coverOpen ? 0x04 : 0) | (state.paperOut ? 0x20 : 0);
    case 4:
      return 0x12 | (state.paperLow || state.paperOut ? 0x0c : 0) | (state.paperOut ? 0x60 : 0);
    default:
      return 0x12;
  }
}

/**
 * A pretend network printer on 127.0.0.1 (raw port 9100 protocol on a free port). It keeps
 * every byte, answers `DLE EOT n` from a settable state, and closes its side when the client
 * ends a job, as real printers do. Like a real printer it answers real-time requests wherever
 * they appear in the stream, even inside image data.
 */
export async function startTestPrinter(initial: Partial<TestPrinterState> = {}): Promise<TestPrinter> {
  let state: TestPrinterState = { ...HEALTHY, ...initial };
  let chunks: Buffer[][] = [];
  let finishedJobs = 0;
  const waiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const mine: Buffer[] = [];
    chunks.push(mine);
    // The last two bytes of the previous chunk, so a request split across TCP segments counts.
    let tail = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      mine.push(chunk);
      const window = Buffer.concat([tail, chunk]);
      const replies: number[] = [];
      // The tail is shorter than a request, so no request is counted twice.
      for (let i = 0; i + 2 < window.length; i++) {
        if (window[i] === 0x10 && window[i + 1] === 0x04) replies.push(statusReply(window[i + 2]!, state));
      }
      tail = window.subarray(Math.max(0, window.length - 2));
      if (replies.length > 0 && !state.silent) socket.write(Buffer.from(replies));
    });
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      sockets.delete(socket);
      if (mine.length > 0) finishedJobs++;
      for (const wake of waiters) wake();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const all = () => Buffer.concat(chunks.flat());

  return {
    host: '127.0.0.1',
    port,
    setState(change) {
      state = { ...state, ...change };
    },
    state: () => ({ ...state }),
    received: () => new Uint8Array(all()),
    connections: () => chunks.map((parts) => new Uint8Array(Buffer.concat(parts))),
    decoded: () => decodeEscPos(all()),
    waitForJobs(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (finishedJobs < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`test printer: ${finishedJobs} of ${count} jobs after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    clear() {
      chunks = [];
      finishedJobs = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
