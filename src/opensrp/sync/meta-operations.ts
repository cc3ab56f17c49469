/**
 * `$meta-add` and `$meta-delete` on an instance change its tags, so for the data access checker
 * they are writes (issue 8, W1-W3): the resource they would leave behind is the stored version with
 * the Parameters' `meta.tag` codings added or removed (matched by system and code), and it is held
 * to the same rules as an update.
 */
import type { Coding } from '@medplum/fhirtypes';
import type { FhirRequest } from '../../fhir/request.js';
import type { Patched } from './json-patch.js';

export const META_WRITE_OPERATIONS: ReadonlySet<string> = new Set(['meta-add', 'meta-delete']);

export function metaChangedVersion(stored: Record<string, unknown>, req: FhirRequest): Patched {
  const target = `${String(stored.resourceType)}/${String(stored.id)}`;
  let parameters: unknown;
  try {
    parameters = req.body?.json();
  } catch {
    parameters = undefined;
  }
  const meta =
    (parameters as { resourceType?: unknown; parameter?: unknown } | undefined)?.resourceType === 'Parameters'
      ? metaParameter((parameters as { parameter?: unknown }).parameter)
      : undefined;
  const changed = meta?.tag;
  if (changed === undefined || !Array.isArray(changed)) {
    return {
      ok: false,
      status: 400,
      reason: `$${req.operation} on ${target} needs a Parameters body with a meta parameter (valueMeta.tag)`,
    };
  }
  const key = (tag: Coding | null | undefined) => `${String(tag?.system)}|${String(tag?.code)}`;
  const storedMeta = (stored.meta ?? {}) as { tag?: Coding[] };
  const current = Array.isArray(storedMeta.tag) ? storedMeta.tag : [];
  const named = new Set((changed as Coding[]).map(key));
  const tags =
    req.operation === 'meta-delete'
      ? current.filter((tag) => !named.has(key(tag)))
      : [...current, ...(changed as Coding[]).filter((tag) => !current.some((t) => key(t) === key(tag)))];
  return { ok: true, resource: { ...stored, meta: { ...storedMeta, tag: tags } } };
}

function metaParameter(parameter: unknown): { tag?: unknown } | undefined {
  if (!Array.isArray(parameter)) return undefined;
  const meta = parameter.find((p: { name?: unknown } | null) => p?.name === 'meta') as
    | { valueMeta?: { tag?: unknown } }
    | undefined;
  return meta?.valueMeta;
}
