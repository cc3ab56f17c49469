import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../fhir/errors.js';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;

/**
 * The gateway's public FHIR base URL for one request, put into rewritten bodies and headers.
 * `X-Forwarded-Proto/Host/Prefix` count only with TRUST_PROXY (fastify's trustProxy handles the first two).
 * The host is validated because it is written into JSON bodies.
 */
export function gatewayBaseUrl(request: FastifyRequest, trustProxy: boolean): string {
  const host = request.host;
  if (!host || !HOST.test(host))
    throw new GatewayError(400, 'bad_host', 'The Host header is missing or invalid');
  let prefix = '';
  const forwardedPrefix = request.headers['x-forwarded-prefix'];
  if (trustProxy && typeof forwardedPrefix === 'string' && forwardedPrefix !== '') {
    prefix = forwardedPrefix.replace(/\/+$/, '');
    if (!PREFIX.test(prefix)) throw new GatewayError(400, 'bad_prefix', 'X-Forwarded-Prefix is invalid');
  }
  return `${request.protocol}://${host}${prefix}/fhir`;
}
