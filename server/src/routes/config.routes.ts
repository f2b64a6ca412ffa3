import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { CreateCounterBody, CreateDeviceBody, CreateServiceBody, CreateSiteBody, CreateStaffBody, DeviceParams, Id, PairBody, SiteConfig, SiteParams } from '@qms/protocol';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { isAdmin, managerOfSite, staffOfSite, type Principal } from '../auth/principal.ts';
import { created, errors, noContent } from '../http/replies.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { DisplayZone } from '../config/site-config.service.ts';

// Sites, services, counters, staff and devices (API.md "Configuration" and "Devices"), and
// display zones (extension). The changes of the manager console are config-update.routes.ts.

const strict = { additionalProperties: false } as const;
const ZoneObject = Type.Object({
  counterIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
  serviceIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
}, strict);
/** PUT body: the zone, or null for the whole site. */
const ZoneBody = Type.Union([ZoneObject, Type.Null()]);
const ZoneReply = Type.Object({ deviceId: Type.String(), zone: Type.Union([ZoneObject, Type.Null()]) });
const DeviceMeReply = Type.Object({
  device: Type.Object({ id: Type.String(), siteId: Type.String(), kind: Type.String(), name: Type.String(), counterId: Type.Union([Type.String(), Type.Null()]) }),
  settings: Type.Record(Type.String(), Type.Unknown()),
});
const PairingCodeReply = Type.Object({ pairingCode: Type.String(), pairingExpiresAt: Type.String() });
/** The device's token, shown once: the screen keeps it. */
const PairReply = Type.Object({
  device: Type.Object({ id: Type.String(), siteId: Type.String(), kind: Type.String(), name: Type.String(), counterId: Type.Union([Type.String(), Type.Null()]) }),
  token: Type.String(),
});
export const SiteSummary = Type.Object({ id: Type.String(), code: Type.String(), name: Type.String(), timezone: Type.String() });

/** Staff of the site, or one of its devices. */
const ofSite = (p: Principal, siteId: string) => staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId);

/** The zone stored in a display's settings, or null for the whole site. */
function zoneOf(settings: Record<string, unknown>): DisplayZone | null {
  const zone = settings.zone as DisplayZone | undefined;
  if (!zone || typeof zone !== 'object') return null;
  const out: DisplayZone = {};
  if (Array.isArray(zone.counterIds) && zone.counterIds.length) out.counterIds = zone.counterIds;
  if (Array.isArray(zone.serviceIds) && zone.serviceIds.length) out.serviceIds = zone.serviceIds;
  return out.counterIds || out.serviceIds ? out : null;
}

