/**
 * Destructive extensions: request parts that erase data beyond what the interaction itself says
 * (HAPI's `$expunge`, `_expunge`, `_cascade`). A checker must hold the caller to a delete
 * permission for them, whatever the interaction.
 *
 * - `$expunge` on a type or instance, and the `_expunge` param (any value; HAPI honours
 *   `_expunge=true` on DELETE): erase the type's resources and their history for good; they
 *   touch the request's own type.
 * - `_cascade` (any value; HAPI's `_cascade=delete`) and the `X-Cascade` header: delete every
 *   resource that references the target, recursively. From Patient that reaches 93 of the 146 R4
 *   types, so the types cannot be bounded.
 * - A system-level `$expunge` names no type; it is reported as unbounded.
 */
import type { FhirRequest } from './request.js';

export interface DestructiveReach {
  /** Types whose resources the request may erase. */
  readonly types: ReadonlySet<string>;
  /** What erases beyond bounds (`_cascade`); empty when `types` says it all. */
  readonly unboundedBy: readonly string[];
  /** The params, headers or operations that make the request destructive, as written. */
  readonly by: readonly string[];
}

const DESTRUCTIVE_PARAM = /^_(cascade|expunge)/i;

/** What `req` may erase beyond its interaction, or undefined when it has no destructive extension. */
export function destructiveReach(req: FhirRequest): DestructiveReach | undefined {
  // Most requests carry none: answered without allocating.
  if (
    req.operation !== 'expunge' &&
    req.headers['x-cascade'] === undefined &&
    !req.query.some((param) => DESTRUCTIVE_PARAM.test(param.name))
  ) {
    return undefined;
  }
  const by: string[] = [];
  const unboundedBy: string[] = [];
  if (req.operation === 'expunge') {
    by.push('$expunge');
    if (req.resourceType === undefined) unboundedBy.push('$expunge');
  }
  for (const param of req.query) {
    // Any case: a server that matched these loosely would act on `_CASCADE` too.
    const name = param.name.toLowerCase();
    if (name === '_expunge' || name.startsWith('_expunge:')) by.push(`${param.name}=${param.value}`);
    if (name === '_cascade' || name.startsWith('_cascade:')) {
      by.push(`${param.name}=${param.value}`);
      unboundedBy.push(`${param.name}=${param.value}`);
    }
  }
  const cascadeHeader = req.headers['x-cascade'];
  if (cascadeHeader !== undefined) {
    by.push(`X-Cascade: ${cascadeHeader}`);
    unboundedBy.push(`X-Cascade: ${cascadeHeader}`);
  }
  if (by.length === 0) return undefined;
  const types = new Set(req.resourceType === undefined ? [] : [req.resourceType]);
  return { types, unboundedBy, by };
}
