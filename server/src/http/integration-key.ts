import type { IntegrationScope } from '@qms/protocol';
import { QueueError } from '../queue/queue.errors.ts';
import { bearer } from './auth.plugin.ts';

// The dossier system and the provincial portal sign in with a site's integration key (made in the
// manager console), not as staff or devices: each key holds scopes, and a route asks for one.

/** The site's integration key in Authorization, with this scope: 401 without one, 403 without the scope. */
export async function requireIntegrationScope(notifications: { keyOfSite(key: string | undefined, siteId: string): Promise<IntegrationScope[] | null> },
  authorization: string | undefined, siteId: string, scope: IntegrationScope): Promise<void> {
  const scopes = await notifications.keyOfSite(bearer(authorization), siteId);
  if (!scopes) throw new QueueError('INVALID_INTEGRATION_KEY', 'Send this site\'s integration key as Authorization: Bearer <key>', 401);
  if (!scopes.includes(scope)) throw new QueueError('INSUFFICIENT_SCOPE', `This key may not do this: it needs the scope ${scope}`, 403, { scope });
}

