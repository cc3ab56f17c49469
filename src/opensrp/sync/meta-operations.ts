/**
 * `$meta-add` and `$meta-delete` on an instance change its tags, so for the data access checker
 * they are writes (issue 8, W1-W3): the resource they would leave behind is the stored version with
 * the Parameters' `meta.tag` codings added or removed (matched by system and code), and it is held
 * to the same rules as an update. The result is bounded like a patched one (BODY_LIMIT_BYTES).
 */
import type { Coding } from '@medplum/fhirtypes';
import type { FhirRequest } from '../../fhir/request.js';
import type { PatchLimits, Patched } from '../../fhir/json-patch.js';

export const META_WRITE_OPERATIONS: ReadonlySet<string> = new Set(['meta-add', 'meta-delete']);

export function metaChangedVersion(
  stored: Record<string, unknown>,
  req: FhirRequest,
  limits: PatchLimits,
): Patched {
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
  let tags: Coding[];
  if (req.operation === 'meta-delete') {
    tags = current.filter((tag) => !named.has(key(tag)));
  } else {
    const present = new Set(current.map(key));
    const added = (changed as Coding[]).filter((tag) => {
      const k = key(tag);
      if (present.has(k)) return false;
      present.add(k);
      return true;
    });
    const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');
    const storedSize = size(stored);
    const max = Math.max(limits.maxBytes, storedSize);
    if (storedSize + size(added) > max) {
      return {
        ok: false,
        status: 400,
        reason: `$${req.operation} on ${target} would make the resource larger than ${max} bytes (BODY_LIMIT_BYTES)`,
      };
    }
    tags = [...current, ...added];
  }
  return { ok: true, resource: { ...stored, meta: { ...storedMeta, tag: tags } } };
}

function metaParameter(parameter: unknown): { tag?: unknown } | undefined {
  if (!Array.isArray(parameter)) return undefined;
  const meta = parameter.find((p: { name?: unknown } | null) => p?.name === 'meta') as
    | { valueMeta?: { tag?: unknown } }
    | undefined;
  return meta?.valueMeta;
}
