/**
 * Location hierarchies, expanded level by level: `Location?partof=<every id of one level>` (all
 * pages, chunked only when a level is very wide), so a tree costs one round trip per level instead
 * of the Java plugin's one per Location. Lineage mode asks one `_tag` search instead (spec §3.4).
 */
import type { Location } from '@medplum/fhirtypes';
import type { FhirClient } from '../../access/contract.js';
import { distinct, referencedId, searchByValues } from './search.js';

export interface LocationTree {
  /** The requested root ids, de-duplicated, in request order (also those that do not exist). */
  roots: string[];
  /** Every Location found: the roots that exist and all their descendants. */
  byId: Map<string, Location>;
  childrenOf: Map<string, string[]>;
  parentOf: Map<string, string>;
}

/**
 * The roots and all their descendants. `knownRoots` are root Locations the caller already holds
 * (e.g. from the assignment), which saves the `Location?_id=` round trip.
 */
export async function expandLocations(
  fhir: FhirClient,
  rootIds: readonly string[],
  knownRoots: readonly Location[] = [],
): Promise<LocationTree> {
  const roots = distinct(rootIds);
  const tree: LocationTree = { roots, byId: new Map(), childrenOf: new Map(), parentOf: new Map() };
  const known = new Map(knownRoots.filter((l) => l.id && roots.includes(l.id)).map((l) => [l.id!, l]));
  const missing = roots.filter((id) => !known.has(id));
  const fetched = await searchByValues<Location>(fhir, 'Location', '_id', missing);
  for (const location of [...known.values(), ...fetched]) tree.byId.set(location.id!, location);

  // Roots that do not exist have no children worth asking for.
  let level = roots.filter((id) => tree.byId.has(id));
  while (level.length > 0) {
    // `Location/<id>`, not the bare id: every server reads the typed form of a reference param.
    const children = await searchByValues<Location>(
      fhir,
      'Location',
      'partof',
      level.map((id) => `Location/${id}`),
    );
    const next: string[] = [];
    for (const child of children) {
      const id = child.id;
      const parent = referencedId(child.partOf?.reference, 'Location');
      // A cycle or a second path to a Location already placed is not followed again.
      if (!id || !parent || tree.byId.has(id)) continue;
      tree.byId.set(id, child);
      tree.parentOf.set(id, parent);
      const siblings = tree.childrenOf.get(parent);
      if (siblings) siblings.push(id);
      else tree.childrenOf.set(parent, [id]);
      next.push(id);
    }
    level = next;
  }
  return tree;
}

/** Every Location below the roots (the roots themselves excluded, unless one is below another). */
export function descendantIds(tree: LocationTree): string[] {
  return [...tree.parentOf.keys()];
}

/** The roots (existing or not) and every descendant: the ids a user assigned to the roots may see. */
export function treeIds(tree: LocationTree): string[] {
  return distinct([...tree.roots, ...tree.byId.keys()]);
}

/**
 * Lineage mode: the roots and every Location whose lineage tags name one of them, in one `_tag`
 * search (all pages). Unlike the Java plugin, the roots themselves are included: a Location's
 * lineage lists its ancestors, not itself.
 */
export async function lineageIds(
  fhir: FhirClient,
  rootIds: readonly string[],
  lineageSystem: string,
): Promise<string[]> {
  const roots = distinct(rootIds);
  const descendants = await searchByValues<Location>(
    fhir,
    'Location',
    '_tag',
    roots.map((id) => `${lineageSystem}|${id}`),
  );
  return distinct([...roots, ...descendants.map((l) => l.id)]);
}

/** Hierarchies deeper than this are not followed upward (a cycle of `partOf` ends here too). */
const MAX_ANCESTOR_LEVELS = 32;

/**
 * Every Location above the roots, following `partOf` one level per round trip (the roots
 * themselves excluded, unless one is above another). `knownRoots` save the first read.
 */
export async function ancestorIds(
  fhir: FhirClient,
  rootIds: readonly string[],
  knownRoots: readonly Location[] = [],
): Promise<string[]> {
  const roots = distinct(rootIds);
  const known = knownRoots.filter((l) => l.id && roots.includes(l.id));
  const missing = roots.filter((id) => !known.some((l) => l.id === id));
  let level = [...known, ...(await searchByValues<Location>(fhir, 'Location', '_id', missing))];
  const seen = new Set(roots);
  const ancestors: string[] = [];
  for (let depth = 0; depth < MAX_ANCESTOR_LEVELS && level.length > 0; depth++) {
    const parents = distinct(level.map((l) => referencedId(l.partOf?.reference, 'Location'))).filter(
      (id) => !seen.has(id),
    );
    for (const id of parents) seen.add(id);
    ancestors.push(...parents);
    level = await searchByValues<Location>(fhir, 'Location', '_id', parents);
  }
  return ancestors;
}
