import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ChannelUpdate, ChannelView, ContactReply, ContactRequest, Delivery, DELIVERY_STATUSES, DossierResultReply, DossierResultRequest,
  NOTIFY_CHANNELS, NotificationSettings, Recipient, RecipientInput, SiteParams, Template, TEMPLATE_PURPOSES, TemplatePreview,
  TemplatePreviewRequest, TemplateUpdate, TestSendReply, TestSendRequest, Webhook, WebhookCreate, IntegrationScopes,
} from '@qms/protocol';
import { managerOfSite } from '../auth/principal.ts';
import { actorOf } from '../http/actor.ts';
import { allow, who } from '../http/auth.plugin.ts';
import { requireIntegrationScope } from '../http/integration-key.ts';
import { errors, noContent } from '../http/replies.ts';

// Notifications and webhooks (docs/notifications.md). The console's settings are for managers
// of the site (and admins); the contact routes are the citizen's, keyed by the ticket's
// unguessable publicId like the phone page; the dossier system signs in with an integration key.

const strict = { additionalProperties: false } as const;
const Uuid = Type.String({ format: 'uuid' });
const ChannelParams = Type.Object({ siteId: SiteParams.properties.siteId, kind: Type.Enum([...NOTIFY_CHANNELS]) }, strict);
const TemplateParams = Type.Object({ siteId: SiteParams.properties.siteId, purpose: Type.Enum([...TEMPLATE_PURPOSES]), lang: Type.Enum(['vi', 'en']) }, strict);
const WebhookParams = Type.Object({ webhookId: Uuid }, strict);
const DeliveryParams = Type.Object({ deliveryId: Uuid }, strict);
const RecipientParams = Type.Object({ recipientId: Uuid }, strict);
const KeyParams = Type.Object({ siteId: SiteParams.properties.siteId, keyId: Uuid }, strict);
const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, strict);
const Limit = Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1..500, default 100' }));
const LogQuery = Type.Object({
  channel: Type.Optional(Type.Enum(['webhook', ...NOTIFY_CHANNELS])),
  status: Type.Optional(Type.Enum([...DELIVERY_STATUSES])),
  limit: Limit,
}, strict);
const Deliveries = Type.Object({ deliveries: Type.Array(Delivery) });
const IntegrationKey = Type.Object({ id: Type.String(), name: Type.String(), scopes: IntegrationScopes, createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]) });
const limitOf = (limit?: string) => Math.min(Number(limit ?? 100), 500);

