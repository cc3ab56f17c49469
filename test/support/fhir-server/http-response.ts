import type { ServerResponse } from 'node:http';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

export const FHIR_JSON = 'application/fhir+json;charset=utf-8';

export function sendFhirJson(
  res: ServerResponse,
  status: number,
  body: Resource,
  headers: Record<string, string> = {},
  includeBody = true,
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': FHIR_JSON, 'content-length': String(payload.length) });
  res.end(includeBody ? payload : undefined);
}

export function sendOutcome(
  res: ServerResponse,
  status: number,
  outcome: OperationOutcome,
  includeBody = true,
): void {
  sendFhirJson(res, status, outcome, {}, includeBody);
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
