import type { AllowedQueries } from '../../access/allowed-queries.js';
import { bundleEntries, parseEntryRequest } from '../../fhir/bundle-entry.js';
import type { FhirRequest } from '../../fhir/request.js';
import { formatPath } from '../../fhir/serialize.js';

/**
 * Stages 2 and 4: the allowed-queries file. An entry that matches grants the request as it is:
 * no checker, no mutation, no post-processing (as upstream).
 *
 * A batch Bundle counts as allowed when every one of its entries, taken as a request of its own,
 * is allowed: that is how the OpenSRP app fetches its configuration before login, without the
 * blanket unauthenticated `POST [base]` entry upstream needed for it.
 */
export function matchesAllowedQuery(
  allowedQueries: AllowedQueries | undefined,
  req: FhirRequest,
  authenticated: boolean,
): boolean {
  if (!allowedQueries) return false;
  if (matchesEntry(allowedQueries, req, authenticated)) return true;
  return req.interaction === 'batch' && everyEntryAllowed(allowedQueries, req, authenticated);
}

function matchesEntry(allowedQueries: AllowedQueries, req: FhirRequest, authenticated: boolean): boolean {
  return (
    allowedQueries.match({ method: req.method, path: formatPath(req), query: req.query }, authenticated) !==
    undefined
  );
}

function everyEntryAllowed(
  allowedQueries: AllowedQueries,
  req: FhirRequest,
  authenticated: boolean,
): boolean {
  const entries = bundleEntries(req);
  if (entries.length === 0) return false;
  return entries.every((entry, index) => {
    const entryRequest = parseEntryRequest(entry, index);
    return entryRequest.interaction !== 'batch' && matchesEntry(allowedQueries, entryRequest, authenticated);
  });
}