export const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { notifications } = app.services;
  const manager = (request: Parameters<typeof who>[0], siteId: string) => {
    const p = who(request);
    allow(managerOfSite(p, siteId), 'Only managers of this site manage its notifications');
    return p;
  };
  const tags = ['notifications'];

  // ---- webhooks (API.md "Outgoing webhooks") ---------------------------------------------

  app.post('/sites/:siteId/webhooks', {
    schema: { tags: ['webhooks'], params: SiteParams, body: WebhookCreate, response: { 201: Type.Object({ webhook: Webhook }), ...errors } },
  }, async (request, reply) => {
    manager(request, request.params.siteId);
    return reply.code(201).send({ webhook: await notifications.createWebhook(request.params.siteId, request.body, actorOf(request)) });
  });

  app.get('/sites/:siteId/webhooks', {
    schema: { tags: ['webhooks'], params: SiteParams, response: { 200: Type.Object({ webhooks: Type.Array(Webhook) }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { webhooks: await notifications.webhooks(request.params.siteId) };
  });

  app.delete('/webhooks/:webhookId', {
    schema: { tags: ['webhooks'], params: WebhookParams, response: noContent },
  }, async (request, reply) => {
    manager(request, await notifications.webhookSite(request.params.webhookId));
    await notifications.deleteWebhook(request.params.webhookId, actorOf(request));
    return reply.code(204).send(null);
  });

  app.get('/webhooks/:webhookId/deliveries', {
    schema: { tags: ['webhooks'], params: WebhookParams, querystring: Type.Object({ limit: Limit }, strict), response: { 200: Deliveries, ...errors } },
  }, async (request) => {
    manager(request, await notifications.webhookSite(request.params.webhookId));
    return { deliveries: await notifications.deliveries({ webhookId: request.params.webhookId, limit: limitOf(request.query.limit) }) };
  });

  // ---- every message: the delivery log and "send again" -----------------------------------

  app.get('/sites/:siteId/notifications', {
    schema: { tags, params: SiteParams, querystring: LogQuery, response: { 200: Deliveries, ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    const { channel, status, limit } = request.query;
    return { deliveries: await notifications.deliveries({ siteId: request.params.siteId, ...(channel ? { channel } : {}), ...(status ? { status } : {}), limit: limitOf(limit) }) };
  });

  app.post('/notifications/:deliveryId/resend', {
    schema: { tags, params: DeliveryParams, response: { 200: Type.Object({ delivery: Delivery }), ...errors } },
  }, async (request) => {
    manager(request, await notifications.deliverySite(request.params.deliveryId));
    return { delivery: await notifications.redeliver(request.params.deliveryId) };
  });

  // ---- the site's options and channels ----------------------------------------------------

  app.get('/sites/:siteId/notification-settings', {
    schema: { tags, params: SiteParams, response: { 200: Type.Object({ settings: NotificationSettings }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { settings: await notifications.settings(request.params.siteId) };
  });

  app.put('/sites/:siteId/notification-settings', {
    schema: { tags, params: SiteParams, body: NotificationSettings, response: { 200: Type.Object({ settings: NotificationSettings }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { settings: (await notifications.setSettings(request.params.siteId, request.body, actorOf(request))).value };
  });

  app.get('/sites/:siteId/notification-channels', {
    schema: { tags, params: SiteParams, response: { 200: Type.Object({ channels: Type.Array(ChannelView) }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { channels: await notifications.channels(request.params.siteId) };
  });

  app.put('/sites/:siteId/notification-channels/:kind', {
    schema: { tags, params: ChannelParams, body: ChannelUpdate, response: { 200: Type.Object({ channel: ChannelView }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { channel: (await notifications.setChannel(request.params.siteId, request.params.kind, request.body, actorOf(request))).value };
  });

  app.post('/sites/:siteId/notification-channels/:kind/test', {
    schema: { tags, params: ChannelParams, body: TestSendRequest, response: { 200: TestSendReply, ...errors } },
    config: { rateLimit: app.config.rateLimits ? { max: 10, timeWindow: 60_000 } : false },
  }, async (request) => {
    manager(request, request.params.siteId);
    return notifications.testSend(request.params.siteId, request.params.kind, request.body.to, request.body.lang);
  });

  // ---- leaders --------------------------------------------------------------------------

  app.get('/sites/:siteId/notification-recipients', {
    schema: { tags, params: SiteParams, response: { 200: Type.Object({ recipients: Type.Array(Recipient) }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { recipients: await notifications.recipients(request.params.siteId) };
  });

  app.post('/sites/:siteId/notification-recipients', {
    schema: { tags, params: SiteParams, body: RecipientInput, response: { 201: Type.Object({ recipient: Recipient }), ...errors } },
  }, async (request, reply) => {
    manager(request, request.params.siteId);
    return reply.code(201).send({ recipient: await notifications.saveRecipient(request.params.siteId, request.body, actorOf(request)) });
  });

  app.put('/notification-recipients/:recipientId', {
    schema: { tags, params: RecipientParams, body: RecipientInput, response: { 200: Type.Object({ recipient: Recipient }), ...errors } },
  }, async (request) => {
    const siteId = await notifications.recipientSite(request.params.recipientId);
    manager(request, siteId);
    return { recipient: await notifications.saveRecipient(siteId, request.body, actorOf(request), request.params.recipientId) };
  });

  app.delete('/notification-recipients/:recipientId', {
    schema: { tags, params: RecipientParams, response: noContent },
  }, async (request, reply) => {
    manager(request, await notifications.recipientSite(request.params.recipientId));
    await notifications.deleteRecipient(request.params.recipientId, actorOf(request));
    return reply.code(204).send(null);
  });

  // ---- templates ------------------------------------------------------------------------

  app.get('/sites/:siteId/notification-templates', {
    schema: { tags, params: SiteParams, response: { 200: Type.Object({ templates: Type.Array(Template) }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { templates: await notifications.templates(request.params.siteId) };
  });

  app.put('/sites/:siteId/notification-templates/:purpose/:lang', {
    schema: { tags, params: TemplateParams, body: TemplateUpdate, response: { 200: Type.Object({ template: Template }), ...errors } },
  }, async (request) => {
    const { siteId, purpose, lang } = request.params;
    manager(request, siteId);
    return { template: await notifications.setTemplate(siteId, purpose, lang, request.body, actorOf(request)) };
  });

  app.delete('/sites/:siteId/notification-templates/:purpose/:lang', {
    schema: { tags, description: 'back to the built-in wording', params: TemplateParams, response: { 200: Type.Object({ template: Template }), ...errors } },
  }, async (request) => {
    const { siteId, purpose, lang } = request.params;
    manager(request, siteId);
    return { template: await notifications.resetTemplate(siteId, purpose, lang, actorOf(request)) };
  });

  app.post('/sites/:siteId/notification-templates/preview', {
    schema: { tags, params: SiteParams, body: TemplatePreviewRequest, response: { 200: TemplatePreview, ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return notifications.preview(request.params.siteId, request.body);
  });

  // ---- the dossier system ---------------------------------------------------------------

  app.get('/sites/:siteId/integration-keys', {
    schema: { tags, params: SiteParams, response: { 200: Type.Object({ keys: Type.Array(IntegrationKey) }), ...errors } },
  }, async (request) => {
    manager(request, request.params.siteId);
    return { keys: await notifications.integrationKeys(request.params.siteId) };
  });

  app.post('/sites/:siteId/integration-keys', {
    schema: {
      tags, params: SiteParams,
      description: 'A key for the dossier system or the provincial portal; shown in this answer only. scopes: dossier-results:write (POST /sites/:siteId/dossier-results, the default) and dossiers:read (GET /sites/:siteId/dossiers/:dossierCode)',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }), scopes: Type.Optional(IntegrationScopes) }, strict),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), scopes: IntegrationScopes, key: Type.String() }), ...errors },
    },
  }, async (request, reply) => {
    manager(request, request.params.siteId);
    return reply.code(201).send(await notifications.createIntegrationKey(request.params.siteId, request.body.name, actorOf(request), request.body.scopes));
  });

  app.delete('/sites/:siteId/integration-keys/:keyId', {
    schema: { tags, params: KeyParams, response: noContent },
  }, async (request, reply) => {
    manager(request, request.params.siteId);
    await notifications.deleteIntegrationKey(request.params.siteId, request.params.keyId, actorOf(request));
    return reply.code(204).send(null);
  });

  app.post('/sites/:siteId/dossier-results', {
    schema: {
      tags, description: '"Your result is ready" to the citizen, by the site\'s citizen channel and email. Authorization: Bearer <integration key>. The same dossier code again sends nothing (replayed: true).',
      params: SiteParams, body: DossierResultRequest, response: { 202: DossierResultReply, ...errors },
    },
    config: { rateLimit: app.config.rateLimits ? { max: 600, timeWindow: 60_000 } : false },
  }, async (request, reply) => {
    const { siteId } = request.params;
    const p = request.principal;
    if (!managerOfSite(p, siteId)) await requireIntegrationScope(notifications, request.headers.authorization, siteId, 'dossier-results:write');
    return reply.code(202).send(await notifications.dossierResult(siteId, request.body));
  });

  // ---- the citizen ----------------------------------------------------------------------

  app.post('/public/tickets/:publicId/contact', {
    schema: {
      tags: ['public'], description: 'A phone number for this ticket\'s messages, with the citizen\'s consent (kiosk or phone page)',
      params: PublicIdParams, body: ContactRequest, response: { 201: ContactReply, ...errors },
    },
    config: { rateLimit: app.config.rateLimits ? { max: 10, timeWindow: 60_000 } : false },
  }, async (request, reply) => reply.code(201).send(await notifications.addContact(request.params.publicId, request.body)));

  app.delete('/public/tickets/:publicId/contact', {
    schema: { tags: ['public'], description: 'The citizen withdraws: the number is erased now', params: PublicIdParams, response: noContent },
  }, async (request, reply) => {
    await notifications.removeContact(request.params.publicId);
    return reply.code(204).send(null);
  });
};
