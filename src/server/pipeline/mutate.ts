import type { RequestMutation } from '../../access/contract.js';
import { jsonBody } from '../../fhir/body.js';
import type { FhirRequest, QueryParam } from '../../fhir/request.js';

/**
 * Stage 6: apply the decision's mutation. Named params are discarded, then added ones replace
 * same-name params; a replacement body, when given, is sent instead of the client's.
 */
export function mutate(req: FhirRequest, mutation: RequestMutation | undefined): FhirRequest {
  if (!mutation) return req;
  const added = mutation.addParams ?? [];
  const removed = new Set([...(mutation.discardParams ?? []), ...added.map((p) => p.name)]);
  const query: QueryParam[] =
    removed.size === 0 ? [...req.query] : [...req.query.filter((p) => !removed.has(p.name)), ...added];
  if (mutation.replaceBody === undefined) return { ...req, query };
  return { ...req, query, body: jsonBody(mutation.replaceBody) };
}
