import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DeviceParams, PrintReply } from '@qms/protocol';
import { managerOfSite } from '../auth/principal.ts';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';
import { QueueError } from '../queue/queue.errors.ts';
import { phoneUrl, publicBaseUrl } from '../printing/phone-url.ts';
import { KioskPrinterBody, PrinterBody, PrinterReply, printerOf } from '../printing/printer.config.ts';

// Managers point a kiosk at its printer; the kiosk's site agent reports its own printer's
// state (extension of API.md, under /api/v1; printing/kiosk-printers.ts).

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

const notAKiosk = () => new QueueError('NOT_A_KIOSK', 'Only kiosks print tickets', 400);

export const printerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { kioskPrinters: printers } = app.services;

  /** The kiosk, after checking the caller manages its site. */
  const kioskOf = async (deviceId: string, request: FastifyRequest) => {
    const device = await printers.device(deviceId);
    allow(managerOfSite(who(request), device.siteId), 'Only a manager of the device\'s site sets its printer');
    if (device.kind !== 'kiosk') throw notAKiosk();
    return device;
  };

  app.get('/devices/:deviceId/printer', {
    schema: { tags: ['devices'], params: DeviceParams, response: { 200: PrinterReply, ...errors } },
  }, async (request) => {
    const { deviceId } = request.params;
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
    const { deviceId } = request.params;
    const device = await kioskOf(deviceId, request);
    return { deviceId, printer: await printers.setPrinter(device, request.body, actorOf(request)) };
  });

  /** Prints a sample ticket on the kiosk's printer and says how it went. */
  app.post('/devices/:deviceId/printer/test', {
    schema: { tags: ['devices'], params: DeviceParams, response: { 200: PrintReply, ...errors } },
  }, async (request) => {
    const { deviceId } = request.params;
    await kioskOf(deviceId, request);
    return printers.testPrint(deviceId, phoneUrl(publicBaseUrl(app.config, request), 'test-print'));
  });

  /**
   * The calling kiosk's site agent says how its printer is (on connect, and whenever it
   * changes while idle).
   */
  app.post('/devices/me/printer/status', {
    schema: { tags: ['devices'], body: StatusBody, response: { 200: StatusReply, ...errors } },
  }, async (request) => {
    const p = who(request);
    allow(p.kind === 'device', 'Only a paired kiosk reports its printer');
    if (p.device.kind !== 'kiosk') throw notAKiosk();
    return printers.reportStatus(p.device.id, request.body);
  });
};
