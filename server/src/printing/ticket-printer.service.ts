import { printTicket, TcpTransport, type PrinterTransport, type PrintResult, type TicketPrintData } from '@qms/hardware';
import type { Db } from '@qms/db';
import type { Ticket } from '@qms/protocol';
import { describePrinter, printerOf, type TcpPrinter } from './printer.config.ts';

// Prints the tickets of kiosks that have a network printer. The ticket exists whatever the
// printer does: printing happens after the issue committed, never throws, and a failure
// becomes an alert for staff and a reason the kiosk can explain to the citizen.

export type PrintFailure = 'paper_out' | 'offline' | 'error' | 'timeout';

/** What the issue reply says about the paper ticket (extension field `print`). */
export interface PrintOutcome {
  status: 'sent' | 'failed' | 'none';
  reason?: PrintFailure;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

export interface TicketPrinterOptions {
  db: Db;
  log?: Logger;
  /**
   * How long an issue waits for its ticket to reach the printer before answering. A printer
   * on the LAN takes well under a second; one that stops answering must not hold the kiosk.
   */
  waitMs?: number;
  /** how bytes reach a printer; tests may pass their own */
  transport?: (printer: TcpPrinter) => PrinterTransport;
  now?: () => Date;
}

/** Alerts about one printer within this window are one alert (with a count), not a flood. */
const ALERT_MERGE_MS = 60 * 60_000;

const defaultTransport = (printer: TcpPrinter): PrinterTransport =>
  new TcpTransport({ host: printer.host, port: printer.port ?? 9100, connectTimeoutMs: 2000, statusTimeoutMs: 800, writeTimeoutMs: 10_000 });

export class TicketPrinter {
  private readonly db: Db;
  private readonly log: Logger | undefined;
  private readonly waitMs: number;
  private readonly transport: (printer: TcpPrinter) => PrinterTransport;
  private readonly now: () => Date;
  /** one job at a time per printer: many network printers take a single connection */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: TicketPrinterOptions) {
    this.db = options.db;
    this.log = options.log;
    this.waitMs = options.waitMs ?? 4000;
    this.transport = options.transport ?? defaultTransport;
    this.now = options.now ?? (() => new Date());
  }

  /** Prints a ticket just issued by a kiosk on that kiosk's network printer, if it has one. */
  async printIssued(input: { ticket: Ticket; deviceId: string; url: string }): Promise<PrintOutcome> {
    try {
      const device = await this.db.selectFrom('device').select(['kind', 'siteId', 'settings'])
        .where('id', '=', input.deviceId).executeTakeFirst();
      const printer = device?.kind === 'kiosk' ? printerOf(device.settings) : null;
      if (!device || !printer) return { status: 'none' };
      const data = await this.printData(input.ticket, input.url);
      return await this.print(printer, data, { siteId: device.siteId, deviceId: input.deviceId, ticketId: input.ticket.id, code: input.ticket.code });
    } catch (error) {
      this.log?.warn({ err: error, deviceId: input.deviceId }, 'ticket not printed: unexpected error');
      return { status: 'failed', reason: 'error' };
    }
  }

  /** A sample ticket on a kiosk's printer, so a manager can check the settings. */
  async printSample(deviceId: string, url: string): Promise<PrintOutcome> {
    const device = await this.db.selectFrom('device').innerJoin('site', 'site.id', 'device.siteId')
      .select(['device.kind', 'device.siteId', 'device.settings', 'device.name', 'site.name as siteName', 'site.timezone'])
      .where('device.id', '=', deviceId).executeTakeFirst();
    const printer = device ? printerOf(device.settings) : null;
    if (!device || !printer) return { status: 'none' };
    return this.print(printer, {
      centreName: device.siteName,
      serviceName: { vi: `In thử – ${device.name}`, en: `Test print – ${device.name}` },
      code: 'A000',
      peopleAhead: 0,
      estimatedWaitSeconds: null,
      issuedAt: this.now(),
      timeZone: device.timezone,
      url,
    }, { siteId: device.siteId, deviceId, ticketId: null, code: 'A000' });
  }

