/**
 * What an Android user may see: a resource of an exempt type, or one that carries a tag of the
 * user's scope. The answer check (src/server/pipeline/answer-check.ts) applies it to every answer.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { Exemptions } from './exempt.js';
import { carriesScopeTag, type SyncScope } from './scope.js';

export class Visibility {
  /**
   * The Visibility of `scope` under `exempt`, made once per cached scope: every narrowed request
   * and its answer check ask for it.
   */
  static of(scope: SyncScope, exempt: Exemptions): Visibility {
    let byScope = made.get(exempt);
    if (byScope === undefined) {
      byScope = new WeakMap();
      made.set(exempt, byScope);
    }
    let visibility = byScope.get(scope);
    if (visibility === undefined) {
      visibility = new Visibility(scope, exempt);
      byScope.set(scope, visibility);
    }
    return visibility;
  }

  /** `visible` as a free function (the decision's `visible`), bound once. */
  readonly predicate = (resource: unknown): boolean => this.visible(resource);

  private constructor(
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
   * the user may see: as `visible`, except that a stored OperationOutcome obeys the tag rule too
   * (issue 8, R6).
   */
  visibleStored(resource: unknown): boolean {
    if (typeof resource !== 'object' || resource === null) return false;
    const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
    if (typeof resourceType !== 'string') return false;
    if (this.exempt.stored(resourceType, typeof id === 'string' ? id : undefined)) return true;
    return carriesScopeTag(resource, this.scope);
  }
}

const made = new WeakMap<Exemptions, WeakMap<SyncScope, Visibility>>();

export function isBundle(body: unknown): body is Bundle {
  return (body as { resourceType?: unknown } | null | undefined)?.resourceType === 'Bundle';
}
