import type { ServerResponse } from 'node:http';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Encoding } from './negotiate.js';
import { toFhirXml } from './xml.js';

export const FHIR_JSON = 'application/fhir+json;charset=utf-8';
export const FHIR_XML = 'application/fhir+xml;charset=UTF-8';

/** How one request is answered: with or without a body (HEAD), and in which FHIR format. */
export interface Reply {
  res: ServerResponse;
  includeBody: boolean;
  encoding: Encoding;
}

export function replyTo(res: ServerResponse, includeBody = true, encoding: Encoding = 'json'): Reply {
  return { res, includeBody, encoding };
}

/** A resource in the negotiated format (HEAD: the same headers, no body). */
export function sendResource(
  reply: Reply,
  status: number,
  body: Resource,
  headers: Record<string, string> = {},
): void {
  const xml = reply.encoding === 'xml';
  const payload = Buffer.from(xml ? toFhirXml(body) : JSON.stringify(body));
  reply.res.writeHead(status, {
    ...headers,
    'content-type': xml ? FHIR_XML : FHIR_JSON,
    'content-length': String(payload.length),
  });
  reply.res.end(reply.includeBody ? payload : undefined);
}

/** Plain JSON that is not a FHIR resource (a GraphQL answer). */
export function sendPlainJson(reply: Reply, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body));
  reply.res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': String(payload.length),
  });
  reply.res.end(reply.includeBody ? payload : undefined);
}

/** A status with headers and no body at all (304, `Prefer: return=minimal`). */
export function sendEmpty(reply: Reply, status: number, headers: Record<string, string> = {}): void {
  reply.res.writeHead(status, headers);
  reply.res.end();
}

export function sendFhirJson(
  res: ServerResponse,
  status: number,
  body: Resource,
  headers: Record<string, string> = {},
  includeBody = true,
): void {
  sendResource(replyTo(res, includeBody), status, body, headers);
}

export function sendOutcome(
  target: Reply | ServerResponse,
  status: number,
  outcome: OperationOutcome,
  includeBody = true,
): void {
  const reply = 'res' in target ? target : replyTo(target, includeBody);
  sendResource(reply, status, outcome);
}

/** `ETag` and `Last-Modified` for a single resource, as HAPI sends them. */
export function versionHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) headers['etag'] = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated)
    headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  return headers;
}

/** True when an `If-None-Match` value (a list of weak or strong tags, or `*`) names this version. */
export function etagMatches(ifNoneMatch: string | undefined, versionId: string | undefined): boolean {
  if (!ifNoneMatch || !versionId) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) =>
      tag
        .trim()
        .replace(/^W\//, '')
        .replace(/^"(.*)"$/, '$1'),
    )
    .some((tag) => tag === '*' || tag === versionId);
}

/**
 * True when the resource has not changed since an `If-Modified-Since` date (HTTP dates have
 * whole seconds, so the stored instant is compared at that precision).
 */
export function notModifiedSince(
  ifModifiedSince: string | undefined,
  lastUpdated: string | undefined,
): boolean {
  if (!ifModifiedSince || !lastUpdated) return false;
  const since = Date.parse(ifModifiedSince);
  const updated = Date.parse(lastUpdated);
  if (Number.isNaN(since) || Number.isNaN(updated)) return false;
  return Math.floor(updated / 1000) <= Math.floor(since / 1000);
}
