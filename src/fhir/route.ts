/**
 * Classification of a decoded path + method into one FHIR interaction (http.html, R4). The grammar
 * is small and closed: every shape not listed here is refused, so no later stage has to guess.
 *
 *   []                      GET search-system | paging (`_getpages`)   POST batch/transaction
 *   [$op | _search | _history | metadata]
 *   [Type]                  GET search-type  POST create  PUT|PATCH|DELETE conditional (needs params)
 *   [Type, _search | _history | $op | id]
 *   [Type, id, _history | $op | Type2 (compartment search)]
 *   [Type, id, _history, vid]
 */

import { FORMAT_PARAMS } from './body-rules.js';
import { badRequest, GatewayError } from './errors.js';
import { isFhirId, isOperationName } from './ids.js';
import type { FhirRequest, HttpMethod, Interaction, QueryParam } from './request.js';
import { isResourceType } from './resource-types.js';
import { quoted } from './url-text.js';

/** Owners of the R4 compartments (compartmentdefinition.html); `Owner/id/Type` needs one of these. */
const COMPARTMENT_OWNERS: ReadonlySet<string> = new Set([
  'Patient',
  'Encounter',
  'RelatedPerson',
  'Practitioner',
  'Device',
]);

/** What the path and method say; the body and query complete it into a FhirRequest. */
export type Route = Pick<
  FhirRequest,
  'resourceType' | 'id' | 'versionId' | 'compartment' | 'operation' | 'conditional'
> & {
  /** `batch-or-transaction` until the body says which (see body-rules.ts). */
  readonly interaction: Interaction | 'batch-or-transaction';
};

type Verb = Exclude<HttpMethod, 'HEAD'>;

export function classifyRoute(
  method: HttpMethod,
  segments: readonly string[],
  query: readonly QueryParam[],
): Route {
  const [first, second, third, fourth] = segments;
  if (first === undefined) return baseRoute(method, query);
  if (!isResourceType(first)) return systemRoute(method, first, segments.length > 1);
  if (second === undefined) return typeRoute(method, first, query);
  if (third === undefined) return typeChildRoute(method, first, second, query);
  if (!isFhirId(second)) throw invalidId(first, second);
  if (fourth === undefined) return instanceChildRoute(method, first, second, third);
  if (third === '_history') {
    if (!isFhirId(fourth)) throw badRequest(`Invalid version id ${quoted(fourth)}`, 'invalid_version_id');
    allow(method, ['GET'], 'a resource version');
    return { interaction: 'vread', resourceType: first, id: second, versionId: fourth, conditional: false };
  }
  throw badRequest(`Unsupported request path ${quoted(segments.join('/'))}`, 'unsupported_path');
}

function baseRoute(method: HttpMethod, query: readonly QueryParam[]): Route {
  allow(method, ['GET', 'POST'], 'the FHIR base');
  if (method === 'POST') return { interaction: 'batch-or-transaction', conditional: false };
  const pages = query.filter((param) => param.name === '_getpages');
  if (pages.length > 1 || pages.some((param) => !/^[A-Za-z0-9._~-]+$/.test(param.value))) {
    // A continuation names one stored search; anything else cannot be bound to its caller (R3).
    throw badRequest('_getpages must be given once, with the id from a paging link', 'invalid_paging_link');
  }
  return { interaction: pages.length === 1 ? 'paging' : 'search-system', conditional: false };
}

function systemRoute(method: HttpMethod, first: string, hasMore: boolean): Route {
  let route: Route;
  if (first.startsWith('$')) {
    allow(method, ['GET', 'POST'], 'a system operation');
    route = { interaction: 'operation-system', operation: operationName(first), conditional: false };
  } else if (first === '_search') {
    allow(method, ['GET', 'POST'], '_search');
    route = { interaction: 'search-system', conditional: false };
  } else if (first === '_history') {
    allow(method, ['GET'], '_history');
    route = { interaction: 'history-system', conditional: false };
  } else if (first === 'metadata') {
    allow(method, ['GET'], 'metadata');
    route = { interaction: 'capabilities', conditional: false };
  } else {
    throw unknownSegment(first);
  }
  if (hasMore) throw badRequest(`${quoted(first)} must be the last path segment`, 'unsupported_path');
  return route;
}

function typeRoute(method: HttpMethod, type: string, query: readonly QueryParam[]): Route {
  const verb = verbOf(method);
  if (verb === 'GET') return { interaction: 'search-type', resourceType: type, conditional: false };
  if (verb === 'POST') {
    checkNoSearchParams('A create', type, query);
    return { interaction: 'create', resourceType: type, conditional: false };
  }
  if (query.length === 0) {
    throw badRequest(
      `${verb} on ${type} without an id needs search parameters (conditional ${verb}: ${type}?identifier=…)`,
      'missing_conditional_params',
    );
  }
  const interaction = verb === 'PUT' ? 'update' : verb === 'PATCH' ? 'patch' : 'delete';
  return { interaction, resourceType: type, conditional: true };
}

