/**
 * Batch and transaction Bundles, taken apart: each entry becomes the same FhirRequest the
 * equivalent standalone HTTP request would give, so checkers authorize entries with the code they
 * use for everything else (http.html#transaction).
 */

import { jsonBody, MediaType, requestBody } from './body.js';
import { badRequest, GatewayError } from './errors.js';
import { buildFhirRequest } from './parse.js';
import type { FhirRequest, HttpMethod, RequestBody } from './request.js';

const ENTRY_METHODS: ReadonlySet<string> = new Set<HttpMethod>([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
]);

/** Bundle.entry.request fields that travel as HTTP headers in a standalone request. */
const CONDITION_HEADERS = {
  ifNoneMatch: 'if-none-match',
  ifModifiedSince: 'if-modified-since',
  ifMatch: 'if-match',
  ifNoneExist: 'if-none-exist',
} as const;

/** Headers of the enclosing request that describe its own body or conditions, not an entry's. */
const OUTER_ONLY_HEADERS = ['content-type', 'content-length', ...Object.values(CONDITION_HEADERS)];

/**
 * The entries of a batch or transaction request, unparsed: [] for a Bundle without `entry` (valid
 * FHIR), 400 when `entry` is there but not an array.
 */
export function bundleEntries(req: FhirRequest): unknown[] {
  if ((req.interaction !== 'batch' && req.interaction !== 'transaction') || req.body === undefined) {
    throw badRequest('Not a batch or transaction request', 'not_a_batch');
  }
  const bundle = req.body.json();
  const entries = isRecord(bundle) ? bundle['entry'] : undefined;
  if (entries === undefined) return [];
  if (!Array.isArray(entries))
    throw badRequest(`The ${req.interaction} Bundle has no entry array`, 'invalid_bundle');
  return entries;
}

/**
 * Refuses a batch or transaction with more than `maxEntries` entries (BUNDLE_MAX_ENTRIES), before
 * anything looks at them: each entry can cost the checkers and the FHIR server a request, so the
 * count bounds the work one request causes (issue 8, case D1). Other requests pass untouched.
 * @throws GatewayError 413 `too_many_entries`
 */
export function checkBundleSize(req: FhirRequest, maxEntries: number): void {
  if (req.interaction !== 'batch' && req.interaction !== 'transaction') return;
  const count = bundleEntries(req).length;
  if (count > maxEntries) {
    throw new GatewayError(
      413,
      'too_many_entries',
      `The ${req.interaction} Bundle has ${count} entries; at most ${maxEntries} are accepted (BUNDLE_MAX_ENTRIES)`,
    );
  }
}

/**
 * One Bundle entry as a FhirRequest. `headers` are the enclosing request's (e.g. `accept`); the
 * entry's own conditions (`ifMatch`, `ifNoneExist`, …) replace any of the same name.
 * @throws GatewayError 400 naming the entry index for anything malformed, including a nested
 *   batch or transaction and problems the standalone parser would answer with 405 or 415.
 */
