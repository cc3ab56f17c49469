/**
 * Which bodies each interaction takes. Runs after the route is known: settles batch vs transaction
 * from the Bundle, moves form-encoded `_search` params into the query, and refuses bodies that
 * would be ignored (GET, HEAD, DELETE) or that the gateway could not authorize.
 */

import { JSON_MEDIA_TYPES, MediaType, utf8Text, XML_MEDIA_TYPES } from './body.js';
import { badRequest, GatewayError } from './errors.js';
import { parseQueryString } from './query-string.js';
import type { HttpMethod, Interaction, QueryParam, RequestBody } from './request.js';
import { checkResourceBody } from './resource-body.js';
import type { Route } from './route.js';
import { quoted } from './url-text.js';

const RESOURCE_MEDIA_TYPES: ReadonlySet<string> = new Set([...JSON_MEDIA_TYPES, ...XML_MEDIA_TYPES]);
/** JSON Patch, or FHIRPath Patch as a Parameters resource in JSON. */
const PATCH_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.jsonPatch, ...JSON_MEDIA_TYPES]);
const FORM_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.form]);
/**
 * Params that only shape the response; the only ones a batch or transaction may carry, and with
 * HAPI's destructive ones, a write by id (route.ts).
 */
export const FORMAT_PARAMS: ReadonlySet<string> = new Set(['_format', '_pretty']);

export interface Settled {
  readonly interaction: Interaction;
  readonly query: readonly QueryParam[];
  readonly body?: RequestBody;
}

export function settleBody(
  method: HttpMethod,
  route: Route,
  urlQuery: readonly QueryParam[],
  body: RequestBody | undefined,
): Settled {
  const interaction = route.interaction;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') {
    if (body) throw badRequest(`A ${method} request must not have a body`, 'unexpected_body');
  }
  switch (interaction) {
    case 'batch-or-transaction':
      return bundleRequest(urlQuery, body);
    case 'create':
    case 'update': {
      const resource = required(
        body,
        RESOURCE_MEDIA_TYPES,
        interaction === 'create' ? 'a create' : 'an update',
      );
      // The body must be what the URL names, or the backend would store what was not authorized.
      checkResourceBody(resource, route.resourceType!, interaction === 'update' ? route.id : undefined);
      return { interaction, query: urlQuery, body: resource };
    }
    case 'patch':
      return { interaction, query: urlQuery, body: required(body, PATCH_MEDIA_TYPES, 'a patch') };
    case 'search-type':
    case 'search-system':
      if (!body) return { interaction, query: urlQuery };
      checkMediaType(body, FORM_MEDIA_TYPES, 'POST _search');
      return { interaction, query: [...urlQuery, ...formParams(body)] };
    case 'operation-system':
    case 'operation-type':
    case 'operation-instance':
      if (body) checkMediaType(body, RESOURCE_MEDIA_TYPES, 'an operation');
      return { interaction, query: urlQuery, body };
    default:
      // Only GET/HEAD/DELETE reach here, and their bodies were refused above.
      return { interaction, query: urlQuery };
  }
}

function bundleRequest(urlQuery: readonly QueryParam[], body: RequestBody | undefined): Settled {
  if (!body) throw badRequest('A POST to the FHIR base needs a batch or transaction Bundle', 'missing_body');
  if (XML_MEDIA_TYPES.has(body.mediaType)) {
    throw badRequest(
      'A batch or transaction Bundle must be JSON, so that each entry can be authorized',
      'bundle_not_json',
    );
  }
  checkMediaType(body, JSON_MEDIA_TYPES, 'a batch or transaction');
  const bundle = body.json();
  const type = isRecord(bundle) && bundle['resourceType'] === 'Bundle' ? bundle['type'] : undefined;
  if (type !== 'batch' && type !== 'transaction') {
    throw badRequest('A POST to the FHIR base needs a Bundle of type batch or transaction', 'not_a_batch');
  }
  const extra = urlQuery.find((param) => !FORMAT_PARAMS.has(param.name));
  if (extra)
    throw badRequest(`Parameter ${quoted(extra.name)} is not allowed on a ${type}`, 'unexpected_param');
  return { interaction: type, query: urlQuery, body };
}

function required(body: RequestBody | undefined, accepted: ReadonlySet<string>, what: string): RequestBody {
  if (!body) throw badRequest(`${capitalized(what)} request needs a body`, 'missing_body');
  checkMediaType(body, accepted, what);
  return body;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function checkMediaType(body: RequestBody, accepted: ReadonlySet<string>, what: string): void {
  if (body.mediaType === '') {
    throw new GatewayError(415, 'unsupported_media_type', 'A request body needs a Content-Type header');
  }
  if (accepted.has(body.mediaType)) return;
  throw new GatewayError(
    415,
    'unsupported_media_type',
    `Content-Type ${quoted(body.mediaType)} is not accepted for ${what} (accepted: ${[...accepted].join(', ')})`,
  );
}

function formParams(body: RequestBody): QueryParam[] {
  // A trailing newline (from `curl --data @file`, say) is not part of the last value.
  return parseQueryString(utf8Text(body.bytes).replace(/[\r\n]+$/, ''), 'form body');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