function typeChildRoute(
  method: HttpMethod,
  type: string,
  second: string,
  query: readonly QueryParam[],
): Route {
  if (second === '_search') {
    allow(method, ['GET', 'POST'], `${type}/_search`);
    return { interaction: 'search-type', resourceType: type, conditional: false };
  }
  if (second === '_history') {
    allow(method, ['GET'], `${type}/_history`);
    return { interaction: 'history-type', resourceType: type, conditional: false };
  }
  if (second.startsWith('$')) {
    allow(method, ['GET', 'POST'], 'a type operation');
    return {
      interaction: 'operation-type',
      resourceType: type,
      operation: operationName(second),
      conditional: false,
    };
  }
  if (second === '*' || second.startsWith('_')) throw unknownSegment(second);
  if (!isFhirId(second)) throw invalidId(type, second);
  allow(method, ['GET', 'PUT', 'PATCH', 'DELETE'], 'a resource instance');
  const verb = verbOf(method);
  const interaction =
    verb === 'GET' ? 'read' : verb === 'PUT' ? 'update' : verb === 'PATCH' ? 'patch' : 'delete';
  if (interaction !== 'read') checkInstanceWriteParams(interaction, type, second, query);
  return { interaction, resourceType: type, id: second, conditional: false };
}

/** HAPI's destructive delete params, held to a delete permission by the checkers (destructive.ts). */
const DELETE_PARAMS: ReadonlySet<string> = new Set(['_cascade', '_expunge']);

/**
 * An update, patch or delete by id takes no search params (R4 http.html#update, #patch, #delete).
 * Refused, not ignored: some servers read `Type/id?params` as a conditional write and act on what
 * the params find (Medplum's batch processor searches `id?params`), so the resource written would
 * not be the one the gateway judged.
 */
function checkInstanceWriteParams(
  interaction: 'update' | 'patch' | 'delete',
  type: string,
  id: string,
  query: readonly QueryParam[],
): void {
  const what = interaction === 'delete' ? 'A delete' : interaction === 'update' ? 'An update' : 'A patch';
  checkNoSearchParams(
    what,
    `${type}/${id}`,
    query,
    // Destructive params in any case, as destructive.ts finds them (and holds them to a delete).
    (name) => interaction === 'delete' && DELETE_PARAMS.has(name.toLowerCase()),
    `: a conditional ${interaction} is written ${type}?params, without the id`,
  );
}

/**
 * Refuses search params on an interaction FHIR gives none (R4 http.html): a create (its condition
 * is If-None-Exist; Medplum's batch processor would search the entry URL's params instead) and a
 * write by id (checkInstanceWriteParams). `_format` and `_pretty` pass, and what `alsoAllowed` names.
 */
function checkNoSearchParams(
  what: string,
  target: string,
  query: readonly QueryParam[],
  alsoAllowed: (name: string) => boolean = () => false,
  hint = '',
): void {
  const extra = query.find((param) => {
    const name = param.name.split(':', 1)[0]!;
    return !FORMAT_PARAMS.has(name) && !alsoAllowed(name);
  });
  if (extra === undefined) return;
  throw badRequest(
    `${what} of ${target} takes no search parameter (got ${quoted(extra.name)})${hint}`,
    'unexpected_param',
  );
}

function instanceChildRoute(method: HttpMethod, type: string, id: string, third: string): Route {
  if (third === '_history') {
    allow(method, ['GET'], 'an instance _history');
    return { interaction: 'history-instance', resourceType: type, id, conditional: false };
  }
  if (third.startsWith('$')) {
    allow(method, ['GET', 'POST'], 'an instance operation');
    return {
      interaction: 'operation-instance',
      resourceType: type,
      id,
      operation: operationName(third),
      conditional: false,
    };
  }
  if (!isResourceType(third)) throw unknownSegment(third);
  if (!COMPARTMENT_OWNERS.has(type)) {
    throw badRequest(
      `${type} is not a compartment, so ${type}/${id}/${third} is not a search`,
      'not_a_compartment',
    );
  }
  allow(method, ['GET'], 'a compartment search');
  return {
    interaction: 'search-compartment',
    resourceType: third,
    compartment: { resourceType: type, id },
    conditional: false,
  };
}

function operationName(segment: string): string {
  const name = segment.slice(1);
  if (!isOperationName(name))
    throw badRequest(`Invalid operation name ${quoted(segment)}`, 'invalid_operation');
  return name;
}

function unknownSegment(segment: string): GatewayError {
  if (segment === '*') {
    return badRequest('The compartment wildcard "*" is not supported; name the resource type', 'wildcard');
  }
  if (segment.startsWith('_'))
    return badRequest(`Unknown path segment ${quoted(segment)}`, 'unknown_segment');
  return badRequest(
    `Unknown resource type ${quoted(segment)} (FHIR R4 names are case-sensitive)`,
    'unknown_type',
  );
}

function invalidId(type: string, id: string): GatewayError {
  return badRequest(`Invalid ${type} id ${quoted(id)} (1-64 of A-Z a-z 0-9 - .)`, 'invalid_id');
}

/** HEAD is classified as GET; the method itself is kept on the request. */
function verbOf(method: HttpMethod): Verb {
  return method === 'HEAD' ? 'GET' : method;
}

/** 405 with an `Allow` header when the path exists but not for this method; HEAD goes wherever GET goes. */
function allow(method: HttpMethod, allowed: readonly Verb[], what: string): void {
  if (allowed.includes(verbOf(method))) return;
  const methods = allowed.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
  throw new GatewayError(
    405,
    'method_not_allowed',
    `${method} is not allowed on ${what} (allowed: ${methods})`,
    {
      headers: { allow: methods },
    },
  );
}
