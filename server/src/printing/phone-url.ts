import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';

// The phone page of a ticket (/t/:publicId) is what its QR code opens, printed and on screen.
// QMS_PUBLIC_URL names it when phones reach the server by another address than the kiosks do
// (a public name, a reverse proxy); otherwise the address the kiosk itself used is the best
// guess, since a phone on the centre's Wi-Fi reaches the server the same way.

const HOST = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$/;

export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>, request?: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  // the Host header comes from the caller: only a plain host[:port] may reach a QR code
  if (request && HOST.test(request.host)) return `${request.protocol}://${request.host}`;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host}:${config.port}`;
}

export const phoneUrl = (baseUrl: string, publicId: string) => `${baseUrl}/t/${encodeURIComponent(publicId)}`;
