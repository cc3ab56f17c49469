/**
 * Who may ask /LocationHierarchy for what (the Java endpoint checks nothing but the token).
 *
 * - The caller's own assignment tree (the assigned Locations and everything below them) needs
 *   only what `callerOf` checks: a subject and one client role, as upstream (issue 7).
 * - Naming (`_id`, `_syncLocations`) a Location outside that tree needs WEB_CLIENT, ALL_LOCATIONS
 *   or SUPERVISOR, and a role to read Locations (GET_LOCATION or MANAGE_LOCATION); otherwise a
 *   403 that names the Locations outside.
 */
import type { Location } from '@medplum/fhirtypes';
import { forbidden } from '../../fhir/errors.js';
import { clientRoleOf, type OpenSrpUser, ROLE } from '../claims.js';
import { hasPermission } from '../permissions.js';
import type { Assignment } from '../sync/assignment.js';
import { expandLocations, type LocationTree, treeIds } from '../sync/locations.js';
import { distinct } from '../sync/search.js';
import { assignmentOf, type Caller, type EndpointContext } from './context.js';

/** True when the user may ask for the hierarchy of any Location. */
export function seesAllLocations(user: OpenSrpUser): boolean {
  const reachesOut =
    clientRoleOf(user) === ROLE.webClient ||
    user.roles.has(ROLE.allLocations) ||
    user.roles.has(ROLE.supervisor);
  return reachesOut && hasPermission(user.roles, { verb: 'GET', resourceType: 'Location' });
}

/** @throws GatewayError 403 naming the ids outside the caller's assignment tree. */
export async function requireInScope(
  ctx: EndpointContext,
  user: Caller,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0 || seesAllLocations(user)) return;
  const own = new Set(treeIds(await assignedTree(ctx, await assignmentOf(ctx, user.keycloakId))));
  const outside = ids.filter((id) => !own.has(id));
  if (outside.length > 0) {
    throw forbidden(
      `User is not authorized to read the hierarchy of Location ${outside.join(', ')}: ` +
        `outside the user's assigned locations (needs role ${ROLE.webClient}, ${ROLE.allLocations} ` +
        `or ${ROLE.supervisor}, and GET_LOCATION or MANAGE_LOCATION)`,
    );
  }
}

/** The ids of the Locations the user is assigned to (not expanded). */
export function assignedLocationIds(assignment: Assignment): string[] {
  return distinct(assignment.locations.map((location) => location.id));
}

/** The assigned Locations and everything below them (cached with the other hierarchies). */
export function assignedTree(ctx: EndpointContext, assignment: Assignment): Promise<LocationTree> {
  return expandedTree(ctx, assignedLocationIds(assignment), assignment.locations);
}

export function expandedTree(
  ctx: EndpointContext,
  rootIds: readonly string[],
  knownRoots: readonly Location[] = [],
): Promise<LocationTree> {
  return ctx.caches.hierarchies.getOrLoad(hierarchyKey(rootIds), () =>
    expandLocations(ctx.fhir, rootIds, knownRoots),
  );
}

/** Cache key of an expanded hierarchy: its sorted root ids. */
export function hierarchyKey(rootIds: readonly string[]): string {
  return [...rootIds].sort().join(',');
}
