/**
 * Writes judged on a stored version are forwarded only if the FHIR server still holds that version.
 *
 * A checker that reads the stored resource to judge an update or a patch (is it in the caller's
 * scope?) and then forwards the write leaves a window: another client may change the resource in
 * between, for instance move it out of the caller's scope, and the write would then land on a
 * version nobody checked. FHIR's version-aware updates close it (R4 http.html#concurrency):
 * the write is sent with `If-Match: W/"<checked versionId>"`, and the server refuses it (412 on
 * Medplum and Azure; HAPI answers 409) when the stored version has moved on.
 */
import { type DeniedDecision, denied } from './contract.js';
import type { FhirRequest } from '../fhir/request.js';

/** The interactions FHIR makes version-aware with If-Match. */
const VERSION_AWARE: ReadonlySet<FhirRequest['interaction']> = new Set(['update', 'patch']);

/** `W/"3"` or `"3"` → `3`; undefined for anything else (a list, `*`, no quotes). */
function etagVersion(etag: string): string | undefined {
  return /^\s*(?:W\/)?"([^"]+)"\s*$/.exec(etag)?.[1];
}

/**
 * What to forward `req` with, when it was judged on the stored version `checkedVersion` (its
 * `meta.versionId`; undefined when it had none, or when nothing was stored):
 * - the headers to set: `If-Match` naming the checked version, when the client sent none;
 * - nothing, when the client's own If-Match names the checked version, or the interaction is not
 *   version-aware, or there is no version to name (the window stays open: docs/security.md);
 * - a 412 refusal when the client's If-Match names another version. The server would refuse it
 *   too unless the resource changed to that version in the meantime, which is the window itself.
 */
export function versionGuard(
  req: FhirRequest,
  checkedVersion: string | undefined,
): { readonly setHeaders: Record<string, string> } | DeniedDecision | undefined {
  if (checkedVersion === undefined || !VERSION_AWARE.has(req.interaction) || req.conditional)
    return undefined;
  const sent = req.headers['if-match'];
  if (sent === undefined) return { setHeaders: { 'if-match': `W/"${checkedVersion}"` } };
  if (etagVersion(sent) === checkedVersion) return undefined;
  return {
    ...denied(
      `If-Match (${sent.slice(0, 100)}) does not name the stored version of ${req.resourceType}/${req.id} (W/"${checkedVersion}")`,
      412,
    ),
    afterReading: true,
  };
}

/** The `meta.versionId` of a stored resource, when it has one. */
export function storedVersionId(resource: unknown): string | undefined {
  const versionId = (resource as { meta?: { versionId?: unknown } } | undefined)?.meta?.versionId;
  return typeof versionId === 'string' && versionId !== '' && !versionId.includes('"')
    ? versionId
    : undefined;
}
