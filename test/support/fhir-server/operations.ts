/**
 * The operations HAPI JPA answers that fhir-router lacks or routes differently:
 * - `Patient/<id>/$everything` (GET or POST): a searchset of the patient, its compartment and what
 *   those reference (search-answer.ts), paged like a search.
 * - `Composition/<id>/$document`: a `document` Bundle, the Composition first, then everything it
 *   references, recursively (HAPI runs `_id=<id>&_include:iterate=*`).
 * - `$graphql` at the system level and `<Type>/<id>/$graphql` (GET `?query=`, or POST with the query
 *   as the body or a JSON `{"query": …}`): Medplum's GraphQL engine; at the instance level the
 *   query's fields apply to that resource, and the answer is HAPI's `{"data": {…}}` JSON.
 * Anything else goes on to the router (which answers 404 for operations it does not know).
 */
import { randomUUID } from 'node:crypto';
import { getStatus, isResourceType } from '@medplum/core';
import type { FhirRequest } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirBackend } from './fhir-handler.js';
import { type Reply, sendOutcome, sendPlainJson, sendResource } from './http-response.js';
import { findIncluded } from './includes.js';
import type { RecordedRequest } from './recorded-request.js';
import { readKey } from './references.js';
import { problem } from './request-body.js';
import { answerEverything } from './search-answer.js';

/** Answers the operation and returns true, or returns false when it is not one of these. */
export async function answerOperation(
  backend: FhirBackend,
  reply: Reply,
  method: string,
  segments: string[],
  params: URLSearchParams,
  request: RecordedRequest,
): Promise<boolean> {
  if (method !== 'GET' && method !== 'POST') return false;
  const [type = '', id = '', operation] = segments;
  if (segments.length === 1 && type === '$graphql') {
    await answerGraphql(backend, reply, method, params, request);
    return true;
  }
  if (segments.length !== 3 || !isResourceType(type)) return false;
  if (operation === '$graphql') {
    await answerGraphql(backend, reply, method, params, request, { type, id });
    return true;
  }
  if (operation === '$everything' && type === 'Patient') {
    await answerEverything(backend, reply, id, params);
    return true;
  }
  if (operation === '$document' && type === 'Composition') {
    await answerDocument(backend, reply, id);
    return true;
  }
  return false;
}

async function answerDocument(backend: FhirBackend, reply: Reply, compositionId: string): Promise<void> {
  const composition = await readKey(backend.repo, `Composition/${compositionId}`);
  if (!composition) {
    return sendOutcome(
      reply,
      404,
      problem('not-found', `Resource Composition/${compositionId} is not known`),
    );
  }
  const included = await findIncluded(
    backend.repo,
    backend.baseUrl,
    [composition],
    [{ reverse: false, iterate: true, sourceType: '*', param: '*' }],
  );
  const id = randomUUID();
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id,
    meta: { lastUpdated: new Date().toISOString() },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${id}` },
    type: 'document',
    timestamp: new Date().toISOString(),
    entry: [composition, ...included].map((resource: Resource) => ({
      fullUrl: `${backend.baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
    })),
  };
  sendResource(reply, 200, bundle);
}

async function answerGraphql(
  backend: FhirBackend,
  reply: Reply,
  method: string,
  params: URLSearchParams,
  request: RecordedRequest,
  focus?: { type: string; id: string },
): Promise<void> {
  const query = method === 'GET' ? params.get('query') : graphqlBody(request);
  if (!query?.trim()) {
    return sendOutcome(reply, 400, problem('invalid', 'HAPI-1144: Unable to parse empty GraphQL expression'));
  }
  let document = query;
  if (focus) {
    if (
      !/^[A-Za-z0-9\-.]{1,64}$/.test(focus.id) ||
      !(await readKey(backend.repo, `${focus.type}/${focus.id}`))
    ) {
      return sendOutcome(reply, 404, problem('not-found', `Resource ${focus.type}/${focus.id} is not known`));
    }
    const focused = focusQuery(query, focus.type, focus.id);
    if (focused === undefined) {
      return sendOutcome(reply, 400, problem('invalid', 'HAPI-1146: Unable to parse GraphQL Expression'));
    }
    document = focused;
  }
  const graphqlRequest: FhirRequest = {
    method: 'POST',
    url: '$graphql',
    pathname: '',
    body: { query: document },
    params: {},
    query: {},
  };
  const [outcome, result] = await backend.router.handleRequest(graphqlRequest, backend.repo);
  if (!result) return sendOutcome(reply, getStatus(outcome) === 200 ? 400 : getStatus(outcome), outcome);
  const { data, errors } = result as unknown as { data?: Record<string, unknown> | null; errors?: unknown[] };
  if (errors && errors.length > 0) {
    const messages = errors.map((e) => (e as { message?: string }).message ?? String(e)).join('; ');
    return sendOutcome(
      reply,
      400,
      problem('invalid', `HAPI-1147: Unable to execute GraphQL Expression: ${messages}`),
    );
  }
  sendPlainJson(reply, 200, { data: focus ? (data?.[focus.type] ?? null) : (data ?? null) });
}

function graphqlBody(request: RecordedRequest): string | null {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.includes('json')) return request.body;
  try {
    const parsed = JSON.parse(request.body) as { query?: unknown };
    return typeof parsed?.query === 'string' ? parsed.query : null;
  } catch {
    return null;
  }
}

/**
 * Wraps the query's top-level selection set in `Type(id: "…") { … }`, so Medplum's root-level
 * schema answers an instance-level query. Undefined when the braces do not balance.
 */
function focusQuery(query: string, type: string, id: string): string | undefined {
  const open = query.indexOf('{');
  if (open === -1) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = open; i < query.length; i++) {
    const char = query[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) {
      const selection = query.slice(open, i + 1);
      return `${query.slice(0, open)}{ ${type}(id: "${id}") ${selection} }${query.slice(i + 1)}`;
    }
  }
  return undefined;
}
