import { statusRequest } from '../escpos/escpos.encode.ts';

export type PrinterStatus = {
  online: boolean;
  paperOut: boolean;
  paperLow?: boolean;
  coverOpen?: boolean;
  /** why the printer is offline or failing, for the log and the technician */
  error?: string;
  /**
   * false when the printer was reachable but did not answer `DLE EOT` (many USB-only and
   * bargain printers never do): `online` then only means "the connection opened".
   */
  answered?: boolean;
};

/** Raw `DLE EOT n` reply bytes, by n. */
export type StatusReplies = {
  /** n = 1, printer status */
  printer?: number;
  /** n = 2, offline cause */
  offlineCause?: number;
  /** n = 4, roll paper sensor */
  paper?: number;
};

/**
 * Every `DLE EOT` reply has bit 1 and bit 4 set and bits 0 and 7 clear. Checking that tells
 * a status byte from stray bytes, such as Automatic Status Back blocks (bit 1 clear) or the
 * reply to an old request that arrived late.
 */
export function isStatusByte(value: number): boolean {
  return (value & 0x93) === 0x12;
}

export function parseStatus(replies: StatusReplies): PrinterStatus {
  const { printer, offlineCause, paper } = replies;
  const status: PrinterStatus = { online: true, paperOut: false, answered: printer !== undefined };
  if (printer !== undefined) status.online = (printer & 0x08) === 0;
  if (offlineCause !== undefined) {
    status.coverOpen = (offlineCause & 0x04) !== 0;
    if (offlineCause & 0x20) status.paperOut = true; // printing stopped at paper end
    if (offlineCause & 0x40) status.error = 'the printer reports an error (cutter jam, head overheated or similar)';
  }
  if (paper !== undefined) {
    // Epson sets both bits of a pair (2+3 near end, 5+6 end); each pair is one sensor.
    status.paperLow = (paper & 0x0c) === 0x0c;
    if ((paper & 0x60) === 0x60) status.paperOut = true;
  }
  if (status.paperOut) status.paperLow = true;
  if (!status.online && !status.error) {
    status.error = status.paperOut ? 'out of paper' : status.coverOpen ? 'cover open' : 'the printer reports offline';
  }
  return status;
}

/** Sends one request and waits for a valid status byte; null when none came in time. */
export type StatusExchange = (request: Uint8Array, timeoutMs: number) => Promise<number | null>;

/**
 * Asks for printer status, offline cause and paper sensor in turn. A printer that does not
 * answer the first request is not asked the rest: a late reply to one request must never
 * be read as the answer to the next.
 */
export async function requestStatus(exchange: StatusExchange, timeoutMs: number): Promise<PrinterStatus> {
  const printer = await exchange(statusRequest(1), timeoutMs);
  if (printer === null) return { online: true, paperOut: false, answered: false };
  const replies: StatusReplies = { printer };
  const offlineCause = await exchange(statusRequest(2), timeoutMs);
  if (offlineCause !== null) replies.offlineCause = offlineCause;
  const paper = await exchange(statusRequest(4), timeoutMs);
  if (paper !== null) replies.paper = paper;
  return parseStatus(replies);
}

/**
 * Collects bytes a printer sends back and hands out status bytes one at a time. Bytes that
 * cannot be a status reply are dropped.
 */
export class StatusReplyQueue {
  private bytes: number[] = [];
  private waiter: ((value: number) => void) | null = null;

  push(chunk: Uint8Array): void {
    for (const value of chunk) {
      if (!isStatusByte(value)) continue;
      if (this.waiter) {
        const resolve = this.waiter;
        this.waiter = null;
        resolve(value);
      } else {
        this.bytes.push(value);
      }
    }
  }

  /** Forget anything that arrived before the request about to be sent. */
  clear(): void {
    this.bytes = [];
  }

  next(timeoutMs: number): Promise<number | null> {
    const queued = this.bytes.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
  }
}

/** Thrown by transports when the printer cannot be reached at all (not there, no permission). */
export class PrinterOfflineError extends Error {
  override readonly name = 'PrinterOfflineError';
}
