import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';
import { managerOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { DeviceParams, errors } from '../http/schemas.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { PrintReply } from './issue-print.hook.ts';
import { phoneUrl, publicBaseUrl } from './phone-url.ts';
import { PrinterBody, PrinterReply, printerOf, type TcpPrinter } from './printer.config.ts';
import { TicketPrinter } from './ticket-printer.service.ts';

// Managers point a kiosk at its network printer (extension of API.md, under /api/v1).

export async function printerRoutes(app: FastifyInstance, { db }: { db: Db }) {
  const printer = new TicketPrinter({ db, log: app.log, waitMs: 15_000 });

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
      description: "The kiosk's network printer ({kind:'tcp', host, port?, widthDots?}), or null for none. USB and serial printers are driven by the site agent, not set here.",
    },
  }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    const device = await kioskOf(deviceId, request);
    const body = request.body as TcpPrinter | null;
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
}
