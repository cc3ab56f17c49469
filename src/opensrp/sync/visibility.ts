/**
 * What an Android user may see: a resource of an exempt type, or one that carries a tag of the
 * user's scope. The answer check (src/server/pipeline/answer-check.ts) applies it to every answer.
 */
import type { Bundle } from '@medplum/fhirtypes';
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

export function isBundle(body: unknown): body is Bundle {
  return (body as { resourceType?: unknown } | null | undefined)?.resourceType === 'Bundle';
}
