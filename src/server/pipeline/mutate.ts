import type { RequestMutation } from '../../access/contract.js';
import type { FhirRequest, QueryParam } from '../../fhir/request.js';

/** Stage 6: apply the decision's mutation. Named params are discarded, then added ones replace same-name params. */
export function mutate(req: FhirRequest, mutation: RequestMutation | undefined): FhirRequest {
  if (!mutation) return req;
  const added = mutation.addParams ?? [];
  const removed = new Set([...(mutation.discardParams ?? []), ...added.map((p) => p.name)]);
  if (removed.size === 0) return req;
  const query: QueryParam[] = [...req.query.filter((p) => !removed.has(p.name)), ...added];
  return { ...req, query };
}
