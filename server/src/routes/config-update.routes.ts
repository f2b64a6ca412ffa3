import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { AnnouncementUpdate, CounterParams, CounterUpdate, DeviceParams, HolidaysUpdate, Id, OpeningHoursUpdate, PriorityGroupsUpdate, ProceduresUpdate, RatingUpdate, ServiceUpdate, SiteConfig, SiteParams, SiteUpdate, StaffMember, StaffUpdate } from '@qms/protocol';
import { isAdmin, managerOfSite, type StaffPrincipal } from '../auth/principal.ts';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors, noContent } from '../http/replies.ts';

// Configuration updates of the manager console (extensions of API.md "Configuration"): the
// site's settings, opening hours and holidays, rating scale and reasons, announcement phrase,
// priority groups; services and their procedures; counters and the services they serve; staff
// and their roles; device names. Managers change the sites they belong to, administrators any.
// After every change the site's screens hear `site:updated` and fetch GET /sites/:siteId again
// (config/site-config.commands.ts); kiosks also refetch on every reconnect and every few minutes.

const strict = { additionalProperties: false } as const;
const ServiceParams = Type.Object({ serviceId: Id }, strict);
const UserParams = Type.Object({ userId: Id }, strict);
const SiteUserParams = Type.Object({ siteId: Id, userId: Id }, strict);
const DeviceRename = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, strict);
const configReply = { 200: SiteConfig, ...errors };

