import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { BookingSettings, CapacityProposal, CapacityReply, ProcedureCode, ProcedureInfo, SiteParams } from '@qms/protocol';
import { managerOfSite } from '../auth/principal.ts';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';

// What a manager keeps for appointments (bookings/booking-config.service.ts holds the rules):
// the site's booking rules, each field's capacity per block, its proposal from the counters and
// recent service times, and a procedure's information for the public page. Managers of the site
// and administrators; every change is in the audit log and the site's screens hear site:updated.

const tags = ['bookings', 'configuration'];
const strict = { additionalProperties: false } as const;
const SettingsReply = Type.Object({ settings: BookingSettings });
const ProcedureParams = Type.Object({ siteId: SiteParams.properties.siteId, code: ProcedureCode }, strict);

export const bookingConfigRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { bookingConfig } = app.services;

  const managing = (request: FastifyRequest, siteId: string) => {
    allow(managerOfSite(who(request), siteId), 'Only managers of this site change its appointments');
  };

  app.get('/sites/:siteId/booking-settings', {
    schema: { tags, params: SiteParams, response: { 200: SettingsReply, ...errors }, description: "The site's booking rules (the defaults for what it never set)" },
  }, async (request) => {
    managing(request, request.params.siteId);
    return { settings: await bookingConfig.settings(request.params.siteId) };
  });

  app.put('/sites/:siteId/booking-settings', {
    schema: { tags, params: SiteParams, body: BookingSettings, response: { 200: SettingsReply, ...errors }, description: 'Replaces the booking rules, every field given' },
  }, async (request) => {
    managing(request, request.params.siteId);
    return { settings: (await bookingConfig.setSettings(request.params.siteId, request.body, actorOf(request))).value };
  });

  app.get('/sites/:siteId/booking-capacity', {
    schema: { tags, params: SiteParams, response: { 200: CapacityReply, ...errors }, description: 'Bookings each field takes per block of each weekday (0 = Sunday); a block not listed takes none' },
  }, async (request) => {
    managing(request, request.params.siteId);
    return bookingConfig.capacity(request.params.siteId);
  });

  app.put('/sites/:siteId/booking-capacity', {
    schema: {
      tags, params: SiteParams, body: CapacityReply, response: { 200: CapacityReply, ...errors },
      description: "Replaces every block of the site. 400 INVALID_CAPACITY (details.problems) for a block of another site's field, outside the opening hours of its weekday, not aligned on blockMinutes from the session's opening, or listed twice",
    },
  }, async (request) => {
    managing(request, request.params.siteId);
    return (await bookingConfig.setCapacity(request.params.siteId, request.body, actorOf(request))).value;
  });

  app.get('/sites/:siteId/booking-capacity/proposal', {
    schema: {
      tags, params: SiteParams, response: { 200: CapacityProposal, ...errors },
      description: 'A capacity for each field and block inside the opening hours: floor(blockMinutes·60 / recent mean service time × counters serving the field × bookingShare); nothing is saved',
    },
  }, async (request) => {
    managing(request, request.params.siteId);
    return bookingConfig.proposal(request.params.siteId);
  });

  app.put('/sites/:siteId/procedures/:code/info', {
    schema: {
      tags, params: ProcedureParams, body: ProcedureInfo, response: { 200: Type.Object({ info: ProcedureInfo }), ...errors },
      description: "What the public page shows of a procedure (steps, documents, processing time, fees, portal link), in every field of the site listing it; 404 UNKNOWN_PROCEDURE",
    },
  }, async (request) => {
    managing(request, request.params.siteId);
    return { info: (await bookingConfig.setProcedureInfo(request.params.siteId, request.params.code, request.body, actorOf(request))).value };
  });
};
