import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DEFAULT_TIME_ZONE, PrinterOfflineError, printTicket, TcpTransport, type PrinterTransport, type PrintResult, type TicketPrintData } from '@qms/hardware';
import type { Db } from '@qms/db';
import type { PrintJob, PrintJobResult, PrintOutcome, Ticket } from '@qms/protocol';
import { bare, PrinterAddresses } from './printer-address.ts';
import { describePrinter, printerOf, type KioskPrinter, type TcpPrinter } from './printer.config.ts';

// Prints the tickets of kiosks that have a printer: a network printer the server drives
// itself, or a USB/serial printer on the kiosk PC driven by its site agent (`{kind:'agent'}`,
// the job goes over the agent's socket and comes back acknowledged). The ticket exists
// whatever the printer does: printing happens after the issue committed, never throws, and a
// failure becomes an alert for staff (published to managers at once) and a reason the kiosk
// can explain to the citizen.

/** What the issue reply says about the paper ticket (extension field `print`): protocol's. */
export type { PrintOutcome };
export type PrintFailure = NonNullable<PrintOutcome['reason']>;

interface Logger {
  warn(obj: object, msg: string): void;
}

/** The site agents of kiosks, reached over their sockets (agent-link.ts). */
export interface AgentLink {
  /**
   * Sends a job to the agent sockets of a kiosk and resolves with their answers: [] at once
   * when no agent is connected, and the answers so far (maybe none) with timedOut when the
   * time is up.
   */
  send(deviceId: string, job: PrintJob, timeoutMs: number): Promise<{ answers: unknown[]; timedOut: boolean }>;
}

/** What a site agent says about its printer while idle (POST /devices/me/printer/status). */
export interface PrinterStatusReport {
  state: 'ready' | 'paper_low' | 'paper_out' | 'offline' | 'error';
  message?: string;
  /** the agent's printer, e.g. "usb /dev/usb/lp0" */
  printer?: string;
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
  /** where network printers may be (default: anywhere but this machine, loopback, link-local...) */
  addresses?: PrinterAddresses;
  /**
   * The earliest a print that no printer answered is reported failed. A closed port fails at
   * once, a host that is off after the connect timeout, a service of another kind in between:
   * waiting as long as the slowest makes the answer say nothing of what is there.
   */
  failureFloorMs?: number;
  /** the kiosks' site agents; without it an `{kind:'agent'}` printer is offline */
  agents?: AgentLink;
  /** dispatches a printer alert just raised (alert:due: the alerts subscriber sends it to the site's managers) */
  publishAlert?: (siteId: string, alertId: string) => void;
  now?: () => Date;
}

/** Alerts about one printer within this window are one alert (with a count), not a flood. */
const ALERT_MERGE_MS = 60 * 60_000;

const CONNECT_TIMEOUT_MS = 2000;

/**
 * A network printer's connection for one job: the port and the host as saved are checked
 * first (the rules may have changed since it was saved), and every connection checks the
 * addresses its name resolves to before connecting to one of them.
 */
const checkedTransport = (addresses: PrinterAddresses) => (printer: TcpPrinter): PrinterTransport => {
  const port = printer.port ?? 9100;
  const refused = addresses.refusal(printer.host, port);
  const transport = new TcpTransport({
    host: bare(printer.host), port, lookup: addresses.lookup, connectTimeoutMs: CONNECT_TIMEOUT_MS, statusTimeoutMs: 800, writeTimeoutMs: 10_000,
  });
  return {
    async status() {
      const why = await refused;
      return why ? { online: false, paperOut: false, answered: false, error: why } : transport.status();
    },
    async write(bytes) {
      const why = await refused;
      if (why) throw new PrinterOfflineError(why);
      return transport.write(bytes);
    },
    close: () => transport.close(),
  };
};

/** What a failed print says when no printer answered, whatever was (or was not) there. */
const NO_PRINTER = 'no printer answered';

