/**
 * What an Android user may see in a response: a resource of an exempt type, or one that carries a
 * tag of the user's scope. Used to hide resources read by id and to drop Bundle entries.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Exemptions } from './exempt.js';
import { carriesScopeTag, type SyncScope } from './scope.js';

export class Visibility {
  constructor(
    readonly scope: SyncScope,
    private readonly exempt: Exemptions,
  ) {}

  /** True for a resource the user may see; false for anything that is not a resource. */
  visible(resource: unknown): boolean {
    if (typeof resource !== 'object' || resource === null) return false;
    const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
    if (typeof resourceType !== 'string') return false;
    if (this.exempt.instance(resourceType, typeof id === 'string' ? id : undefined)) return true;
    return carriesScopeTag(resource, this.scope);
  }

  /**
   * True for a stored resource read by id (read, vread, history, the target of an operation) that
   * the user may see: as `visible`, except that a stored Bundle, Parameters or OperationOutcome
   * obeys the tag rule too (issue 8, R6).
   */
  visibleStored(resource: unknown): boolean {
    if (typeof resource !== 'object' || resource === null) return false;
    const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
    if (typeof resourceType !== 'string') return false;
    if (this.exempt.stored(resourceType, typeof id === 'string' ? id : undefined)) return true;
    return carriesScopeTag(resource, this.scope);
  }

  /**
   * The Bundle without the entries `drop` selects among those whose resource the user may not see;
   * undefined when nothing was dropped (the backend body is then kept as is).
   */
  filterBundle(body: unknown, drop: (entry: BundleEntry) => boolean = () => true): Bundle | undefined {
    if (!isBundle(body) || !Array.isArray(body.entry)) return undefined;
    const kept = body.entry.filter(
      (entry) => entry.resource === undefined || this.visible(entry.resource) || !drop(entry),
    );
    if (kept.length === body.entry.length) return undefined;
    return { ...body, entry: kept };
  }
}

export function isBundle(body: unknown): body is Bundle {
  return (body as { resourceType?: unknown } | null | undefined)?.resourceType === 'Bundle';
}

/** An entry that `_include` / `_revinclude` added (not a match of the search itself). */
export const isIncluded = (entry: BundleEntry) => entry.search?.mode === 'include';

/** True when the query asks for included resources (`_include`, `_revinclude`, with any modifier). */
export function asksForIncludes(query: readonly { name: string }[]): boolean {
  return query.some((p) => /^_(rev)?include(:|$)/.test(p.name));
}
