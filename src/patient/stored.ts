/**
 * The versions a write is judged on besides its body: the stored resource it replaces, patches or
 * deletes, and the resource a JSON Patch would leave. Read once per request (memoOnRequest), so
 * the checkers composed for one request (`patient,list`) share one backend read.
 */
import type { DeniedDecision, FhirClient } from '../access/contract.js';
import { denied } from '../access/contract.js';
import { MediaType } from '../fhir/body.js';
import { GatewayError } from '../fhir/errors.js';
import { memoOnRequest } from '../fhir/request-memo.js';
import type { FhirRequest, QueryParam } from '../fhir/request.js';
import { formatQuery } from '../fhir/serialize.js';
import { type PatchLimits, patchedVersion } from '../fhir/json-patch.js';
import { type Resource, type Stored, storedOf } from '../fhir/stored-version.js';

export type { Resource, Stored } from '../fhir/stored-version.js';

const STORED = Symbol('stored version');
const MATCH = Symbol('conditional match');
const PATCHED = Symbol('patched version');

/** The current version of `Type/id` the request names (read, vread, history, update, patch, delete). */
export function storedVersion(req: FhirRequest, fhir: FhirClient): Promise<Stored> {
  return memoOnRequest(req, STORED, async () => {
    const target = `${req.resourceType}/${req.id}`;
    const { status, body } = await fhir.get(target);
    return storedOf(target, status, body);
  });
}

/**
 * The one resource a conditional PATCH would change: a search of its type with its params (plus
 * `extra`, the narrowing of the decision), `_count=2`. Undefined when none or several match: the
 * FHIR server then changes nothing (404, 412).
 */
export function conditionalMatch(
  req: FhirRequest,
  fhir: FhirClient,
  query: readonly QueryParam[],
): Promise<Resource | undefined> {
  return memoOnRequest(req, MATCH, async () => {
    const params = [...query.filter((p) => p.name !== '_count'), { name: '_count', value: '2' }];
    const { status, body } = await fhir.get(String(req.resourceType), params);
    if (status < 200 || status >= 300) {
      throw new GatewayError(
        502,
        'backend_read_failed',
        'The FHIR server could not be asked which resource the conditional PATCH names',
        {
          detail: `GET ${req.resourceType}?${formatQuery(params)} answered ${status}`,
        },
      );
    }
    const matches = ((body as { entry?: { resource?: Resource; search?: { mode?: string } }[] })?.entry ?? [])
      .filter((entry) => (entry.search?.mode ?? 'match') === 'match' && entry.resource !== undefined)
      .map((entry) => entry.resource!);
    return matches.length === 1 ? matches[0] : undefined;
  });
}

/**
 * The resource `stored` becomes under the request's JSON Patch; a FHIRPath Patch (Parameters) cannot be
 * evaluated by the gateway and is refused with 415.
 */
export function patchedOf(
  req: FhirRequest,
  stored: Resource,
  limits: PatchLimits,
): { readonly ok: true; readonly resource: Resource } | DeniedDecision {
  return memoOnRequest(req, PATCHED, () => {
    if (req.body?.mediaType !== MediaType.jsonPatch) {
      return denied(
        `A patch of ${stored.resourceType}/${stored.id} must be a JSON Patch (${MediaType.jsonPatch}): the gateway checks the patched resource, and cannot evaluate a FHIRPath Patch`,
        415,
      );
    }
    const patched = patchedVersion(stored, req.body, limits);
    return patched.ok ? { ok: true, resource: patched.resource } : denied(patched.reason, patched.status);
  });
}