export const configUpdateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { siteCommands: commands, sites } = app.services;

  const managing = (request: FastifyRequest, siteId: string): StaffPrincipal => {
    const p = who(request);
    allow(managerOfSite(p, siteId), 'Only managers of this site change its configuration');
    return p;
  };

  /** The schema of a PUT of one part of the site's own settings. */
  const part = <B extends TSchema>(body: B, description: string) =>
    ({ tags: ['configuration'], params: SiteParams, body, response: configReply, description });

  app.put('/sites/:siteId', {
    schema: part(SiteUpdate, 'Name, level, timezone, ticket code digits and the call-order rule (serviceOrder, priorityRatio, transferToFront).'),
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.updateSite(request.params.siteId, request.body, actorOf(request))).value;
  });
  app.put('/sites/:siteId/opening-hours', {
    schema: part(OpeningHoursUpdate, 'Replaces the weekly sessions (weekday 1 = Monday … 6 = Saturday, 7 = Sunday); an empty list means open at all times.'),
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.setOpeningHours(request.params.siteId, request.body, actorOf(request))).value;
  });
  app.put('/sites/:siteId/holidays', { schema: part(HolidaysUpdate, 'Replaces the days the site is closed.') }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.setHolidays(request.params.siteId, request.body, actorOf(request))).value;
  });
  app.put('/sites/:siteId/rating', {
    schema: part(RatingUpdate, 'The rating scale (the lowest score is "not satisfied" and raises an alert) and the reasons a citizen can pick.'),
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.setRating(request.params.siteId, request.body, actorOf(request))).value;
  });
  app.put('/sites/:siteId/announcement', {
    schema: part(AnnouncementUpdate, 'The phrase displays speak: {code} and {counter} are replaced; an empty English phrase means Vietnamese only. '
      + "preferSystemVoice: displays speak with the browser's vi-VN voice where one is installed, else the recorded clips."),
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.setAnnouncement(request.params.siteId, request.body, actorOf(request))).value;
  });
  app.put('/sites/:siteId/priority-groups', {
    schema: part(PriorityGroupsUpdate, 'Replaces the priority groups offered at the kiosk; groups left out are deactivated.'),
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await commands.setPriorityGroups(request.params.siteId, request.body, actorOf(request))).value;
  });

  // ---- services ----
  app.put('/services/:serviceId', {
    schema: { tags: ['configuration'], params: ServiceParams, body: ServiceUpdate, response: configReply },
  }, async (request) => {
    managing(request, await commands.siteOfService(request.params.serviceId));
    return (await commands.updateService(request.params.serviceId, request.body, actorOf(request))).value;
  });

  app.put('/services/:serviceId/procedures', {
    schema: { tags: ['configuration'], params: ServiceParams, body: ProceduresUpdate, response: configReply, description: 'Replaces the procedures listed under the service.' },
  }, async (request) => {
    managing(request, await commands.siteOfService(request.params.serviceId));
    return (await commands.setProcedures(request.params.serviceId, request.body, actorOf(request))).value;
  });

  app.delete('/services/:serviceId', {
    schema: { tags: ['configuration'], params: ServiceParams, response: noContent, description: 'Deactivates the service (its history stays); 409 while tickets wait in it.' },
  }, async (request, reply) => {
    managing(request, await commands.siteOfService(request.params.serviceId));
    await commands.deactivateService(request.params.serviceId, actorOf(request));
    return reply.code(204).send(null);
  });

  // ---- counters ----
  app.put('/counters/:counterId', {
    schema: { tags: ['configuration'], params: CounterParams, body: CounterUpdate, response: configReply, description: 'Number, name, and the services it serves in order.' },
  }, async (request) => {
    managing(request, await commands.siteOfCounter(request.params.counterId));
    return (await commands.updateCounter(request.params.counterId, request.body, actorOf(request))).value;
  });

  app.delete('/counters/:counterId', {
    schema: { tags: ['configuration'], params: CounterParams, response: noContent, description: 'Takes the counter out of use (its history stays); 409 while it is open.' },
  }, async (request, reply) => {
    managing(request, await commands.siteOfCounter(request.params.counterId));
    await commands.deactivateCounter(request.params.counterId, actorOf(request));
    return reply.code(204).send(null);
  });

  // ---- staff ----
  app.get('/sites/:siteId/staff', {
    schema: { tags: ['configuration'], params: SiteParams, response: { 200: Type.Array(StaffMember), ...errors } },
  }, async (request) => {
    managing(request, request.params.siteId);
    return commands.staffOf(request.params.siteId);
  });

  /**
   * A manager changes accounts that belong only to sites they manage, never an administrator's,
   * and makes nobody an administrator; nobody disables their own account or changes their own role.
   */
  app.put('/users/:userId', {
    schema: { tags: ['configuration'], params: UserParams, body: StaffUpdate, response: { 200: StaffMember, ...errors } },
  }, async (request) => {
    const { userId } = request.params;
    const body = request.body;
    const p = who(request);
    allow(p.kind === 'staff' && (p.user.role === 'admin' || p.user.role === 'manager'), 'Only managers and administrators change accounts');
    const target = await commands.member(userId);
    if (!isAdmin(p)) {
      allow(target.role !== 'admin', 'Only an administrator changes an administrator');
      allow(body.role !== 'admin', 'Only an administrator makes administrators');
      allow(target.siteIds.length > 0 && target.siteIds.every((s) => p.siteIds.includes(s)), 'This account also belongs to sites you do not manage');
    }
    if (userId === p.user.id) {
      allow(body.active !== false, 'You cannot disable your own account');
      allow(body.role === undefined || body.role === p.user.role, 'You cannot change your own role');
    }
    return (await commands.updateStaff(userId, body, actorOf(request))).value;
  });

  app.put('/sites/:siteId/staff/:userId', {
    schema: { tags: ['configuration'], params: SiteUserParams, response: { 200: StaffMember, ...errors }, description: 'Adds an existing account to the site (administrators).' },
  }, async (request) => {
    allow(isAdmin(who(request)), 'Only an administrator adds an account to another site');
    return (await commands.addMember(request.params.siteId, request.params.userId, actorOf(request))).value;
  });

  app.delete('/sites/:siteId/staff/:userId', {
    schema: { tags: ['configuration'], params: SiteUserParams, response: noContent, description: 'Removes the account from the site (the account stays).' },
  }, async (request, reply) => {
    const { siteId, userId } = request.params;
    const p = managing(request, siteId);
    const target = await commands.member(userId);
    allow(isAdmin(p) || target.role !== 'admin', 'Only an administrator removes an administrator');
    allow(userId !== p.user.id, 'You cannot remove yourself');
    await commands.removeMember(siteId, userId, actorOf(request));
    return reply.code(204).send(null);
  });

  // ---- devices ----
  app.put('/devices/:deviceId', {
    schema: { tags: ['devices'], params: DeviceParams, body: DeviceRename, response: noContent, description: 'Renames a device.' },
  }, async (request, reply) => {
    managing(request, await sites.siteOfDevice(request.params.deviceId));
    await commands.renameDevice(request.params.deviceId, request.body.name, actorOf(request));
    return reply.code(204).send(null);
  });
};
