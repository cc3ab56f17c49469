import type { ServerResponse } from 'node:http';
import { getStatus, isResourceType } from '@medplum/core';
import type { FhirRequest, FhirRouter, HttpMethod, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { completeBundle } from './bundle-links.js';
import { buildCapabilityStatement } from './capability-statement.js';
import { compartmentSearchParam } from './compartment.js';
import {
  etagMatches,
  notModifiedSince,
  type Reply,
  replyTo,
  sendEmpty,
  sendOutcome,
  sendResource,
  versionHeaders,
} from './http-response.js';
import { responseEncoding } from './negotiate.js';
import { answerOperation } from './operations.js';
import { gcpTokenOffset, type PagingMode, type SearchStore } from './paging.js';
import type { RecordedRequest } from './recorded-request.js';
import { stalePatch, stalePatchEntries, withoutEntries, withStaleAnswers } from './patch-if-match.js';
import { parseRequestBody, problem, toRouterQuery } from './request-body.js';
import { answerContinuation, answerSearch } from './search-answer.js';

export interface FhirBackend {
  repo: MemoryRepository;
  router: FhirRouter;
  basePath: string;
  baseUrl: string;
  startedAt: string;
  paging: PagingMode;
  /** The page size of HAPI paging when the search has no `_count`. */
  pageSize: number;
  searches: SearchStore;
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
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const reply = replyTo(
    res,
    request.method !== 'HEAD',
    responseEncoding(request.query, request.headers['accept']),
  );
  const target = resolveTarget(backend.basePath, request);
  if ('outcome' in target) return sendOutcome(reply, target.status, target.outcome);
  const { segments, params } = target;

  if (method === 'GET' && segments.length === 1 && segments[0] === 'metadata') {
    return sendResource(reply, 200, buildCapabilityStatement(backend.baseUrl, backend.startedAt));
  }
  if (!routerMethods.has(method)) {
    return sendOutcome(reply, 405, problem('not-supported', `Method not allowed: ${method}`));
  }
  if (segments.some((segment) => segment.startsWith('$'))) {
    if (await answerOperation(backend, reply, method, segments, params, request)) return;
  }
  if (segments[0] !== undefined && !isResourceType(segments[0])) {
    return sendOutcome(reply, 404, problem('not-found', `Unknown resource type: ${segments[0]}`));
  }
  // HAPI treats a blank `_getpages` as absent.
  if (method === 'GET' && segments.length === 0 && params.get('_getpages')) {
    return answerContinuation(backend, reply, params);
  }
  if (isSearch(method, segments)) {
    const merged = mergeSearchBody(method, params, request);
    if ('outcome' in merged) return sendOutcome(reply, merged.status, merged.outcome);
    if (backend.paging === 'gcp' && merged.has('_page_token')) {
      const offset = gcpTokenOffset(merged.get('_page_token') ?? '');
      if (offset === undefined) return sendOutcome(reply, 400, problem('invalid', 'invalid page token'));
      merged.delete('_page_token');
      merged.set('_offset', String(offset));
    }
    return answerSearch(backend, reply, { ...(segments[0] ? { type: segments[0] } : {}), params: merged });
  }

  const body = buildRouterBody(method, segments, request);
  if ('outcome' in body) return sendOutcome(reply, body.status, body.outcome);
  if (method === 'PATCH') {
    const stale = await stalePatch(backend.repo, segments.join('/'), request.headers['if-match']);
    if (stale) return sendOutcome(reply, 412, problem('conflict', stale));
  }
  const staleEntries =
    method === 'POST' && segments.length === 0
      ? await stalePatchEntries(backend.repo, body.value)
      : new Map<number, string>();
  if (staleEntries.size > 0) {
    const bundle = body.value as Bundle;
    if (bundle.type === 'transaction') {
      return sendOutcome(reply, 412, problem('conflict', [...staleEntries.values()][0]!));
    }
    const total = bundle.entry?.length ?? 0;
    const rest = withoutEntries(bundle, staleEntries);
    let answered: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: [] };
    if ((rest.entry ?? []).length > 0) {
      const [outcome, resource] = await backend.router.handleRequest(
        routerRequest(method, segments, params, request, rest),
        backend.repo,
      );
      if (!resource) return sendOutcome(reply, getStatus(outcome), outcome);
      answered = resource as Bundle;
    }
    answered = { ...answered, entry: withStaleAnswers(answered.entry ?? [], staleEntries, total) };
    completeBundle(answered, backend.baseUrl);
    return sendResource(reply, 200, answered);
  }
  const fhirRequest = routerRequest(method, segments, params, request, body.value);
  const [outcome, resource] = await backend.router.handleRequest(fhirRequest, backend.repo);
  const status = getStatus(outcome);
  if (!resource) return sendOutcome(reply, status, outcome);

  // History and batch/transaction answers are the router's own Bundles; a stored Bundle is a resource.
  if (resource.resourceType === 'Bundle' && (segments.length === 0 || segments.at(-1) === '_history')) {
    completeBundle(resource as Bundle, backend.baseUrl);
    return sendResource(reply, status, resource);
  }
  const headers = versionHeaders(resource);
  if (method === 'GET') {
    if (status === 200 && notModified(request.headers, resource)) return sendEmpty(reply, 304, headers);
    return sendResource(reply, status, resource, headers);
  }
  const isCreate = method === 'POST' && segments.length === 1;
  if (status === 201 || isCreate) {
    const location = `${backend.baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
    headers['location'] = location;
    if (isCreate) headers['content-location'] = location;
  }
  sendWriteAnswer(reply, status, resource, headers, request.headers['prefer'], isCreate);
}

function routerRequest(
  method: string,
  segments: string[],
  params: URLSearchParams,
  request: RecordedRequest,
  body: unknown,
): FhirRequest {
  const query = params.toString();
  return {
    method: method as HttpMethod,
    url: segments.join('/') + (query === '' ? '' : `?${query}`),
    pathname: '',
    body,
    params: {},
    query: toRouterQuery(params),
    headers: routerHeaders(request.headers),
    config: { transactions: true },
  };
}

/** RFC 7232 §6: `If-None-Match` decides when present; `If-Modified-Since` only without it. */
function notModified(headers: Record<string, string>, resource: Resource): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch) return etagMatches(ifNoneMatch, resource.meta?.versionId);
  return notModifiedSince(headers['if-modified-since'], resource.meta?.lastUpdated);
}

/** `Prefer: return=minimal` → no body; `return=OperationOutcome` → an outcome instead of the resource. */
function sendWriteAnswer(
  reply: Reply,
  status: number,
  resource: Resource,
  headers: Record<string, string>,
  prefer: string | undefined,
  isCreate: boolean,
): void {
  const wanted = /(?:^|[,;\s])return\s*=\s*"?([A-Za-z]+)"?/.exec(prefer ?? '')?.[1];
  if (wanted === 'minimal') {
    sendEmpty(reply, status, headers);
    return;
  }
  if (wanted === 'OperationOutcome') {
    const verb = status === 201 ? 'created' : isCreate ? 'matched' : 'updated';
    const url = `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'informational',
          diagnostics: `Successfully ${verb} resource "${url}".`,
        },
      ],
    };
    sendResource(reply, status, outcome, headers);
    return;
  }
  sendResource(reply, status, resource, headers);
}

