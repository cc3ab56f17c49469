import type { ServerResponse } from 'node:http';
import { getStatus, isResourceType } from '@medplum/core';
import type { FhirRequest, FhirRouter, HttpMethod, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { completeBundle } from './bundle-links.js';
import { buildCapabilityStatement } from './capability-statement.js';
import { compartmentSearchParam } from './compartment.js';
import { etagMatches, sendFhirJson, sendOutcome, versionHeaders } from './http-response.js';
import type { RecordedRequest } from './recorded-request.js';
import { parseRequestBody, problem, toRouterQuery } from './request-body.js';

export interface FhirBackend {
  repo: MemoryRepository;
  router: FhirRouter;
  basePath: string;
  baseUrl: string;
  startedAt: string;
}

type Failure = { status: number; outcome: OperationOutcome };
/** The request as fhir-router should see it: path segments below the base, and the search parameters. */
type Target = { segments: string[]; params: URLSearchParams };

const routerMethods = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Answers one recorded HTTP request from the in-memory repository through fhir-router. */
export async function answerFhirRequest(
  backend: FhirBackend,
  request: RecordedRequest,
  res: ServerResponse,
): Promise<void> {
  const includeBody = request.method !== 'HEAD';
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const target = resolveTarget(backend.basePath, request);
  if ('outcome' in target) return sendOutcome(res, target.status, target.outcome, includeBody);
  const { segments, params } = target;

  if (method === 'GET' && segments.length === 1 && segments[0] === 'metadata') {
    return sendFhirJson(
      res,
      200,
      buildCapabilityStatement(backend.baseUrl, backend.startedAt),
      {},
      includeBody,
    );
  }
  if (!routerMethods.has(method)) {
    return sendOutcome(res, 405, problem('not-supported', `Method not allowed: ${method}`), includeBody);
  }
  if (segments[0] !== undefined && !isResourceType(segments[0])) {
    return sendOutcome(res, 404, problem('not-found', `Unknown resource type: ${segments[0]}`), includeBody);
  }

  const body = buildRouterBody(method, segments, params, request);
  if ('outcome' in body) return sendOutcome(res, body.status, body.outcome, includeBody);

  const query = params.toString();
  const fhirRequest: FhirRequest = {
    method: method as HttpMethod,
    url: segments.join('/') + (query === '' ? '' : `?${query}`),
    pathname: '',
    body: body.value,
    params: {},
    query: toRouterQuery(params),
    headers: request.headers,
    config: { transactions: true },
  };
  const [outcome, resource] = await backend.router.handleRequest(fhirRequest, backend.repo);
  const status = getStatus(outcome);
  if (!resource) return sendOutcome(res, status, outcome, includeBody);

  if (resource.resourceType === 'Bundle') {
    const searchType = isSearch(method, segments) ? segments[0] : undefined;
    completeBundle(resource as Bundle, backend.baseUrl, searchType, params);
    return sendFhirJson(res, status, resource, {}, includeBody);
  }
  const headers = versionHeaders(resource);
  if (
    method === 'GET' &&
    status === 200 &&
    etagMatches(request.headers['if-none-match'], resource.meta?.versionId)
  ) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (status === 201) {
    headers['location'] =
      `${backend.baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  }
  sendFhirJson(res, status, resource, headers, includeBody);
}

function resolveTarget(basePath: string, request: RecordedRequest): Target | Failure {
  const { path } = request;
  if (path !== basePath && !path.startsWith(`${basePath}/`)) {
    return { status: 404, outcome: problem('not-found', `No FHIR endpoint at ${path}`) };
  }
  let segments: string[];
  try {
    segments = path.slice(basePath.length).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { status: 400, outcome: problem('invalid', `Malformed path: ${path}`) };
  }
  const params = new URLSearchParams(request.query);
  const [compartmentType, compartmentId, targetType] = segments;
  if (segments.length === 3 && compartmentType && compartmentId && targetType && isResourceType(targetType)) {
    const param = compartmentSearchParam(compartmentType, targetType);
    if (!param) {
      return {
        status: 404,
        outcome: problem('not-found', `No ${compartmentType} compartment search for ${targetType}`),
      };
    }
    params.append(param, `${compartmentType}/${compartmentId}`);
    return { segments: [targetType], params };
  }
  return { segments, params };
}

function isSearch(method: string, segments: string[]): boolean {
  if (method === 'GET') return segments.length === 1;
  return method === 'POST' && segments.length === 2 && segments[1] === '_search';
}

/** The body fhir-router wants: a resource, a patch array, or (for POST `_search`) the merged search fields. */
function buildRouterBody(
  method: string,
  segments: string[],
  params: URLSearchParams,
  request: RecordedRequest,
): { value: unknown } | Failure {
  if (method === 'GET' || method === 'DELETE') return { value: undefined };
  const parsed = parseRequestBody(request.body, request.headers['content-type']);
  if (!parsed.ok) return parsed;

  if (isSearch(method, segments)) {
    if (parsed.kind === 'json') {
      return { status: 415, outcome: problem('not-supported', 'POST _search takes form-urlencoded fields') };
    }
    // Search fields in the body join those in the URL; the links then carry both.
    if (parsed.kind === 'form') for (const [key, value] of parsed.value) params.append(key, value);
    return { value: toRouterQuery(params) };
  }
  if (parsed.kind !== 'json') {
    return { status: 400, outcome: problem('invalid', `${method} needs a JSON body`) };
  }
  if (method === 'PATCH') return { value: parsed.value };
  if (!isObject(parsed.value)) {
    return { status: 400, outcome: problem('invalid', 'The body must be a JSON object') };
  }
  if (method === 'POST' && segments.length === 1) return { value: withoutServerFields(parsed.value) };
  return { value: parsed.value };
}

/** Like HAPI, a create ignores the client's id and version: the server assigns them. */
function withoutServerFields(resource: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...rest } = resource;
  if (isObject(rest.meta)) {
    const { versionId: _versionId, lastUpdated: _lastUpdated, ...meta } = rest.meta;
    rest.meta = meta;
  }
  return rest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
