/**
 * SMART v2 granular criteria (`patient/Observation.rs?category=laboratory`), judged resource by
 * resource with @medplum/core's search matching. Only what that matcher evaluates the way a FHIR
 * server searches is accepted: token params (plain, `:not`, `:missing`), reference params (plain,
 * `:missing`) and date params (with their prefixes). Anything else (string params, which the
 * matcher reads as "contains" where servers read "starts with"; quantities; chains; `_has`;
 * modifiers such as `:text` or `:in`; result params such as `_count`) makes the scope unusable:
 * it grants nothing, and a request that only it would allow is refused with the reason.
 */
import {
  getSearchParameter,
  matchesSearchRequest,
  parseSearchRequest,
  type SearchRequest,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { QueryParam } from '../fhir/request.js';
import { formatQuery } from '../fhir/serialize.js';
import { ensureSearchParameters } from '../fhir/definitions.js';

const MODIFIERS: Readonly<Record<string, ReadonlySet<string | undefined>>> = {
  token: new Set([undefined, 'not', 'missing']),
  reference: new Set([undefined, 'missing']),
  date: new Set([undefined, 'missing']),
};

/** Why the matcher cannot hold resources of `type` to `criteria`; undefined when it can. */
export function unsupportedCriteria(type: string, criteria: readonly QueryParam[]): string | undefined {
  ensureSearchParameters();
  for (const { name } of criteria) {
    const [code = '', modifier, ...rest] = name.split(':');
    if (code.includes('.') || code.startsWith('_has') || rest.length > 0) {
      return `${name} searches other resources`;
    }
    const param = getSearchParameter(type, code);
    if (param === undefined) return `${code} is not a search parameter of ${type}`;
    const allowed = MODIFIERS[param.type ?? ''];
    if (allowed === undefined) return `${code} is a ${param.type} parameter, which the gateway cannot match`;
    if (!allowed.has(modifier)) return `the modifier :${modifier} cannot be matched`;
  }
  return undefined;
}

const parsed = new Map<string, SearchRequest>();

/** True when `resource` matches the criteria (as a search of its type would). */
export function matchesCriteria(resource: Resource, criteria: readonly QueryParam[]): boolean {
  const key = `${resource.resourceType}?${formatQuery(criteria)}`;
  let request = parsed.get(key);
  if (request === undefined) {
    request = parseSearchRequest(key);
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(key, request);
  }
  try {
    return matchesSearchRequest(resource, request);
  } catch {
    return false;
  }
}
