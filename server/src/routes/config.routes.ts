import { Type } from 'typebox';
import { assertTimezone } from '../config/timezones.ts';
import type { FastifyInstance } from 'fastify';
import { parseWeekdays, type Db } from '@qms/db';
import { SiteConfig } from '@qms/protocol';
import { allow, who } from '../http/auth.plugin.ts';
import { isAdmin, managerOfSite, staffOfSite } from '../auth/principal.ts';
import {
  created, CreateCounterBody, CreateDeviceBody, CreateServiceBody, CreateSiteBody, CreateStaffBody, DeviceParams, errors, Id, noContent, PairBody, SiteParams,
} from '../http/schemas.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { SiteConfigService } from '../config/site-config.service.ts';
import { configUpdateRoutes } from '../config/config-update.routes.ts';
import { event } from '../queue/queue.events.ts';

type Body<T> = T;

export async function configRoutes(app: FastifyInstance, { db, config }: { db: Db; config: SiteConfigService }) {
  /** Screens of the site refetch their configuration (extension event `site:updated`). */
  const changed = (siteId: string, part: string) => app.realtime.publish([event('site:updated', siteId, { siteId, parts: [part] })]);

  /** The display, after checking the caller manages its site. */
  const displayOf = async (deviceId: string, request: Parameters<typeof who>[0]) => {
    const device = await db.selectFrom('device').select(['siteId', 'kind', 'settings']).where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new QueueError('DEVICE_NOT_FOUND', `No device ${deviceId}`, 404);
    allow(managerOfSite(who(request), device.siteId), 'Only a manager of the device\'s site sets its zone');
    if (device.kind !== 'display') throw new QueueError('NOT_A_DISPLAY', 'Only displays have a zone', 400);
    return device;
  };

  app.get('/sites', { schema: { tags: ['configuration'] } }, async (request) => {
    const p = who(request);
    const sites = await config.listSites();
    if (isAdmin(p)) return sites;
    return sites.filter((s) => (p.kind === 'device' ? s.id === p.device.siteId : p.siteIds.includes(s.id)));
  });

  app.post('/sites', { schema: { tags: ['configuration'], body: CreateSiteBody, response: created } }, async (request, reply) => {
    allow(isAdmin(who(request)), 'Only an administrator creates sites');
    const body = request.body as Body<{ code: string; name: string; timezone?: string; level?: 'province' | 'commune'; openingHours?: Record<string, [string, string][]> }>;
    for (const key of Object.keys(body.openingHours ?? {})) {
      try {
        parseWeekdays(key);
      } catch {
        throw new QueueError('INVALID_OPENING_HOURS', `"${key}" is not a range of weekdays from the first to the last (e.g. mon-fri)`, 400);
      }
    }
    if (body.timezone) await assertTimezone(db, body.timezone);
    return reply.code(201).send(await config.createSite(body));
  });

  /** Everything a screen of the site needs: services with procedures, priority groups, counters, rating scale. */
  app.get('/sites/:siteId', { schema: { tags: ['configuration'], params: SiteParams, response: { 200: SiteConfig, ...errors } } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId));
    return config.siteConfig(siteId);
  });

  app.get('/sites/:siteId/services', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId));
    return (await config.siteConfig(siteId)).services;
  });

  app.post('/sites/:siteId/services', { schema: { tags: ['configuration'], params: SiteParams, body: CreateServiceBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId));
    const service = await config.createService(siteId, request.body as Parameters<SiteConfigService['createService']>[1]);
    changed(siteId, 'services');
    return reply.code(201).send(service);
  });

  app.get('/sites/:siteId/counters', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId));
    return (await config.siteConfig(siteId)).counters;
  });

  app.post('/sites/:siteId/counters', { schema: { tags: ['configuration'], params: SiteParams, body: CreateCounterBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId));
    const counter = await config.createCounter(siteId, request.body as { number: number; name: string; serviceIds: string[] });
    changed(siteId, 'counters');
    return reply.code(201).send(counter);
  });

  app.post('/sites/:siteId/staff', { schema: { tags: ['configuration'], params: SiteParams, body: CreateStaffBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(managerOfSite(p, siteId));
    const body = request.body as { username: string; password: string; displayName: string; role: 'admin' | 'manager' | 'staff' };
    allow(body.role !== 'admin' || isAdmin(p), 'Only an administrator creates administrators');
    await config.assertSite(siteId);
    const user = await app.auth.createUser({ ...body, siteIds: [siteId] });
    changed(siteId, 'staff');
    return reply.code(201).send(user);
  });

  app.post('/sites/:siteId/devices', { schema: { tags: ['devices'], params: SiteParams, body: CreateDeviceBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId));
    await config.assertSite(siteId);
    const { device, token, pairingCode } = await app.auth.registerDevice({ siteId, ...(request.body as { kind: 'kiosk'; name: string; counterId?: string }) });
    changed(siteId, 'devices');
    return reply.code(201).send({
      device: { id: device.id, siteId: device.siteId, kind: device.kind, name: device.name, counterId: device.counterId },
      token,
      pairingCode,
      pairingExpiresAt: device.pairingExpiresAt?.toISOString(),
    });
  });

  app.get('/sites/:siteId/devices', { schema: { tags: ['devices'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId));
    const devices = await config.listDevices(siteId);
    // extension field `online`: a socket of the device is connected to some process now
    const online = await app.realtime.onlineDeviceIds(siteId).catch(() => null);
    return devices.map((d) => ({
      ...d,
      online: online ? online.has(d.id) : !d.revoked && !!d.lastSeenAt && Date.now() - Date.parse(d.lastSeenAt) < 45_000,
    }));
  });

  app.post('/devices/:deviceId/pairing-code', { schema: { tags: ['devices'], params: DeviceParams, response: errors } }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    const siteId = await config.siteOfDevice(deviceId);
    allow(managerOfSite(who(request), siteId));
    const { code, expiresAt } = await app.auth.newPairingCode(deviceId);
    return { pairingCode: code, pairingExpiresAt: expiresAt.toISOString() };
  });

  app.post('/devices/pair', {
    schema: { tags: ['devices'], body: PairBody, response: errors },
    config: { rateLimit: app.rateLimits.pairing },
  }, async (request) => {
    const { device, token } = await app.auth.pair((request.body as { code: string }).code);
    return { device, token };
  });

  app.delete('/devices/:deviceId', { schema: { tags: ['devices'], params: DeviceParams, response: noContent } }, async (request, reply) => {
    const { deviceId } = request.params as { deviceId: string };
    const siteId = await config.siteOfDevice(deviceId);
    allow(managerOfSite(who(request), siteId));
    // its token stops working here and in every process, and its open sockets close (realtime)
    await app.auth.revokeDevice(deviceId);
    changed(siteId, 'devices');
    return reply.code(204).send();
  });

  // ---- display zones (extension of API.md) ---------------------------------------------

  /** The calling device itself and its settings (a display reads its zone here). */
  app.get('/devices/me', { schema: { tags: ['devices'], response: { 200: DeviceMeReply, ...errors } } }, async (request) => {
    const p = who(request);
    allow(p.kind === 'device', 'Only a paired device reads its own settings');
    const row = await db.selectFrom('device').select(['id', 'siteId', 'kind', 'name', 'counterId', 'settings'])
      .where('id', '=', p.device.id).executeTakeFirstOrThrow();
    const { settings, ...device } = row;
    return { device, settings };
  });

  /** A display's zone for the manager's devices screen. */
  app.get('/devices/:deviceId/zone', { schema: { tags: ['devices'], params: DeviceParams, response: { 200: ZoneReply, ...errors } } }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
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
    const { deviceId } = request.params as { deviceId: string };
    const device = await displayOf(deviceId, request);
    const body = request.body as DisplayZone | null;
    const zone: DisplayZone = {};
    if (body?.counterIds?.length) zone.counterIds = [...new Set(body.counterIds)];
    if (body?.serviceIds?.length) zone.serviceIds = [...new Set(body.serviceIds)];
    for (const [table, ids] of [['counter', zone.counterIds], ['service', zone.serviceIds]] as const) {
      if (!ids) continue;
      const found = await db.selectFrom(table).select('id').where('siteId', '=', device.siteId).where('id', 'in', ids).execute();
      if (found.length !== ids.length) throw new QueueError(`${table.toUpperCase()}_NOT_FOUND`, `A ${table} in ${table}Ids is not a ${table} of this site`, 404);
    }
    const { zone: _old, ...rest } = device.settings;
    const whole = !zone.counterIds && !zone.serviceIds;
    await db.updateTable('device').set({ settings: JSON.stringify(whole ? rest : { ...rest, zone }) }).where('id', '=', deviceId).execute();
    // the display re-reads its own settings on this (and on every reconnect): no reconnection,
    // so no call is missed and the announcements it has queued go on
    changed(device.siteId, 'zones');
    return { deviceId, zone: whole ? null : zone };
  });

  await app.register(configUpdateRoutes, { config });

  app.get('/sites/:siteId/priority-groups', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId));
    return (await config.siteConfig(siteId)).priorityGroups;
  });
}

