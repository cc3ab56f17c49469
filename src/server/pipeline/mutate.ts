import type { RequestMutation } from '../../access/contract.js';
import { jsonBody } from '../../fhir/body.js';
import type { FhirRequest, QueryParam } from '../../fhir/request.js';

/**
 * Stage 6: apply the decision's mutation. Named params are discarded, then added ones replace
 * same-name params; set headers replace the client's (a narrowed If-None-Exist); a replacement
 * body, when given, is sent instead of the client's.
 */
export function mutate(req: FhirRequest, mutation: RequestMutation | undefined): FhirRequest {
  if (!mutation) return req;
  const added = mutation.addParams ?? [];
  const removed = new Set([...(mutation.discardParams ?? []), ...added.map((p) => p.name)]);
  const query: QueryParam[] =
    removed.size === 0 ? [...req.query] : [...req.query.filter((p) => !removed.has(p.name)), ...added];
  const headers = mutation.setHeaders ? { ...req.headers, ...mutation.setHeaders } : req.headers;
  if (mutation.replaceBody === undefined) return { ...req, query, headers };
  return { ...req, query, headers, body: jsonBody(mutation.replaceBody) };
}
