import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';
import { managerOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { DeviceParams, errors } from '../http/schemas.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { PrintReply, ticketPrinter } from './issue-print.hook.ts';
import { phoneUrl, publicBaseUrl } from './phone-url.ts';
import { KioskPrinterBody, PrinterBody, PrinterReply, printerOf, type KioskPrinter } from './printer.config.ts';
import type { PrinterStatusReport } from './ticket-printer.service.ts';

// Managers point a kiosk at its printer; the kiosk's site agent reports its own printer's
// state (extension of API.md, under /api/v1).

const StatusBody = Type.Object({
  state: Type.Enum(['ready', 'paper_low', 'paper_out', 'offline', 'error']),
  message: Type.Optional(Type.String({ maxLength: 500 })),
  printer: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the agent\'s printer, e.g. "usb /dev/usb/lp0"' })),
  claim: Type.Optional(Type.Boolean({ description: "set the kiosk's printer to {kind:'agent'} if it has none" })),
}, { additionalProperties: false });

const StatusReply = Type.Object({
  deviceId: Type.String(),
  printer: Type.Union([KioskPrinterBody, Type.Null()]),
  /** true when the server sends this kiosk's tickets to its site agent */
  driving: Type.Boolean(),
});

export async function printerRoutes(app: FastifyInstance, { db }: { db: Db }) {
  const printer = ticketPrinter(app, db, { waitMs: 15_000 });

  /** The kiosk, after checking the caller manages its site. */
  const kioskOf = async (deviceId: string, request: Parameters<typeof who>[0]) => {
    const device = await db.selectFrom('device').select(['id', 'siteId', 'kind', 'settings']).where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
    allow(managerOfSite(who(request), device.siteId), 'Only a manager of the device\'s site sets its printer');
    if (device.kind !== 'kiosk') throw new QueueError('NOT_A_KIOSK', 'Only kiosks print tickets', 400);
    return device;
  };

  app.get('/devices/:deviceId/printer', {
    schema: { tags: ['devices'], params: DeviceParams, response: { 200: PrinterReply, ...errors } },
  }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    const device = await kioskOf(deviceId, request);
    return { deviceId, printer: printerOf(device.settings) };
  });

  app.put('/devices/:deviceId/printer', {
    schema: {
      tags: ['devices'], params: DeviceParams, body: PrinterBody, response: { 200: PrinterReply, ...errors },
      description: "The kiosk's printer: a network printer the server drives ({kind:'tcp', host, port?, widthDots?}), "
        + "{kind:'agent', deviceId?} for a USB or serial printer driven by the site agent on the kiosk PC (its port and paper width are in the agent's config, docs/site-agent.md; "
        + 'deviceId names the device the agent is paired as when that is not this kiosk), '
        + 'or null for none. A network printer on this server itself, on a loopback, link-local, multicast or broadcast address, '
        + "or on this server's HTTP or database port is refused (400 PRINTER_ADDRESS_REFUSED); a host name is checked again, "
        + 'for the address it resolves to, at every print.',
    },
  }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    const device = await kioskOf(deviceId, request);
    const body = request.body as KioskPrinter | null;
    if (body?.kind === 'tcp') {
      const refused = await app.printerAddresses.refusal(body.host, body.port ?? 9100);
      if (refused) throw new QueueError('PRINTER_ADDRESS_REFUSED', `A kiosk printer cannot be at ${body.host}:${body.port ?? 9100}: ${refused}`, 400);
    }
    if (body?.kind === 'agent' && body.deviceId && body.deviceId !== deviceId) {
      const agent = await db.selectFrom('device').select(['siteId', 'revokedAt']).where('id', '=', body.deviceId).executeTakeFirst();
      if (!agent || agent.siteId !== device.siteId || agent.revokedAt) {
        throw new QueueError('AGENT_DEVICE_NOT_FOUND', `No active device ${body.deviceId} at this kiosk's site for the site agent`, 400);
      }
    }
    const { printer: _old, ...rest } = device.settings;
    const settings = body ? { ...rest, printer: body } : rest;
    await db.updateTable('device').set({ settings: JSON.stringify(settings) }).where('id', '=', deviceId).execute();
    return { deviceId, printer: body };
  });

  /** Prints a sample ticket on the kiosk's printer and says how it went. */
  app.post('/devices/:deviceId/printer/test', {
    schema: { tags: ['devices'], params: DeviceParams, response: { 200: PrintReply, ...errors } },
  }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    await kioskOf(deviceId, request);
    return printer.printSample(deviceId, phoneUrl(publicBaseUrl(app.config, request), 'test-print'));
  });

  /**
   * The calling kiosk's site agent says how its printer is (on connect, and whenever it
   * changes while idle). A failure raises the printer alert at once; `claim` makes a kiosk
   * without a printer an agent-printed one (a kiosk with a network printer keeps it: the
   * manager's choice stands, and the reply says the agent is not driving).
   */
  app.post('/devices/me/printer/status', {
    schema: { tags: ['devices'], body: StatusBody, response: { 200: StatusReply, ...errors } },
  }, async (request) => {
    const p = who(request);
    allow(p.kind === 'device', 'Only a paired kiosk reports its printer');
    if (p.device.kind !== 'kiosk') throw new QueueError('NOT_A_KIOSK', 'Only kiosks print tickets', 400);
    const body = request.body as PrinterStatusReport & { claim?: boolean };
    const deviceId = p.device.id;
    if (body.claim) {
      // one statement, so a manager's PUT at the same moment is never overwritten
      await db.updateTable('device').set({ settings: sql`settings || '{"printer": {"kind": "agent"}}'::jsonb` })
        .where('id', '=', deviceId).where(sql<boolean>`NOT jsonb_exists(settings, 'printer') OR settings->'printer' = 'null'::jsonb`).execute();
    }
    const { claim: _claim, ...report } = body;
    await printer.reportStatus(deviceId, report);
    const device = await db.selectFrom('device').select('settings').where('id', '=', deviceId).executeTakeFirstOrThrow();
    const stored = printerOf(device.settings);
    return { deviceId, printer: stored, driving: stored?.kind === 'agent' };
  });
}