const strict = { additionalProperties: false } as const;
const ZoneObject = Type.Object({
  counterIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
  serviceIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
}, strict);
type DisplayZone = { counterIds?: string[]; serviceIds?: string[] };
/** PUT body: the zone, or null for the whole site. */
const ZoneBody = Type.Union([ZoneObject, Type.Null()]);
const ZoneReply = Type.Object({ deviceId: Type.String(), zone: Type.Union([ZoneObject, Type.Null()]) });
const DeviceMeReply = Type.Object({
  device: Type.Object({ id: Type.String(), siteId: Type.String(), kind: Type.String(), name: Type.String(), counterId: Type.Union([Type.String(), Type.Null()]) }),
  settings: Type.Record(Type.String(), Type.Unknown()),
});

/** The zone stored in a display's settings, or null for the whole site. */
function zoneOf(settings: Record<string, unknown>): DisplayZone | null {
  const zone = settings.zone as DisplayZone | undefined;
  if (!zone || typeof zone !== 'object') return null;
  const out: DisplayZone = {};
  if (Array.isArray(zone.counterIds) && zone.counterIds.length) out.counterIds = zone.counterIds;
  if (Array.isArray(zone.serviceIds) && zone.serviceIds.length) out.serviceIds = zone.serviceIds;
  return out.counterIds || out.serviceIds ? out : null;
}

export const SiteSummary = Type.Object({ id: Type.String(), code: Type.String(), name: Type.String(), timezone: Type.String() });
