/**
 * Post-fetch filters of /LocationHierarchy (spec §4.2), in upstream's order: administrative level,
 * `_lastUpdated`, inventory. Each is a predicate on one Location; absent parameters keep all.
 */
import type { List, Location } from '@medplum/fhirtypes';
import { ADMIN_LEVEL_SYSTEM } from '../settings.js';
import { distinct, referencedId, searchByValues } from '../sync/search.js';
import type { EndpointContext } from './context.js';
import type { HierarchyParams } from './location-hierarchy-params.js';

export type LocationFilter = (location: Location) => boolean;

/**
 * The filters the parameters ask for. `withLastUpdated` is false in tree mode, which upstream
 * does not filter by date. Inventory costs one `List?subject=<many Locations>` search per chunk
 * of ids (upstream: one search per Location).
 */
export async function locationFilter(
  ctx: EndpointContext,
  params: HierarchyParams,
  candidates: readonly Location[],
  withLastUpdated: boolean,
): Promise<LocationFilter> {
  const filters: LocationFilter[] = [];
  const range = params.adminLevels;
  if (range) {
    filters.push((location) => {
      const level = adminLevelOf(location);
      return level !== undefined && level >= range.min && level <= range.max;
    });
  }
  const bound = params.lastUpdated;
  if (withLastUpdated && bound) {
    filters.push((location) => {
      const at = Date.parse(location.meta?.lastUpdated ?? '');
      return !Number.isNaN(at) && (bound.strict ? at > bound.at : at >= bound.at);
    });
  }
  if (params.filterInventory) {
    // Only Locations the earlier filters keep are worth a lookup.
    const survivors = candidates.filter((location) => filters.every((keep) => keep(location)));
    const stocked = await locationsWithInventory(ctx, survivors);
    filters.push((location) => stocked.has(location.id ?? ''));
  }
  return (location) => filters.every((keep) => keep(location));
}

/** The Location's level: the code of its `type` coding in the administrative-level system. */
export function adminLevelOf(location: Location): number | undefined {
  for (const type of location.type ?? []) {
    for (const coding of type.coding ?? []) {
      if (
        coding.system === ADMIN_LEVEL_SYSTEM &&
        coding.code !== undefined &&
        /^\d{1,3}$/.test(coding.code)
      ) {
        return Number(coding.code);
      }
    }
  }
  return undefined;
}

/** Ids of the Locations that are the subject of at least one List (an inventory). */
async function locationsWithInventory(
  ctx: EndpointContext,
  locations: readonly Location[],
): Promise<Set<string>> {
  const references = distinct(locations.map((l) => l.id)).map((id) => `Location/${id}`);
  const lists = await searchByValues<List>(ctx.fhir, 'List', 'subject', references);
  return new Set(distinct(lists.map((list) => referencedId(list.subject?.reference, 'Location'))));
}
