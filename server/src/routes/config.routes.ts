import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { parseWeekdays } from '@qms/db';
import { SiteConfig } from '@qms/protocol';
import { allow, who } from '../http/auth.plugin.ts';
import { isAdmin, managerOfSite, staffOfSite } from '../auth/principal.ts';
import {
  created, CreateCounterBody, CreateDeviceBody, CreateServiceBody, CreateSiteBody, CreateStaffBody, DeviceParams, errors, noContent, PairBody, SiteParams,
} from '../http/schemas.ts';
import { QueueError } from '../queue/queue.errors.ts';
import type { SiteConfigService } from '../config/site-config.service.ts';

type Body<T> = T;

export async function configRoutes(app: FastifyInstance, { config }: { config: SiteConfigService }) {
  app.get('/sites', { schema: { tags: ['configuration'] } }, async (request) => {
    const p = who(request);
    const sites = await config.listSites();
    if (isAdmin(p)) return sites;
    return sites.filter((s) => (p.kind === 'device' ? s.id === p.device.siteId : p.siteIds.includes(s.id)));
  });

  app.post('/sites', { schema: { tags: ['configuration'], body: CreateSiteBody, response: created } }, async (request, reply) => {
    allow(isAdmin(who(request)), 'Only an administrator creates sites');
    const body = request.body as Body<{ code: string; name: string; timezone?: string; level?: 'province' | 'commune'; openingHours?: Record<string, [string, string][]> }>;
    for (const key of Object.keys(body.openingHours ?? {})) parseWeekdays(key);
    if (body.timezone) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: body.timezone });
      } catch {
        throw new QueueError('INVALID_TIMEZONE', `Unknown timezone "${body.timezone}"`, 400);
      }
    }
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
    return reply.code(201).send(await config.createService(siteId, request.body as Parameters<SiteConfigService['createService']>[1]));
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
    return reply.code(201).send(await config.createCounter(siteId, request.body as { number: number; name: string; serviceIds: string[] }));
  });

  app.post('/sites/:siteId/staff', { schema: { tags: ['configuration'], params: SiteParams, body: CreateStaffBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(managerOfSite(p, siteId));
    const body = request.body as { username: string; password: string; displayName: string; role: 'admin' | 'manager' | 'staff' };
    allow(body.role !== 'admin' || isAdmin(p), 'Only an administrator creates administrators');
    await config.assertSite(siteId);
    return reply.code(201).send(await app.auth.createUser({ ...body, siteIds: [siteId] }));
  });

  app.post('/sites/:siteId/devices', { schema: { tags: ['devices'], params: SiteParams, body: CreateDeviceBody, response: created } }, async (request, reply) => {
    const { siteId } = request.params as { siteId: string };
    allow(managerOfSite(who(request), siteId));
    await config.assertSite(siteId);
    const { device, token, pairingCode } = await app.auth.registerDevice({ siteId, ...(request.body as { kind: 'kiosk'; name: string; counterId?: string }) });
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
    return config.listDevices(siteId);
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
    await app.auth.revokeDevice(deviceId);
    app.realtime.disconnectDevice(deviceId);
    return reply.code(204).send();
  });

  app.get('/sites/:siteId/priority-groups', { schema: { tags: ['configuration'], params: SiteParams } }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    const p = who(request);
    allow(staffOfSite(p, siteId) || (p.kind === 'device' && p.device.siteId === siteId));
    return (await config.siteConfig(siteId)).priorityGroups;
  });
}

export const SiteSummary = Type.Object({ id: Type.String(), code: Type.String(), name: Type.String(), timezone: Type.String() });
