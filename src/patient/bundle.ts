/**
 * Batch and transaction Bundles for the patient-centred checkers: every entry is decided as the
 * same request alone would be (src/opensrp/sync/bundle.ts does the taking apart, the URL rewriting
 * and the per-entry post-processing), with references between entries resolved: a
 * `urn:uuid:` (or any fullUrl) that names a Patient the Bundle creates is NEW_PATIENT, one that
 * names a `PUT Patient/<id>` entry is that Patient.
 */
import { type AccessDecision, denied } from '../access/contract.js';
import { bundleEntries } from '../fhir/bundle-entry.js';
import { badRequest, GatewayError } from '../fhir/errors.js';
import type { FhirRequest } from '../fhir/request.js';
import { bundleDecision } from '../opensrp/sync/bundle.js';
import type { EntryContext } from './compartment-access.js';
import { NEW_PATIENT } from './references.js';

export async function bundleAccess(
  req: FhirRequest,
  decideEntry: (entry: FhirRequest, context: EntryContext) => Promise<AccessDecision>,
): Promise<AccessDecision> {
  let fullUrls: Map<string, string>;
  try {
    fullUrls = entryTargets(bundleEntries(req));
  } catch (error) {
    if (error instanceof GatewayError && error.status === 400) return denied(error.message, 400);
    throw error;
  }
  const context: EntryContext = { resolve: (reference) => fullUrls.get(reference) };
  return bundleDecision(req, (entry) => decideEntry(entry, context), { judgedOnStored: true });
}

/**
 * Placeholder fullUrl → what the entry stands for: `Patient/<id>`, NEW_PATIENT, or `Type/id`. Only
 * `urn:uuid:`/`urn:oid:` fullUrls are placeholders the FHIR server replaces (bundle.html#references);
 * any other reference, even one equal to some entry's fullUrl (`Patient/<other>` on an entry that
 * writes `Patient/<me>`), is judged as written. A placeholder named twice is refused: which entry it
 * stands for would be the server's guess.
 */
function entryTargets(entries: readonly unknown[]): Map<string, string> {
  const targets = new Map<string, string>();
  const seen = new Set<string>();
  for (const entry of entries) {
    const { fullUrl, request, resource } = (entry ?? {}) as {
      fullUrl?: unknown;
      request?: { method?: unknown; url?: unknown };
      resource?: { resourceType?: unknown; id?: unknown };
    };
    if (typeof fullUrl !== 'string' || !/^urn:(uuid|oid):/.test(fullUrl)) continue;
    if (seen.has(fullUrl)) throw badRequest(`The fullUrl ${fullUrl} names two entries of the Bundle`);
    seen.add(fullUrl);
    const type = typeof resource?.resourceType === 'string' ? resource.resourceType : undefined;
    const url = typeof request?.url === 'string' ? request.url.replace(/^\//, '') : '';
    if (request?.method === 'POST' && type === 'Patient') targets.set(fullUrl, NEW_PATIENT);
    else if (request?.method === 'PUT' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(url))
      targets.set(fullUrl, url);
    else if (type !== undefined && typeof resource?.id === 'string')
      targets.set(fullUrl, `${type}/${resource.id}`);
  }
  return targets;
}
