/**
 * What an ANDROID_CLIENT user may write (issue 8, W1-W3): the user's assignment seen through every
 * sync tag system the app writes, not only the strategy's. A written resource may carry a coding
 * of the location, organisation, care-team, related-entity-location or practitioner system only
 * with a code of the user's own assignment; otherwise it would appear in another user's sync.
 *
 * Codes per system: location and related-entity-location → the user's Location tree (the scope's
 * ids for the Location and RelatedEntityLocation strategies, so `_syncLocations` of an
 * ALL_LOCATIONS user counts as for reads); organisation → the assigned Organizations; care-team →
 * the CareTeams; practitioner → the user's own Practitioner. `Not defined`, which the app writes
 * when the user has no id of that kind, names nobody and is accepted.
 *
 * Lineage (RT3): RelatedEntityLocation users sync `_tag=<lineage>|<their tree>`, so the lineage
 * system is a sync system too. A resource of village V carries V's ancestors as lineage codes (as
 * the gateway maintains them on Locations, lineage.ts), so the codes allowed are the user's tree
 * and every Location above its roots (by `partOf`): a resource tagged with an ancestor reaches only
 * users whose tree holds the writer's whole tree already.
 */
import type { FhirRequest } from '../../fhir/request.js';
import type { OpenSrpUser } from '../claims.js';
import type { OpenSrpSettings } from '../settings.js';
import type { Assignment } from './assignment.js';
import { isLineageMode, selectedLocations, type SyncLookups } from './resolver.js';
import { carriesScopeTag, type SyncScope } from './scope.js';
import { distinct } from './search.js';

const UNDEFINED_CODE = 'Not defined';

type Coding = { system?: unknown; code?: unknown } | null | undefined;

export class WriteScope {
  private treeIds: Promise<ReadonlySet<string>> | undefined;
  private lineageIds: Promise<ReadonlySet<string>> | undefined;

  private constructor(
    readonly scope: SyncScope,
    readonly assignment: Assignment,
    readonly keycloakId: string,
    private readonly lookups: SyncLookups,
    private readonly lineage: boolean,
    /** The Locations the tree hangs from: the assigned ones, or those picked by `_syncLocations`. */
    private readonly roots: readonly string[],
  ) {}

  /** @throws GatewayError 403 as SyncLookups.scopeOf does (missing claim, broken app config). */
  static async of(req: FhirRequest, user: OpenSrpUser, lookups: SyncLookups): Promise<WriteScope> {
    const scope = await lookups.scopeOf(req, user);
    // scopeOf checked the claim; the assignment is cached by now.
    const keycloakId = user.keycloakId!;
    const assignment = await lookups.assignmentOf(keycloakId);
    const selected = selectedLocations(req, user, scope.strategy);
    const roots = selected.length > 0 ? selected : assignment.locations.map((l) => l.id!);
    return new WriteScope(scope, assignment, keycloakId, lookups, isLineageMode(req), roots);
  }

  get lineageSystem(): string {
    return this.lookups.settings.tagSystems.lineage;
  }

  /** The read rule without exemptions: one of the resource's tags is of the user's scope. */
  inScope(resource: unknown): boolean {
    return carriesScopeTag(resource, this.scope);
  }

  tagged(resource: unknown): boolean {
    return hasSyncTags(resource, this.lookups.settings);
  }

  /** The user's Location tree: assigned Locations and everything below them. */
  tree(): Promise<ReadonlySet<string>> {
    if (this.treeIds === undefined) {
      const { strategy, ids } = this.scope;
      this.treeIds =
        strategy === 'Location' || strategy === 'RelatedEntityLocation'
          ? Promise.resolve(ids)
          : this.lookups
              .locationIdsUnder(
                this.assignment.locations.map((l) => l.id!),
                this.lineage,
                this.assignment,
              )
              .then((list) => new Set(list));
    }
    return this.treeIds;
  }

  /** Lineage codes a resource of the user's tree may carry: the tree and every Location above it. */
  lineageCodes(): Promise<ReadonlySet<string>> {
    if (this.lineageIds === undefined) {
      this.lineageIds = Promise.all([
        this.tree(),
        this.lookups.locationIdsAbove(this.roots, this.assignment),
      ]).then(([tree, above]) => new Set([...tree, ...above]));
    }
    return this.lineageIds;
  }

  /** `system|code` of every sync tag of `resource` whose code is not of the user's assignment. */
  async foreignTags(resource: unknown): Promise<string[]> {
    const systems = this.lookups.settings.tagSystems;
    const foreign: string[] = [];
    for (const tag of codingsOf(resource)) {
      const system = typeof tag?.system === 'string' ? tag.system : undefined;
      if (system === undefined) continue;
      let allowed: ReadonlySet<string>;
      if (system === systems.location || system === systems.relatedEntityLocation)
        allowed = await this.tree();
      else if (system === systems.lineage) allowed = await this.lineageCodes();
      else if (system === systems.organisation) allowed = idsOf(this.assignment.organizations);
      else if (system === systems.careTeam) allowed = idsOf(this.assignment.careTeams);
      else if (system === systems.practitioner)
        allowed = idsOf(this.assignment.practitioner ? [this.assignment.practitioner] : []);
      else continue;
      const code = tag?.code;
      if (code === UNDEFINED_CODE) continue;
      if (typeof code !== 'string' || !allowed.has(code)) foreign.push(`${system}|${String(code ?? '')}`);
    }
    return distinct(foreign);
  }
}

/** True when the resource carries any coding of a sync tag system (lineage included). */
export function hasSyncTags(resource: unknown, settings: Pick<OpenSrpSettings, 'tagSystems'>): boolean {
  const s = settings.tagSystems;
  const systems = [
    s.location,
    s.organisation,
    s.careTeam,
    s.relatedEntityLocation,
    s.practitioner,
    s.lineage,
  ];
  return codingsOf(resource).some((tag) => typeof tag?.system === 'string' && systems.includes(tag.system));
}

function codingsOf(resource: unknown): Coding[] {
  const tags = (resource as { meta?: { tag?: unknown } } | null | undefined)?.meta?.tag;
  return Array.isArray(tags) ? (tags as Coding[]) : [];
}

function idsOf(items: readonly { id?: string }[]): ReadonlySet<string> {
  return new Set(distinct(items.map((i) => i.id)));
}
