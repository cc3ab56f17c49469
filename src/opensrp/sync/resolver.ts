/**
 * Works out a user's sync scope, with every expensive step cached (spec §5): the strategy per app
 * id, the assignment per Keycloak id, the expanded Location ids per (roots, mode), and the final
 * scope per (user, strategy, mode, selected locations). A warm request costs no backend call.
 */
import type { FhirClient } from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';
import { memoOnRequest } from '../../fhir/request-memo.js';
import { type FhirRequest, paramValues } from '../../fhir/request.js';
import { stringsBytes, TtlCache } from '../../access/ttl-cache.js';
import { type OpenSrpUser, ROLE } from '../claims.js';
import type { OpenSrpSettings } from '../settings.js';
import { type Assignment, resolveAssignment } from './assignment.js';
import { ancestorIds, expandLocations, lineageIds, treeIds } from './locations.js';
import type { SyncScope } from './scope.js';
import { distinct } from './search.js';
import { resolveSyncStrategy, type SyncStrategy } from './strategy.js';

const SCOPE = Symbol('sync scope');

/** The cached lookups, shared with anything else that needs them (e.g. the custom endpoints). */
export class SyncLookups {
  readonly strategies: TtlCache<SyncStrategy>;
  readonly assignments: TtlCache<Assignment>;
  /** Location ids (roots and descendants) by mode and sorted root ids. */
  readonly locationIds: TtlCache<string[]>;
  readonly scopes: TtlCache<SyncScope>;
  /** Caches of others derived from the Location hierarchies (the OpenSRP endpoints' trees). */
  private readonly derivedFromLocations: { clear(): void }[] = [];

  constructor(
    private readonly fhir: FhirClient,
    readonly settings: OpenSrpSettings,
  ) {
    const ttl = settings.cacheTtlSeconds;
    this.strategies = new TtlCache(ttl);
    this.assignments = new TtlCache(ttl);
    // A large assignment's ids are thousands of strings (and its tag value a long string besides):
    // the count bound alone would let a few thousand users hold gigabytes.
    this.locationIds = new TtlCache(ttl, 5000, { maxBytes: 32 * MIB, bytesOf: (ids) => stringsBytes(ids) });
    this.scopes = new TtlCache(ttl, 5000, { maxBytes: 64 * MIB, bytesOf: scopeBytes });
  }

  strategyOf(appId: string): Promise<SyncStrategy> {
    return this.strategies.getOrLoad(appId, () => resolveSyncStrategy(this.fhir, appId));
  }

  assignmentOf(keycloakId: string): Promise<Assignment> {
    return this.assignments.getOrLoad(keycloakId, () => resolveAssignment(this.fhir, keycloakId));
  }

  /** The roots and all their descendants, by partof levels or (lineage mode) by lineage tags. */
  locationIdsUnder(rootIds: readonly string[], lineage: boolean, assignment?: Assignment): Promise<string[]> {
    const roots = distinct(rootIds).sort();
    const key = `${lineage ? 'lineage' : 'partof'}:${roots.join(',')}`;
    return this.locationIds.getOrLoad(key, async () =>
      lineage
        ? lineageIds(this.fhir, roots, this.settings.tagSystems.lineage)
        : treeIds(await expandLocations(this.fhir, roots, assignment?.locations ?? [])),
    );
  }

  /** Every Location above the roots (by `partOf`), cached with the hierarchies. */
  locationIdsAbove(rootIds: readonly string[], assignment?: Assignment): Promise<string[]> {
    const roots = distinct(rootIds).sort();
    return this.locationIds.getOrLoad(`ancestors:${roots.join(',')}`, () =>
      ancestorIds(this.fhir, roots, assignment?.locations ?? []),
    );
  }

  /** Location writes change hierarchies: forget what was derived from them, here and in `alsoForget`'s caches. */
  forgetLocations(): void {
    this.locationIds.clear();
    this.scopes.clear();
    for (const cache of this.derivedFromLocations) cache.clear();
  }

  /** Makes `forgetLocations` clear `cache` too: one derived from Location hierarchies elsewhere. */
  alsoForget(cache: { clear(): void }): void {
    this.derivedFromLocations.push(cache);
  }

  /** A write to what assignments are derived from (any user's): forget every assignment and scope. */
  forgetAssignments(): void {
    this.assignments.clear();
    this.scopes.clear();
  }

