import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditPage, AuditQuery, SiteParams } from '@qms/protocol';
import { isAdmin, managerOfSite } from '../auth/principal.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { errors } from '../http/replies.ts';

// The audit log (docs/audit.md; audit/audit.service.ts): configuration, account, role and
// sign-in changes, most recent first, filtered and a page at a time. Its CSV goes with the
// reports (report.routes.ts).

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { audit } = app.services;
  const schema = { tags: ['audit'], querystring: AuditQuery, response: { 200: AuditPage, ...errors } };

  app.get('/sites/:siteId/audit', {
    schema: {
      ...schema, params: SiteParams,
      description: "The site's entries (and sign-ins of its accounts that also belong to other sites), most recent first: managers of the site, administrators. "
        + '`next`: pass it as `before` for the page after. Times carry the site\'s offset.',
    },
  }, async (request) => {
    allow(managerOfSite(who(request), request.params.siteId), 'Only managers of this site read its audit log');
    return audit.forSite(request.params.siteId, request.query);
  });

  app.get('/audit', {
    schema: { ...schema, description: 'Every entry of every site, and those of no site (administrators\' sign-ins, accounts of several sites): administrators.' },
  }, async (request) => {
    allow(isAdmin(who(request)), 'Only administrators read the whole audit log');
    return audit.forAll(request.query);
  });
};