export function parseEntryRequest(
  entry: unknown,
  index: number,
  headers: Record<string, string> = {},
): FhirRequest {
  const fail = (message: string) => badRequest(`Bundle entry ${index}: ${message}`, 'invalid_bundle_entry');
  const request = isRecord(entry) ? entry['request'] : undefined;
  if (!isRecord(entry) || !isRecord(request)) throw fail('request is missing');
  const method = request['method'];
  if (typeof method !== 'string' || !ENTRY_METHODS.has(method)) {
    throw fail(`request.method must be one of ${[...ENTRY_METHODS].join(', ')}`);
  }
  const target = entryTarget(request['url'], fail);
  const body = entryBody(method as HttpMethod, entry['resource'], fail);
  const entryHeaders = Object.fromEntries(
    Object.entries(headers).filter(([name]) => !OUTER_ONLY_HEADERS.includes(name)),
  );
  for (const [field, header] of Object.entries(CONDITION_HEADERS)) {
    const value = request[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw fail(`request.${field} must be a string`);
    entryHeaders[header] = value;
  }
  // Forwarded as written: `Type?` + a leading `?` made Medplum search with no condition at all.
  if (typeof request['ifNoneExist'] === 'string' && request['ifNoneExist'].includes('?')) {
    throw fail('request.ifNoneExist is the query part of a search, without "?" (R4 Bundle.entry.request)');
  }
  if (body) entryHeaders['content-type'] = body.mediaType;

  let parsed: FhirRequest;
  try {
    parsed = buildFhirRequest(method as HttpMethod, target, entryHeaders, body);
  } catch (error) {
    if (error instanceof GatewayError) throw fail(error.message);
    throw error;
  }
  if (parsed.interaction === 'batch' || parsed.interaction === 'transaction') {
    throw fail('a batch or transaction inside a Bundle entry is not supported');
  }
  // An entry URL is forwarded as written, and servers read its `?`s differently from the gateway.
  const writesById = parsed.id !== undefined && INSTANCE_WRITES.has(parsed.interaction);
  if ((writesById || parsed.interaction === 'create') && target.includes('?')) {
    // `Type/id?…` is a conditional write to Medplum's batch processor, even with no params or only
    // `_format`; a create's URL params join its ifNoneExist search there.
    const what = writesById ? `${parsed.resourceType}/${parsed.id}` : String(parsed.resourceType);
    throw fail(`a ${method} of ${what} must not have a query ("?") in request.url`);
  }
  if (target.indexOf('?') !== target.lastIndexOf('?')) {
    // Medplum keeps what lies between the first and second `?`, HAPI what follows the first.
    throw fail('request.url holds a second "?"; write a "?" inside a search value as %3F');
  }
  return parsed;
}

const INSTANCE_WRITES: ReadonlySet<FhirRequest['interaction']> = new Set(['update', 'patch', 'delete']);

/** `Patient/1`, `/Patient/1` and `Patient?x=1` are relative to the base; absolute URLs are refused. */
function entryTarget(url: unknown, fail: (message: string) => GatewayError): string {
  if (typeof url !== 'string' || url === '') throw fail('request.url is missing');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) || url.startsWith('//')) {
    throw fail('request.url must be relative to the FHIR base (like Patient/123), not an absolute URL');
  }
  // Hand-written Bundles often carry raw spaces or non-ASCII in search values; encode those so the
  // target follows the same rules as a request line. Lone surrogates make encodeURIComponent throw.
  let target: string;
  try {
    target = url.replace(/[ \u0080-\uffff]+/g, (text) => encodeURIComponent(text));
  } catch {
    throw fail('request.url is not valid Unicode');
  }
  return target.startsWith('/') || target.startsWith('?') ? target : `/${target}`;
}

function entryBody(
  method: HttpMethod,
  resource: unknown,
  fail: (message: string) => GatewayError,
): RequestBody | undefined {
  if (resource === undefined) return undefined;
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') {
    throw fail(`a ${method} entry must not carry a resource`);
  }
  if (!isRecord(resource)) throw fail('resource must be a JSON object');
  if (method === 'PATCH' && resource['resourceType'] === 'Binary') return jsonPatchBody(resource, fail);
  return jsonBody(resource, MediaType.fhirJson);
}

/** A JSON Patch travels in a transaction as a Binary resource with base64 data (http.html#patch). */
function jsonPatchBody(
  binary: Record<string, unknown>,
  fail: (message: string) => GatewayError,
): RequestBody {
  if (binary['contentType'] !== MediaType.jsonPatch) {
    throw fail(`a PATCH Binary must have contentType ${MediaType.jsonPatch}`);
  }
  const data = typeof binary['data'] === 'string' ? binary['data'].replace(/\s+/g, '') : '';
  if (data === '' || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    throw fail('a PATCH Binary needs its JSON Patch as base64 data');
  }
  return requestBody(Buffer.from(data, 'base64'), MediaType.jsonPatch);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
