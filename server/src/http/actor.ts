import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/audit.service.ts';
import { who } from './auth.plugin.ts';

/** The caller as the audit log names it: the account's username, or the device's name; 401 for nobody. */
export function actorOf(request: FastifyRequest): AuditActor {
  const p = who(request);
  return p.kind === 'staff'
    ? { id: p.user.id, name: p.user.username, kind: 'user', ip: request.ip }
    : { id: null, name: p.device.name, kind: 'device', ip: request.ip };
}

/** Where a caller who has not signed in (a sign-in, a screen pairing with its code) came from. */
export const addressOf = (request: FastifyRequest) => request.ip;
