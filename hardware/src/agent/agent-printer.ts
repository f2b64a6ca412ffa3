import type { PrintJob, PrintJobResult } from '@qms/protocol';
import { printTicket } from '../printer/printer.print.ts';
import type { PrinterStatus } from '../printer/printer.status.ts';
import { createTransport, type PrinterTransport } from '../printer/printer.transport.ts';
import { renderTicket } from '../ticket/ticket.render.ts';
import type { TicketPrintData } from '../ticket/ticket.text.ts';
import type { PrinterConfig } from './config.ts';
import type { AgentLogger } from './log.ts';

// The kiosk PC's own printer (USB device file, serial line, or a network printer the server
// cannot reach): renders and sends the tickets the server hands over, one at a time, and
// reads the printer's state between tickets. Never throws: every failure is an answer.

export type PrinterState = 'ready' | 'paper_low' | 'paper_out' | 'offline' | 'error';

export interface PrinterStateReport {
  state: PrinterState;
  message?: string;
  printer: string;
}

export function describeAgentPrinter(config: PrinterConfig): string {
  switch (config.kind) {
    case 'device-file':
      return `usb ${config.path}`;
    case 'serial':
      return `serial ${config.path}@${config.baudRate ?? 9600}`;
    case 'tcp':
      return `tcp ${config.host}:${config.port ?? 9100}`;
  }
}

export function transportFor(config: PrinterConfig): PrinterTransport {
  switch (config.kind) {
    case 'device-file':
      return createTransport({ kind: 'file', path: config.path });
    case 'serial':
      return createTransport({ kind: 'serial', path: config.path, baudRate: config.baudRate ?? 9600, rtscts: config.rtscts ?? false });
    case 'tcp':
      return createTransport({ kind: 'tcp', host: config.host, port: config.port ?? 9100, connectTimeoutMs: 2000, statusTimeoutMs: 800, writeTimeoutMs: 10_000 });
  }
}

export function stateOf(status: PrinterStatus): { state: PrinterState; message?: string } {
  if (status.paperOut) return { state: 'paper_out', message: status.error ?? 'out of paper' };
  if (status.coverOpen) return { state: 'error', message: status.error ?? 'cover open' };
  if (!status.online) return { state: 'offline', message: status.error ?? 'printer offline' };
  if (status.paperLow) return { state: 'paper_low', message: 'paper running low' };
  return { state: 'ready' };
}

/** The job's ticket as the renderer wants it; null when the job is not one. */
export function ticketOf(job: unknown): TicketPrintData | null {
  const t = (job as Partial<PrintJob> | null)?.ticket;
  if (!t || typeof t !== 'object') return null;
  const issuedAt = new Date(t.issuedAt as string);
  if (typeof t.code !== 'string' || typeof t.url !== 'string' || typeof t.centreName !== 'string' || Number.isNaN(issuedAt.getTime())) return null;
  if (!t.serviceName || typeof t.serviceName.vi !== 'string' || typeof t.serviceName.en !== 'string') return null;
  return {
    centreName: t.centreName,
    serviceName: t.serviceName,
    code: t.code,
    peopleAhead: Number.isInteger(t.peopleAhead) ? t.peopleAhead! : 0,
    estimatedWaitSeconds: typeof t.estimatedWaitSeconds === 'number' ? t.estimatedWaitSeconds : null,
    ...(t.noCounterOpen === true ? { noCounterOpen: true } : {}),
    issuedAt,
    ...(typeof t.timeZone === 'string' ? { timeZone: t.timeZone } : {}),
    url: t.url,
    ...(t.priorityLabel && typeof t.priorityLabel.vi === 'string' ? { priorityLabel: t.priorityLabel } : {}),
    ...bookingOf(t.booking),
  };
}

/** The booking mark of a job, when it has a readable one (an older server sends none). */
function bookingOf(booking: unknown): { booking: NonNullable<TicketPrintData['booking']> } | Record<string, never> {
  const b = booking as { kind?: unknown; slotAt?: unknown } | null | undefined;
  if (!b || (b.kind !== 'slot' && b.kind !== 'remote') || typeof b.slotAt !== 'string') return {};
  const slotAt = new Date(b.slotAt);
  return Number.isNaN(slotAt.getTime()) ? {} : { booking: { kind: b.kind, slotAt } };
}

export class AgentPrinter {
  readonly description: string;
  private readonly transport: PrinterTransport;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly config: PrinterConfig, private readonly log: AgentLogger, transport?: PrinterTransport) {
    this.description = describeAgentPrinter(config);
    this.transport = transport ?? transportFor(config);
  }

  /** Draws a sample once, so the first citizen does not wait for the fonts to load. */
  async warmUp(): Promise<void> {
    try {
      await renderTicket({
        centreName: 'QMS', serviceName: { vi: 'Khởi động', en: 'Warm-up' }, code: 'A000', peopleAhead: 0,
        estimatedWaitSeconds: null, issuedAt: new Date(), url: 'http://localhost/t/warm-up',
      }, this.config.widthDots ? { widthDots: this.config.widthDots } : {});
    } catch (error) {
      this.log.warn({ err: error }, 'cannot draw a sample ticket');
    }
  }

  /** Prints one job (after any before it) and says how it went. */
  print(job: unknown): Promise<PrintJobResult> {
    return this.serial(async () => {
      const data = ticketOf(job);
      if (!data) return { status: 'failed', reason: 'error', message: 'the print job is not a ticket', printer: this.description };
      const started = Date.now();
      const result = await printTicket(this.transport, data, this.config.widthDots ? { widthDots: this.config.widthDots } : {})
        .catch((error: Error) => ({ ok: false as const, reason: 'error' as const, message: error.message }));
      const jobId = (job as PrintJob).jobId;
      if (result.ok) {
        this.log.info({ jobId, code: data.code, ms: Date.now() - started, paperLow: !!result.paperLow }, 'ticket printed');
        return { status: 'sent', ...(result.paperLow ? { paperLow: true } : {}), printer: this.description };
      }
      this.log.warn({ jobId, code: data.code, reason: result.reason, message: result.message }, 'ticket not printed');
      return { status: 'failed', reason: result.reason, message: result.message, printer: this.description };
    });
  }

  /** The printer's state now (waits for a job in progress: they share the line). */
  status(): Promise<PrinterStateReport> {
    return this.serial(async () => {
      const status = await this.transport.status().catch((error: Error): PrinterStatus => ({ online: false, paperOut: false, error: error.message }));
      return { ...stateOf(status), printer: this.description };
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    await this.transport.close().catch(() => {});
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}
