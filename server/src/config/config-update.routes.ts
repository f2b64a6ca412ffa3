import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  AnnouncementUpdate, CounterUpdate, HolidaysUpdate, OpeningHoursUpdate, PriorityGroupsUpdate, ProceduresUpdate, RatingUpdate,
  ServiceUpdate, SiteConfig, SiteUpdate, StaffMember, StaffUpdate, type SiteUpdated,
} from '@qms/protocol';
import { isAdmin, managerOfSite, type StaffPrincipal } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { CounterParams, DeviceParams, errors, noContent, SiteParams } from '../http/schemas.ts';
import { event } from '../queue/queue.events.ts';
import { QueueService } from '../queue/queue.service.ts';
import type { SiteConfigService } from './site-config.service.ts';
import { SiteConfigUpdates } from './site-config.updates.ts';

// Configuration updates of the manager console (extensions of API.md "Configuration"): the
// site's settings, opening hours and holidays, rating scale and reasons, announcement phrase,
// priority groups; services and their procedures; counters and the services they serve; staff
// and their roles; device names. Managers change the sites they belong to, administrators any.
// After every change the site's screens hear `site:updated` and fetch GET /sites/:siteId again
// (kiosks also refetch on every reconnect and every few minutes).

const strict = { additionalProperties: false } as const;
const Id = Type.String({ format: 'uuid' });
const ServiceParams = Type.Object({ serviceId: Id }, strict);
const UserParams = Type.Object({ userId: Id }, strict);
const SiteUserParams = Type.Object({ siteId: Id, userId: Id }, strict);
const DeviceRename = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, strict);
const configReply = { 200: SiteConfig, ...errors };

