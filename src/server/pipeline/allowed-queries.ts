import type { AllowedQueries } from '../../access/allowed-queries.js';
import { formatPath } from '../../fhir/serialize.js';
import type { FhirRequest } from '../../fhir/request.js';

/**
 * Stages 2 and 4: the allowed-queries file. An entry that matches grants the request as it is:
 * no checker, no mutation, no post-processing (as upstream).
 */
export function matchesAllowedQuery(
  allowedQueries: AllowedQueries | undefined,
  req: FhirRequest,
  authenticated: boolean,
): boolean {
  if (!allowedQueries) return false;
  return (
    allowedQueries.match({ method: req.method, path: formatPath(req), query: req.query }, authenticated) !==
    undefined
  );
}