export const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { sites, siteCommands, auth } = app.services;

  /** The display, after checking the caller manages its site. */
  const displayOf = async (deviceId: string, request: FastifyRequest) => {
    const device = await sites.device(deviceId);
    allow(managerOfSite(who(request), device.siteId), 'Only a manager of the device\'s site sets its zone');
    if (device.kind !== 'display') throw new QueueError('NOT_A_DISPLAY', 'Only displays have a zone', 400);
    return device;
  };

  app.get('/sites', { schema: { tags: ['configuration'] } }, async (request) => {
    const p = who(request);
    const all = await sites.listSites();
    if (isAdmin(p)) return all;
    return all.filter((s) => (p.kind === 'device' ? s.id === p.device.siteId : p.siteIds.includes(s.id)));
  });

  app.post('/sites', { schema: { tags: ['configuration'], body: CreateSiteBody, response: created } }, async (request, reply) => {
    allow(isAdmin(who(request)), 'Only an administrator creates sites');
    return reply.code(201).send(await sites.createSite(request.body, actorOf(request)));
  });

  /** Everything a screen of the site needs: services with procedures, priority groups, counters, rating scale. */
  app.get('/sites/:siteId', { schema: { tags: ['configuration'], params: SiteParams, response: { 200: SiteConfig, ...errors } } }, async (request) => {
    const { siteId } = request.params;
    allow(ofSite(who(request), siteId));
    return sites.siteConfig(siteId);
  });

  app.get('/sites/:siteId/services', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params;
    allow(ofSite(who(request), siteId));
    return (await sites.siteConfig(siteId)).services;
  });

  app.post('/sites/:siteId/services', { schema: { tags: ['configuration'], params: SiteParams, body: CreateServiceBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params;
    allow(managerOfSite(who(request), siteId));
    return reply.code(201).send((await siteCommands.createService(siteId, request.body, actorOf(request))).value);
  });

  app.get('/sites/:siteId/counters', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params;
    allow(ofSite(who(request), siteId));
    return (await sites.siteConfig(siteId)).counters;
  });

  app.post('/sites/:siteId/counters', { schema: { tags: ['configuration'], params: SiteParams, body: CreateCounterBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params;
    allow(managerOfSite(who(request), siteId));
    return reply.code(201).send((await siteCommands.createCounter(siteId, request.body, actorOf(request))).value);
  });

  app.post('/sites/:siteId/staff', { schema: { tags: ['configuration'], params: SiteParams, body: CreateStaffBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params;
    const p = who(request);
    allow(managerOfSite(p, siteId));
    allow(request.body.role !== 'admin' || isAdmin(p), 'Only an administrator creates administrators');
    return reply.code(201).send((await siteCommands.createStaff(siteId, request.body, actorOf(request))).value);
  });

  app.post('/sites/:siteId/devices', { schema: { tags: ['devices'], params: SiteParams, body: CreateDeviceBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params;
    allow(managerOfSite(who(request), siteId));
    const { device, token, pairingCode } = (await siteCommands.registerDevice(siteId, request.body, actorOf(request))).value;
    return reply.code(201).send({
      device: { id: device.id, siteId: device.siteId, kind: device.kind, name: device.name, counterId: device.counterId },
      token,
      pairingCode,
      pairingExpiresAt: device.pairingExpiresAt?.toISOString(),
    });
  });

  app.get('/sites/:siteId/devices', { schema: { tags: ['devices'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params;
    allow(managerOfSite(who(request), siteId));
    const devices = await sites.listDevices(siteId);
    // extension field `online`: a socket of the device is connected to some process now
    const online = await app.realtime.onlineDeviceIds(siteId).catch(() => null);
    return devices.map((d) => ({
      ...d,
      online: online ? online.has(d.id) : !d.revoked && !!d.lastSeenAt && Date.now() - Date.parse(d.lastSeenAt) < 45_000,
    }));
  });

  app.post('/devices/:deviceId/pairing-code', { schema: { tags: ['devices'], params: DeviceParams, response: { 200: PairingCodeReply, ...errors } } }, async (request) => {
    const { deviceId } = request.params;
    allow(managerOfSite(who(request), await sites.siteOfDevice(deviceId)));
    const { code, expiresAt } = await auth.newPairingCode(deviceId, actorOf(request));
    return { pairingCode: code, pairingExpiresAt: expiresAt.toISOString() };
  });

  app.post('/devices/pair', {
    schema: { tags: ['devices'], body: PairBody, response: { 200: PairReply, ...errors } },
    config: { rateLimit: app.rateLimits.pairing },
  }, async (request) => {
    const { device, token } = await auth.pair(request.body.code, request.ip);
    return { device, token };
  });

  app.delete('/devices/:deviceId', { schema: { tags: ['devices'], params: DeviceParams, response: noContent } }, async (request, reply) => {
    const { deviceId } = request.params;
    allow(managerOfSite(who(request), await sites.siteOfDevice(deviceId)));
    await siteCommands.revokeDevice(deviceId, actorOf(request));
    return reply.code(204).send(null);
  });

  // ---- display zones (extension of API.md) ---------------------------------------------

  /** The calling device itself and its settings (a display reads its zone here). */
  app.get('/devices/me', { schema: { tags: ['devices'], response: { 200: DeviceMeReply, ...errors } } }, async (request) => {
    const p = who(request);
    allow(p.kind === 'device', 'Only a paired device reads its own settings');
    const { settings, ...device } = await sites.device(p.device.id);
    return { device, settings };
  });

  /** A display's zone for the manager's devices screen. */
  app.get('/devices/:deviceId/zone', { schema: { tags: ['devices'], params: DeviceParams, response: { 200: ZoneReply, ...errors } } }, async (request) => {
    const { deviceId } = request.params;
    const device = await displayOf(deviceId, request);
    return { deviceId, zone: zoneOf(device.settings) };
  });

  app.put('/devices/:deviceId/zone', {
    schema: {
      tags: ['devices'], params: DeviceParams, body: ZoneBody, response: { 200: ZoneReply, ...errors },
      description: 'Limits a display to some counters and/or services (both lists given: calls that match both); null or empty lists show the whole site. '
        + "Stored in device.settings.zone; the site's screens hear site:updated with parts ['zones'] and the display applies it at once.",
    },
  }, async (request) => {
    const { deviceId } = request.params;
    const device = await displayOf(deviceId, request);
    const body = request.body;
    const zone: DisplayZone = {};
    if (body?.counterIds?.length) zone.counterIds = [...new Set(body.counterIds)];
    if (body?.serviceIds?.length) zone.serviceIds = [...new Set(body.serviceIds)];
    const whole = !zone.counterIds && !zone.serviceIds;
    return { deviceId, zone: (await siteCommands.setDisplayZone(device, whole ? null : zone, actorOf(request))).value };
  });

  app.get('/sites/:siteId/priority-groups', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params;
    allow(ofSite(who(request), siteId));
    return (await sites.siteConfig(siteId)).priorityGroups;
  });
};
