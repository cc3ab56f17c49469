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

import type { FhirRequest } from '../fhir/request.js';
import { type DeniedDecision, denied } from './contract.js';

/** The interactions FHIR makes version-aware with If-Match. */
const VERSION_AWARE: ReadonlySet<FhirRequest['interaction']> = new Set(['update', 'patch']);

/** One entity-tag, weak or strong: its opaque tag is the versionId (RFC 9110 §8.8.3). */
const ENTITY_TAG = /(?:W\/)?"([^"]*)"/y;
const ONE_ENTITY_TAG = /^(?:W\/)?"[^"]*"$/;

/**
 * The versions an If-Match value names: `*` (any), or the opaque tags of its list (`W/"3", "4"`
 * → 3, 4; empty list elements are skipped, RFC 9110 §5.6.1.2); undefined when it is not a valid
 * If-Match or names nothing (RFC 9110 §13.1.1).
 */
function ifMatchVersions(value: string): '*' | string[] | undefined {
  if (value.trim() === '*') return '*';
  const versions: string[] = [];
  let at = 0;
  for (;;) {
    while (at < value.length && (value[at] === ',' || isBlank(value[at]!))) at++;
    if (at === value.length) break;
    ENTITY_TAG.lastIndex = at;
    const tag = ENTITY_TAG.exec(value);
    if (tag === null) return undefined;
    versions.push(tag[1]!);
    at = ENTITY_TAG.lastIndex;
    while (at < value.length && isBlank(value[at]!)) at++;
    if (at < value.length && value[at] !== ',') return undefined;
  }
  return versions.length > 0 ? versions : undefined;
}

function isBlank(char: string): boolean {
  return char === ' ' || char === '\t';
}

/**
 * What to forward `req` with, when it was judged on the stored version `checkedVersion` (its
 * `meta.versionId`; undefined when it had none, or when nothing was stored):
 * - the headers to set: `If-Match` naming the checked version, when the client sent none, `*`, or
 *   a list of versions that holds the checked one;
 * - nothing, when the client's own If-Match is the checked version's tag alone, or the interaction
 *   is not version-aware, or there is no version to name (the window stays open: docs/security.md);
 * - a 412 refusal when the client's If-Match names other versions only (or is not a valid
 *   If-Match). The server would refuse it too unless the resource changed to one of them in the
 *   meantime, which is the window itself.
 */
export function versionGuard(
  req: FhirRequest,
  checkedVersion: string | undefined,
): { readonly setHeaders: Record<string, string> } | DeniedDecision | undefined {
  if (checkedVersion === undefined || !VERSION_AWARE.has(req.interaction) || req.conditional)
    return undefined;
  const checked = { setHeaders: { 'if-match': `W/"${checkedVersion}"` } };
  const sent = req.headers['if-match'];
  if (sent === undefined) return checked;
  const versions = ifMatchVersions(sent);
  // `*` (the resource exists, which the read showed) or a list naming the checked version: the
  // client's condition holds for the checked version, so it is narrowed to that one.
  if (versions === '*') return checked;
  if (versions?.includes(checkedVersion)) return ONE_ENTITY_TAG.test(sent.trim()) ? undefined : checked;
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
