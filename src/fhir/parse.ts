/**
 * The parse stage: raw method, target, headers and body in; one classified, validated FhirRequest
 * out. Owns the 400/405/415 answers. The steps run in the order a reader meets them below:
 * method → target characters → path segments → query → route → body rules.
 */

import { mediaTypeOf, requestBody } from './body.js';
import { settleBody } from './body-rules.js';
import { badRequest, GatewayError } from './errors.js';
import { checkTargetCharacters, pathSegments, splitTarget } from './path.js';
import { parseQueryString } from './query-string.js';
import type { FhirRequest, HttpMethod, Mutable, RequestBody } from './request.js';
import { classifyRoute } from './route.js';
import { quoted } from './url-text.js';

export interface RawFhirRequest {
  readonly method: string;
  /** The request-target below the FHIR base, as sent: `''`, `/`, `/Patient/1?x=1`, `?_getpages=…`. */
  readonly target: string;
  /** Header names lower-cased, first value of each. */
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

const METHODS: ReadonlySet<string> = new Set<HttpMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Parses one HTTP request addressed to the FHIR base.
 * @throws GatewayError 400 (invalid or ambiguous), 405 (method), 415 (body media type).
 * @example parseFhirRequest({ method: 'GET', target: '/Patient/1/_history/2', headers: {} })
 *   // → { interaction: 'vread', resourceType: 'Patient', id: '1', versionId: '2', … }
 */
export function parseFhirRequest(input: RawFhirRequest): FhirRequest {
  const method = httpMethod(input.method);
  const bytes = input.body !== undefined && input.body.length > 0 ? input.body : undefined;
  const body = bytes ? requestBody(bytes, mediaTypeOf(input.headers['content-type'])) : undefined;
  return buildFhirRequest(method, input.target, input.headers, body);
}

/** The shared core of the HTTP parser and the Bundle-entry parser, which brings its own body. */
export function buildFhirRequest(
  method: HttpMethod,
  target: string,
  headers: Readonly<Record<string, string>>,
  body: RequestBody | undefined,
): FhirRequest {
  checkTargetCharacters(target);
  const { path, rawQuery } = splitTarget(target);
  const segments = pathSegments(path);
  const urlQuery = parseQueryString(rawQuery, 'query');
  const route = classifyRoute(method, segments, urlQuery);
  const settled = settleBody(method, route, urlQuery, body);
  const condition = conditionOf(headers['if-none-exist'], route.resourceType);
  const request: Mutable<FhirRequest> = {
    method,
    interaction: settled.interaction,
    conditional: route.conditional,
    query: settled.query,
    headers: condition === undefined ? { ...headers } : { ...headers, 'if-none-exist': condition },
  };
  // Unset fields are left out entirely, so `'id' in req` and deep-equal comparisons stay honest.
  // Assigned one by one: Object.entries/fromEntries cost several µs on every request.
  if (route.resourceType !== undefined) request.resourceType = route.resourceType;
  if (route.id !== undefined) request.id = route.id;
  if (route.versionId !== undefined) request.versionId = route.versionId;
  if (route.compartment !== undefined) request.compartment = route.compartment;
  if (route.operation !== undefined) request.operation = route.operation;
  if (settled.body !== undefined) request.body = settled.body;
  return request;
}

/** What may precede a condition's search: `?`, or `Type?` (HAPI's client writes the latter). */
const CONDITION_PREFIX = /^(?:([A-Z][A-Za-z]{0,63}))?\?/;

/**
 * If-None-Exist is the query part of a search (R4 http.html#ccreate), which clients also write
 * after `?` or `Type?`: returned without that prefix, as it is then judged and forwarded. Servers
 * read a prefix, or another `?`, differently (HAPI keeps what follows the first `?`, Medplum
 * searches `Type?` + the value up to its next `?`): a `?` left inside, or another type, is a 400.
 */
function conditionOf(condition: string | undefined, type: string | undefined): string | undefined {
  if (condition === undefined) return undefined;
  const prefix = CONDITION_PREFIX.exec(condition);
  if (prefix?.[1] !== undefined && prefix[1] !== type) {
    throw badRequest(
      `If-None-Exist searches ${quoted(prefix[1])}, not the type created (${type ?? 'none'})`,
      'ambiguous_condition',
    );
  }
  const search = prefix === null ? condition : condition.slice(prefix[0].length);
  if (search.includes('?')) {
    throw badRequest(
      'If-None-Exist holds a "?" inside its search (write it %3F): servers read such a condition differently',
      'ambiguous_condition',
    );
  }
  return search;
}

export function httpMethod(method: string): HttpMethod {
  if (METHODS.has(method)) return method as HttpMethod;
  throw new GatewayError(405, 'method_not_allowed', `HTTP method ${quoted(method)} is not supported`, {
    headers: { allow: [...METHODS].join(', ') },
  });
}