/** HAPI accepts `If-None-Exist` as `Patient?name=x` or an absolute URL too; Medplum wants `name=x`. */
function routerHeaders(headers: Record<string, string>): Record<string, string> {
  const ifNoneExist = headers['if-none-exist'];
  if (ifNoneExist === undefined || !ifNoneExist.includes('?')) return headers;
  return { ...headers, 'if-none-exist': ifNoneExist.slice(ifNoneExist.indexOf('?') + 1) };
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

/** GET on a type (or on the base: a system search over `_type`), or POST `Type/_search`. */
function isSearch(method: string, segments: string[]): boolean {
  if (method === 'GET') return segments.length <= 1;
  return method === 'POST' && segments.length === 2 && segments[1] === '_search';
}

/** For POST `_search`, the form fields join the URL's parameters (and the links then carry both). */
function mergeSearchBody(
  method: string,
  params: URLSearchParams,
  request: RecordedRequest,
): URLSearchParams | Failure {
  if (method !== 'POST') return params;
  const parsed = parseRequestBody(request.body, request.headers['content-type']);
  if (!parsed.ok) return parsed;
  if (parsed.kind === 'json') {
    return { status: 415, outcome: problem('not-supported', 'POST _search takes form-urlencoded fields') };
  }
  if (parsed.kind === 'form') for (const [key, value] of parsed.value) params.append(key, value);
  return params;
}

/** The body fhir-router wants: a resource, or a patch array. */
function buildRouterBody(
  method: string,
  segments: string[],
  request: RecordedRequest,
): { value: unknown } | Failure {
  if (method === 'GET' || method === 'DELETE') return { value: undefined };
  const parsed = parseRequestBody(request.body, request.headers['content-type']);
  if (!parsed.ok) return parsed;
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
