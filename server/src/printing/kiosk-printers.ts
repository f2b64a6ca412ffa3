import { sql } from 'kysely';
import type { Db } from '@qms/db';
import { diff, type AuditActor, type AuditService } from '../audit/audit.service.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { PrinterAddresses } from './printer-address.ts';
import { printerOf, type KioskPrinter } from './printer.config.ts';
import type { PrinterStatusReport, TicketPrinter } from './ticket-printer.service.ts';

/**
 * A kiosk's printer as managers set it (device.settings.printer), its test print, and what the
 * kiosk's site agent reports of its own printer.
 */
export class KioskPrinters {
  /**
   * @param forget after a kiosk's printer changed: the kiosk's token stands for its printer too
   *   (an issue prints with the printer its principal names, AuthService.resolve), so it is forgotten
   *   here and in the other processes
   */
  constructor(private readonly db: Db, private readonly addresses: PrinterAddresses, private readonly printer: TicketPrinter, private readonly audit: AuditService,
    private readonly forget: (deviceId: string) => Promise<void>) {}

  /** The device, with its site (who may set its printer) and settings; 404 for none. */
  async device(deviceId: string) {
    const device = await this.db.selectFrom('device').select(['id', 'siteId', 'kind', 'settings']).where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
    return device;
  }

  /**
   * Sets the kiosk's printer (null: none). A network printer must be at an address a kiosk
   * printer may be at (printer-address.ts); an agent printed through another device names an
   * active device of the kiosk's site. In the audit log (printer.update, from and to) in the same transaction.
   */
  async setPrinter(kiosk: { id: string; siteId: string; settings: Record<string, unknown> }, printer: KioskPrinter | null, by: AuditActor): Promise<KioskPrinter | null> {
    if (printer?.kind === 'tcp') {
      const refused = await this.addresses.refusal(printer.host, printer.port ?? 9100);
      if (refused) throw new QueueError('PRINTER_ADDRESS_REFUSED', `A kiosk printer cannot be at ${printer.host}:${printer.port ?? 9100}: ${refused}`, 400);
    }
    if (printer?.kind === 'agent' && printer.deviceId && printer.deviceId !== kiosk.id) {
      const agent = await this.db.selectFrom('device').select(['siteId', 'revokedAt']).where('id', '=', printer.deviceId).executeTakeFirst();
      if (!agent || agent.siteId !== kiosk.siteId || agent.revokedAt) {
        throw new QueueError('AGENT_DEVICE_NOT_FOUND', `No active device ${printer.deviceId} at this kiosk's site for the site agent`, 400);
      }
    }
    const { printer: old, ...rest } = kiosk.settings;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('device').set({ settings: JSON.stringify(printer ? { ...rest, printer } : rest) }).where('id', '=', kiosk.id).execute();
      const changes = diff({ printer: old ?? null }, { printer });
      if (Object.keys(changes).length) {
        await this.audit.record({ actor: by, siteId: kiosk.siteId, action: 'printer.update', target: { type: 'device', id: kiosk.id }, changes }, trx);
      }
    });
    await this.forget(kiosk.id);
    return printer;
  }

  /** Prints a sample ticket on the kiosk's printer and says how it went. */
  testPrint(deviceId: string, url: string) {
    return this.printer.printSample(deviceId, url);
  }

  /**
   * The kiosk's site agent says how its printer is. A failure raises the printer alert at once;
   * `claim` makes a kiosk without a printer an agent-printed one (a kiosk with a network
   * printer keeps it: the manager's choice stands, and the answer says the agent is not driving).
   */
  async reportStatus(deviceId: string, { claim, ...report }: PrinterStatusReport & { claim?: boolean }) {
    if (claim) {
      // one statement, so a manager's PUT at the same moment is never overwritten
      const claimed = await this.db.updateTable('device').set({ settings: sql`settings || '{"printer": {"kind": "agent"}}'::jsonb` })
        .where('id', '=', deviceId).where(sql<boolean>`NOT jsonb_exists(settings, 'printer') OR settings->'printer' = 'null'::jsonb`).executeTakeFirst();
      if (claimed.numUpdatedRows > 0n) await this.forget(deviceId);
    }
    await this.printer.reportStatus(deviceId, report);
    const device = await this.db.selectFrom('device').select('settings').where('id', '=', deviceId).executeTakeFirstOrThrow();
    const stored = printerOf(device.settings);
    return { deviceId, printer: stored, driving: stored?.kind === 'agent' };
  }
}