  private async print(printer: TcpPrinter, data: TicketPrintData, about: AlertSubject): Promise<PrintOutcome> {
    const job = this.enqueue(describePrinter(printer), async () => {
      const transport = this.transport(printer);
      try {
        return await printTicket(transport, data, printer.widthDots ? { widthDots: printer.widthDots } : {});
      } finally {
        await transport.close();
      }
    }).then(
      (result) => this.settle(result, printer, about),
      (error: Error) => this.settle({ ok: false, reason: 'error', message: error.message }, printer, about),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<PrintOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ status: 'failed', reason: 'timeout' }), this.waitMs);
    });
    try {
      return await Promise.race([job, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Turns a print result into the outcome, and tells staff what needs a hand. */
  private async settle(result: PrintResult, printer: TcpPrinter, about: AlertSubject): Promise<PrintOutcome> {
    if (result.ok) {
      if (result.paperLow) await this.alert(about, printer, 'paper_low', 'paper running low');
      return { status: 'sent' };
    }
    this.log?.warn({ deviceId: about.deviceId, printer: describePrinter(printer), reason: result.reason }, 'ticket not printed');
    await this.alert(about, printer, result.reason, result.message);
    return { status: 'failed', reason: result.reason };
  }

  private async printData(ticket: Ticket, url: string): Promise<TicketPrintData> {
    const row = await this.db.selectFrom('ticket')
      .innerJoin('site', 'site.id', 'ticket.siteId')
      .innerJoin('service', 'service.id', 'ticket.serviceId')
      .select(['site.name as centreName', 'site.timezone', 'service.name as serviceName', 'ticket.siteId', 'ticket.priority'])
      .where('ticket.id', '=', ticket.id).executeTakeFirstOrThrow();
    const group = row.priority !== 'none'
      ? await this.db.selectFrom('priorityGroup').select('name').where('siteId', '=', row.siteId).where('code', '=', row.priority).executeTakeFirst()
      : undefined;
    return {
      centreName: row.centreName,
      serviceName: row.serviceName,
      code: ticket.code,
      peopleAhead: ticket.position ?? 0,
      estimatedWaitSeconds: ticket.estimatedWaitSeconds ?? null,
      issuedAt: new Date(ticket.issuedAt),
      timeZone: row.timezone,
      url,
      ...(group ? { priorityLabel: group.name } : {}),
    };
  }

  /**
   * One open alert per kiosk printer and cause: a printer out of paper fails every ticket until
   * someone comes, and a manager needs one line that says so (with a count), not fifty.
   */
  private async alert(about: AlertSubject, printer: TcpPrinter, reason: string, message: string): Promise<void> {
    try {
      const now = this.now();
      const open = await this.db.selectFrom('alert').select(['id', 'data'])
        .where('kind', '=', 'printer').where('deviceId', '=', about.deviceId).where('acknowledgedAt', 'is', null)
        .where('createdAt', '>', new Date(now.getTime() - ALERT_MERGE_MS))
        .orderBy('createdAt', 'desc').limit(1).executeTakeFirst();
      if (open && open.data.reason === reason) {
        await this.db.updateTable('alert')
          .set({ data: JSON.stringify({ ...open.data, count: Number(open.data.count ?? 1) + 1, lastAt: now.toISOString(), lastTicketCode: about.code, message }) })
          .where('id', '=', open.id).execute();
        return;
      }
      await this.db.insertInto('alert').values({
        siteId: about.siteId, kind: 'printer', deviceId: about.deviceId, ticketId: about.ticketId, counterId: null, staffId: null,
        data: JSON.stringify({ reason, message, printer: describePrinter(printer), ticketCode: about.code, count: 1, lastAt: now.toISOString() }),
        createdAt: now, acknowledgedAt: null, acknowledgedBy: null,
      }).execute();
    } catch (error) {
      this.log?.warn({ err: error, deviceId: about.deviceId }, 'printer alert not recorded');
    }
  }

  private enqueue<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.then(() => undefined, () => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }
}

interface AlertSubject {
  siteId: string;
  deviceId: string;
  ticketId: string | null;
  code: string;
}