export class TicketPrinter {
  private readonly db: Db;
  private readonly log: Logger | undefined;
  private readonly waitMs: number;
  private readonly transport: (printer: TcpPrinter) => PrinterTransport;
  private readonly agents: AgentLink | undefined;
  private readonly publishAlert: ((siteId: string, alertId: string) => void) | undefined;
  private readonly now: () => Date;
  private readonly failureFloorMs: number;
  /** one job at a time per printer: many network printers take a single connection */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: TicketPrinterOptions) {
    this.db = options.db;
    this.log = options.log;
    this.waitMs = options.waitMs ?? 4000;
    this.transport = options.transport ?? checkedTransport(options.addresses ?? new PrinterAddresses());
    this.failureFloorMs = options.failureFloorMs ?? CONNECT_TIMEOUT_MS;
    this.agents = options.agents;
    this.publishAlert = options.publishAlert;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Prints a ticket just issued by a kiosk of the ticket's site on that kiosk's printer, if it has
   * one: `printer` as the kiosk's principal names it (null: none), or when not given as stored.
   */
  async printIssued(input: { ticket: Ticket; deviceId: string; url: string; procedure?: TicketPrintData['procedure']; printer?: KioskPrinter | null }): Promise<PrintOutcome> {
    try {
      const printer = input.printer !== undefined ? input.printer : await this.printerOfKiosk(input.deviceId);
      if (!printer) return { status: 'none' };
      const data = { ...await this.printData(input.ticket, input.url), ...(input.procedure ? { procedure: input.procedure } : {}) };
      return await this.print(printer, data, { siteId: input.ticket.siteId, deviceId: input.deviceId, ticketId: input.ticket.id, code: input.ticket.code });
    } catch (error) {
      this.log?.warn({ err: error, deviceId: input.deviceId }, 'ticket not printed: unexpected error');
      return { status: 'failed', reason: 'error' };
    }
  }

  private async printerOfKiosk(deviceId: string): Promise<KioskPrinter | null> {
    const device = await this.db.selectFrom('device').select(['kind', 'settings']).where('id', '=', deviceId).executeTakeFirst();
    return device?.kind === 'kiosk' ? printerOf(device.settings) : null;
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

  private async print(printer: KioskPrinter, data: TicketPrintData, about: AlertSubject): Promise<PrintOutcome> {
    if (printer.kind === 'agent') return this.printByAgent(data, about, printer.deviceId ?? about.deviceId);
    const job = this.enqueue(describePrinter(printer), async () => {
      const started = Date.now();
      const transport = this.transport(printer);
      let answered = false;
      const watched: PrinterTransport = {
        status: async () => {
          const status = await transport.status();
          if (status.answered) answered = true;
          return status;
        },
        write: (bytes) => transport.write(bytes),
        close: () => transport.close(),
      };
      try {
        const result = await printTicket(watched, data, printer.widthDots ? { widthDots: printer.widthDots } : {});
        if (result.ok || answered) return result;
        // Nothing printer-like answered: refused address, unknown name, closed port, host down,
        // another kind of service, a reset. The manager who typed the address must not learn
        // which (that would scan the network), so every one is the same "offline", after the
        // same time; the cause goes to the log for the technician.
        this.log?.warn({ deviceId: about.deviceId, printer: describePrinter(printer), cause: result.message }, 'no printer answered');
        await new Promise((resolve) => setTimeout(resolve, this.failureFloorMs - (Date.now() - started)));
        return { ok: false, reason: 'offline', message: NO_PRINTER } satisfies PrintResult;
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

  /**
   * The kiosk's site agent prints it: the job goes to its sockets and the acknowledgement
   * says how it went, within the same wait as a network printer. No agent connected is
   * "offline" at once, so the kiosk never waits for nobody.
   */
  private async printByAgent(data: TicketPrintData, about: AlertSubject, agentDeviceId: string): Promise<PrintOutcome> {
    const job: PrintJob = {
      jobId: randomUUID(),
      ticket: {
        centreName: data.centreName, serviceName: data.serviceName, code: data.code, peopleAhead: data.peopleAhead,
        estimatedWaitSeconds: data.estimatedWaitSeconds, issuedAt: data.issuedAt.toISOString(),
        ...(data.noCounterOpen ? { noCounterOpen: true } : {}),
        timeZone: data.timeZone ?? DEFAULT_TIME_ZONE, url: data.url,
        ...(data.priorityLabel ? { priorityLabel: data.priorityLabel } : {}),
        ...(data.booking ? { booking: { kind: data.booking.kind, slotAt: data.booking.slotAt.toISOString() } } : {}),
      },
    };
    const sent = this.agents ? await this.agents.send(agentDeviceId, job, this.waitMs) : { answers: [], timedOut: false };
    const answers = sent.answers.map(agentAnswer);
    // Two agents on one kiosk token is a misconfiguration (a copied state file); say so, and
    // count the ticket as printed if either printed it.
    if (answers.length > 1) this.log?.warn({ deviceId: about.deviceId, agents: answers.length }, 'several site agents answered for one kiosk');
    const answer = answers.find((a) => a.status === 'sent') ?? answers[0];
    const printer = answer?.printer ?? 'site agent';
    if (!answer) {
      const reason = sent.timedOut ? 'timeout' : 'offline';
      const message = sent.timedOut ? `the site agent did not answer within ${this.waitMs} ms` : 'no site agent is connected for this kiosk';
      this.log?.warn({ deviceId: about.deviceId, printer, reason }, 'ticket not printed');
      await this.alert(about, printer, reason, message);
      return { status: 'failed', reason };
    }
    const result: PrintResult = answer.status === 'sent'
      ? (answer.paperLow ? { ok: true, paperLow: true } : { ok: true })
      : { ok: false, reason: answer.reason ?? 'error', message: answer.message ?? 'the site agent could not print' };
    return this.settle(result, printer, about);
  }

  /**
   * What a site agent reports about its printer between tickets: a failure raises (or keeps)
   * the same alert a failed ticket would, so staff hear of an empty roll before a citizen
   * does; "ready" marks the open alert cleared. Repeated reports of one state are one alert,
   * and do not add to its count of failed tickets.
   */
  async reportStatus(deviceId: string, report: PrinterStatusReport): Promise<void> {
    const device = await this.db.selectFrom('device').select(['siteId']).where('id', '=', deviceId).executeTakeFirst();
    if (!device) return;
    const printer = report.printer ?? 'site agent';
    const about: AlertSubject = { siteId: device.siteId, deviceId, ticketId: null, code: null };
    if (report.state === 'ready') {
      await this.db.updateTable('alert')
        .set({ data: sql`data || jsonb_build_object('clearedAt', ${this.now().toISOString()}::text)` })
        .where('kind', '=', 'printer').where('deviceId', '=', deviceId).where('acknowledgedAt', 'is', null)
        .where(sql<boolean>`NOT jsonb_exists(data, 'clearedAt')`).execute();
      return;
    }
    const message = report.message ?? (report.state === 'paper_out' ? 'out of paper' : report.state === 'paper_low' ? 'paper running low' : 'printer offline');
    await this.alert(about, printer, report.state, message, { countIt: false });
  }

  /** Turns a print result into the outcome, and tells staff what needs a hand. */
  private async settle(result: PrintResult, printer: KioskPrinter | string, about: AlertSubject): Promise<PrintOutcome> {
    const name = typeof printer === 'string' ? printer : describePrinter(printer);
    if (result.ok) {
      if (result.paperLow) await this.alert(about, name, 'paper_low', 'paper running low');
      return { status: 'sent' };
    }
    this.log?.warn({ deviceId: about.deviceId, printer: name, reason: result.reason }, 'ticket not printed');
    await this.alert(about, name, result.reason, result.message);
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
      ...(ticket.noCounterOpen ? { noCounterOpen: true } : {}),
      issuedAt: new Date(ticket.issuedAt),
      timeZone: row.timezone,
      url,
      ...(group ? { priorityLabel: group.name } : {}),
      ...(ticket.booking ? { booking: { kind: ticket.booking.kind, slotAt: new Date(ticket.booking.slotAt) } } : {}),
    };
  }

  /**
   * One open alert per kiosk printer and cause: a printer out of paper fails every ticket until
   * someone comes, and a manager needs one line that says so (with a count), not fifty. A new
   * alert goes to the site's managers at once (alert:due, then alert:raised) when a publisher is
   * wired; the alerts subscriber marks it published so the site monitor's sweep does not send it
   * again (and sends it when nothing else did).
   */
  private async alert(about: AlertSubject, printer: string, reason: string, message: string, options: { countIt?: boolean } = {}): Promise<void> {
    try {
      const now = this.now();
      const open = await this.db.selectFrom('alert').select(['id', 'data'])
        .where('kind', '=', 'printer').where('deviceId', '=', about.deviceId).where('acknowledgedAt', 'is', null)
        .where('createdAt', '>', new Date(now.getTime() - ALERT_MERGE_MS))
        .orderBy('createdAt', 'desc').limit(1).executeTakeFirst();
      if (open && open.data.reason === reason && !open.data.clearedAt) {
        const count = Number(open.data.count ?? 1) + (options.countIt === false ? 0 : 1);
        await this.db.updateTable('alert')
          .set({ data: JSON.stringify({ ...open.data, count, lastAt: now.toISOString(), message, ...(about.code ? { lastTicketCode: about.code } : {}) }) })
          .where('id', '=', open.id).execute();
        return;
      }
      const row = await this.db.insertInto('alert').values({
        siteId: about.siteId, kind: 'printer', deviceId: about.deviceId, ticketId: about.ticketId, counterId: null, staffId: null,
        data: JSON.stringify({
          reason, message, printer, ...(about.code ? { ticketCode: about.code } : {}), count: options.countIt === false ? 0 : 1, lastAt: now.toISOString(),
        }),
        createdAt: now, acknowledgedAt: null, acknowledgedBy: null,
      }).returning('id').executeTakeFirstOrThrow();
      this.publishAlert?.(about.siteId, row.id);
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
  /** the ticket that did not print; null for a status report between tickets */
  code: string | null;
}

const FAILURES = new Set(['paper_out', 'offline', 'error']);

/** An agent's acknowledgement, from the network: anything unexpected is an error. */
function agentAnswer(value: unknown): PrintJobResult {
  const v = (value ?? {}) as Partial<PrintJobResult>;
  const printer = typeof v.printer === 'string' && v.printer.length <= 200 ? v.printer : undefined;
  const message = typeof v.message === 'string' ? v.message.slice(0, 500) : undefined;
  if (v.status === 'sent') return { status: 'sent', ...(v.paperLow === true ? { paperLow: true } : {}), ...(printer ? { printer } : {}) };
  const reason = typeof v.reason === 'string' && FAILURES.has(v.reason) ? v.reason : 'error';
  return { status: 'failed', reason, message: message ?? (v.status === 'failed' ? 'the site agent could not print' : 'unreadable answer from the site agent'), ...(printer ? { printer } : {}) };
}