export async function configUpdateRoutes(app: FastifyInstance, { config }: { config: SiteConfigService }) {
  const updates = new SiteConfigUpdates(config.db);
  // reads counters the way the engine describes them (counter:updated)
  const counters = new QueueService({ db: config.db });

  const managing = (request: FastifyRequest, siteId: string): StaffPrincipal => {
    const p = who(request);
    allow(managerOfSite(p, siteId), 'Only managers of this site change its configuration');
    return p;
  };

  /** Tells the site's screens, then answers with the configuration they will fetch. */
  const changed = async (siteId: string, parts: SiteUpdated['parts']) => {
    app.realtime.publish([event('site:updated', siteId, { siteId, parts })]);
    return config.siteConfig(siteId);
  };

  const siteRoute = <B>(path: string, body: object, part: string, apply: (siteId: string, body: B) => Promise<void>, description: string) =>
    app.put(path, { schema: { tags: ['configuration'], params: SiteParams, body, response: configReply, description } }, async (request) => {
      const { siteId } = request.params as { siteId: string };
      managing(request, siteId);
      await apply(siteId, request.body as B);
      return changed(siteId, [part]);
    });

  siteRoute<SiteUpdate>('/sites/:siteId', SiteUpdate, 'site', (id, b) => updates.updateSite(id, b),
    'Name, level, timezone, ticket code digits and the call-order rule (serviceOrder, priorityRatio, transferToFront).');
  siteRoute<OpeningHoursUpdate>('/sites/:siteId/opening-hours', OpeningHoursUpdate, 'hours', (id, b) => updates.setOpeningHours(id, b),
    'Replaces the weekly sessions (weekday 1 = Monday … 6 = Saturday, 7 = Sunday); an empty list means open at all times.');
  siteRoute<HolidaysUpdate>('/sites/:siteId/holidays', HolidaysUpdate, 'hours', (id, b) => updates.setHolidays(id, b),
    'Replaces the days the site is closed.');
  siteRoute<RatingUpdate>('/sites/:siteId/rating', RatingUpdate, 'rating', (id, b) => updates.setRating(id, b),
    'The rating scale (the lowest score is "not satisfied" and raises an alert) and the reasons a citizen can pick.');
  siteRoute<AnnouncementUpdate>('/sites/:siteId/announcement', AnnouncementUpdate, 'announcement', (id, b) => updates.setAnnouncement(id, b),
    'The phrase displays speak: {code} and {counter} are replaced; an empty English phrase means Vietnamese only. '
    + "preferSystemVoice: displays speak with the browser's vi-VN voice where one is installed, else the recorded clips.");
  siteRoute<PriorityGroupsUpdate>('/sites/:siteId/priority-groups', PriorityGroupsUpdate, 'priority', (id, b) => updates.setPriorityGroups(id, b),
    'Replaces the priority groups offered at the kiosk; groups left out are deactivated.');

  // ---- services ----
  app.put('/services/:serviceId', {
    schema: { tags: ['configuration'], params: ServiceParams, body: ServiceUpdate, response: configReply },
  }, async (request) => {
    const { serviceId } = request.params as { serviceId: string };
    const siteId = await updates.siteOfService(serviceId);
    managing(request, siteId);
    await updates.updateService(serviceId, request.body as ServiceUpdate);
    return changed(siteId, ['services']);
  });

  app.put('/services/:serviceId/procedures', {
    schema: { tags: ['configuration'], params: ServiceParams, body: ProceduresUpdate, response: configReply, description: 'Replaces the procedures listed under the service.' },
  }, async (request) => {
    const { serviceId } = request.params as { serviceId: string };
    const siteId = await updates.siteOfService(serviceId);
    managing(request, siteId);
    await updates.setProcedures(serviceId, request.body as ProceduresUpdate);
    return changed(siteId, ['services']);
  });

  app.delete('/services/:serviceId', {
    schema: { tags: ['configuration'], params: ServiceParams, response: noContent, description: 'Deactivates the service (its history stays); 409 while tickets wait in it.' },
  }, async (request, reply) => {
    const { serviceId } = request.params as { serviceId: string };
    const siteId = await updates.siteOfService(serviceId);
    managing(request, siteId);
    await updates.deactivateService(serviceId);
    await changed(siteId, ['services', 'counters']);
    return reply.code(204).send();
  });

  // ---- counters ----
  app.put('/counters/:counterId', {
    schema: { tags: ['configuration'], params: CounterParams, body: CounterUpdate, response: configReply, description: 'Number, name, and the services it serves in order.' },
  }, async (request) => {
    const { counterId } = request.params as { counterId: string };
    const siteId = await updates.siteOfCounter(counterId);
    managing(request, siteId);
    await updates.updateCounter(counterId, request.body as CounterUpdate);
    app.realtime.publish([event('counter:updated', siteId, { counter: await counters.getCounter(counterId) })]);
    return changed(siteId, ['counters']);
  });

  app.delete('/counters/:counterId', {
    schema: { tags: ['configuration'], params: CounterParams, response: noContent, description: 'Takes the counter out of use (its history stays); 409 while it is open.' },
  }, async (request, reply) => {
    const { counterId } = request.params as { counterId: string };
    const siteId = await updates.siteOfCounter(counterId);
    managing(request, siteId);
    await updates.deactivateCounter(counterId);
    await changed(siteId, ['counters']);
    return reply.code(204).send();
  });

  // ---- staff ----
  app.get('/sites/:siteId/staff', {
    schema: { tags: ['configuration'], params: SiteParams, response: { 200: Type.Array(StaffMember), ...errors } },
  }, async (request) => {
    const { siteId } = request.params as { siteId: string };
    managing(request, siteId);
    return updates.staffOf(siteId);
  });

  /**
   * A manager changes accounts that belong only to sites they manage, never an administrator's,
   * and makes nobody an administrator; nobody disables their own account or changes their own role.
   */
  app.put('/users/:userId', {
    schema: { tags: ['configuration'], params: UserParams, body: StaffUpdate, response: { 200: StaffMember, ...errors } },
  }, async (request) => {
    const { userId } = request.params as { userId: string };
    const body = request.body as StaffUpdate;
    const p = who(request);
    allow(p.kind === 'staff' && (p.user.role === 'admin' || p.user.role === 'manager'), 'Only managers and administrators change accounts');
    const target = await updates.member(userId);
    if (!isAdmin(p)) {
      allow(target.role !== 'admin', 'Only an administrator changes an administrator');
      allow(body.role !== 'admin', 'Only an administrator makes administrators');
      allow(target.siteIds.length > 0 && target.siteIds.every((s) => p.siteIds.includes(s)), 'This account also belongs to sites you do not manage');
    }
    if (userId === p.user.id) {
      allow(body.active !== false, 'You cannot disable your own account');
      allow(body.role === undefined || body.role === p.user.role, 'You cannot change your own role');
    }
    const member = await updates.updateStaff(userId, body);
    await app.auth.forget({ userId }); // role, active, password: the user's tokens are looked up again
    for (const siteId of member.siteIds) app.realtime.publish([event('site:updated', siteId, { siteId, parts: ['staff'] })]);
    return member;
  });

  app.put('/sites/:siteId/staff/:userId', {
    schema: { tags: ['configuration'], params: SiteUserParams, response: { 200: StaffMember, ...errors }, description: 'Adds an existing account to the site (administrators).' },
  }, async (request) => {
    const { siteId, userId } = request.params as { siteId: string; userId: string };
    allow(isAdmin(who(request)), 'Only an administrator adds an account to another site');
    await updates.addMember(siteId, userId);
    await app.auth.forget({ userId });
    app.realtime.publish([event('site:updated', siteId, { siteId, parts: ['staff'] })]);
    return updates.member(userId);
  });

  app.delete('/sites/:siteId/staff/:userId', {
    schema: { tags: ['configuration'], params: SiteUserParams, response: noContent, description: 'Removes the account from the site (the account stays).' },
  }, async (request, reply) => {
    const { siteId, userId } = request.params as { siteId: string; userId: string };
    const p = managing(request, siteId);
    const target = await updates.member(userId);
    allow(isAdmin(p) || target.role !== 'admin', 'Only an administrator removes an administrator');
    allow(userId !== p.user.id, 'You cannot remove yourself');
    await updates.removeMember(siteId, userId);
    await app.auth.forget({ userId });
    app.realtime.publish([event('site:updated', siteId, { siteId, parts: ['staff'] })]);
    return reply.code(204).send();
  });

  // ---- devices ----
  app.put('/devices/:deviceId', {
    schema: { tags: ['devices'], params: DeviceParams, body: DeviceRename, response: noContent, description: 'Renames a device.' },
  }, async (request, reply) => {
    const { deviceId } = request.params as { deviceId: string };
    const siteId = await config.siteOfDevice(deviceId);
    managing(request, siteId);
    await updates.renameDevice(deviceId, (request.body as { name: string }).name);
    await app.auth.forget({ deviceId });
    app.realtime.publish([event('site:updated', siteId, { siteId, parts: ['devices'] })]);
    return reply.code(204).send();
  });
}