  /**
   * The scope of `user` for `req`: `filter_mode_lineage` and `_syncLocations` (REL with the
   * ALL_LOCATIONS role) change it.
   * @throws GatewayError 403 when the token lacks a claim or the app config is broken.
   */
  scopeOf(req: Pick<FhirRequest, 'query'>, user: OpenSrpUser): Promise<SyncScope> {
    // One lookup per request, even with caching off: the decision and the answer check both ask.
    return memoOnRequest(req, SCOPE, () => this.loadScope(req, user));
  }

  private async loadScope(req: Pick<FhirRequest, 'query'>, user: OpenSrpUser): Promise<SyncScope> {
    if (user.appId === undefined) {
      throw new GatewayError(
        403,
        'missing_claim',
        'The token has no fhir_core_app_id claim: the user cannot be linked to an app configuration',
      );
    }
    if (user.keycloakId === undefined) {
      throw new GatewayError(
        403,
        'missing_claim',
        'The token has no sub claim: the user cannot be identified',
      );
    }
    const strategy = await this.strategyOf(user.appId);
    const lineage = isLineageMode(req);
    const selected = selectedLocations(req, user, strategy);
    const locations =
      selected.length === 0 ? '' : selected.length === 1 ? selected[0] : [...selected].sort().join(',');
    const key = `${user.keycloakId}\n${strategy}\n${lineage}\n${locations}`;
    const keycloakId = user.keycloakId;
    return this.scopes.getOrLoad(key, () => this.computeScope(keycloakId, strategy, lineage, selected));
  }

  private async computeScope(
    keycloakId: string,
    strategy: SyncStrategy,
    lineage: boolean,
    selected: readonly string[],
  ): Promise<SyncScope> {
    const systems = this.settings.tagSystems;
    const assignment = await this.assignmentOf(keycloakId);
    const idsOf = (items: readonly { id?: string }[]) => new Set(distinct(items.map((i) => i.id)));
    switch (strategy) {
      case 'Practitioner':
        return {
          strategy,
          systems: [systems.practitioner],
          ids: idsOf(assignment.practitioner ? [assignment.practitioner] : []),
        };
      case 'CareTeam':
        return { strategy, systems: [systems.careTeam], ids: idsOf(assignment.careTeams) };
      case 'Organization':
        return { strategy, systems: [systems.organisation], ids: idsOf(assignment.organizations) };
      case 'Location': {
        const roots = assignment.locations.map((l) => l.id!);
        const ids = await this.locationIdsUnder(roots, lineage, assignment);
        return { strategy, systems: [systems.location], ids: new Set(ids) };
      }
      case 'RelatedEntityLocation': {
        const roots = selected.length > 0 ? selected : assignment.locations.map((l) => l.id!);
        const ids = await this.locationIdsUnder(roots, lineage, assignment);
        return { strategy, systems: [systems.relatedEntityLocation, systems.lineage], ids: new Set(ids) };
      }
    }
  }
}

/** The Locations a RelatedEntityLocation user with ALL_LOCATIONS picked (`_syncLocations`); else none. */
export function selectedLocations(
  req: Pick<FhirRequest, 'query'>,
  user: OpenSrpUser,
  strategy: SyncStrategy,
): string[] {
  return strategy === 'RelatedEntityLocation' && user.roles.has(ROLE.allLocations) ? syncLocations(req) : [];
}

/** `filter_mode_lineage` present, empty or `true` (spec §3.4). */
export function isLineageMode(req: Pick<FhirRequest, 'query'>): boolean {
  return paramValues(req, 'filter_mode_lineage').some((v) => v === '' || v.toLowerCase() === 'true');
}

/** The user-selected Location ids of `_syncLocations` (comma lists; blanks and repeats dropped). */
export function syncLocations(req: Pick<FhirRequest, 'query'>): string[] {
  return distinct(paramValues(req, '_syncLocations').flatMap((v) => v.split(',').map((id) => id.trim())));
}

const MIB = 1024 * 1024;

/** A scope's ids, and the `_tag` value built from them once per system (scopeTagValue). */
function scopeBytes(scope: SyncScope): number {
  const tagBytes = scope.systems.reduce((sum, system) => sum + scope.ids.size * (system.length + 2), 0);
  return stringsBytes(scope.ids) * (1 + scope.systems.length) + tagBytes;
}
