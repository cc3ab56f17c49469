/**
 * The practitioners a supervisor oversees (spec §4.1): the locations of the practitioner asked
 * about and everything below them → the Organizations affiliated with those locations → their
 * CareTeams, plus that practitioner's own CareTeams → every Practitioner taking part. Each search
 * follows every page.
 *
 * Upstream computes this from whichever practitioner the `keycloak-uuid` names, so any supervisor
 * could read any branch. Here a supervisor asking about someone else reaches only practitioners
 * whose assignment lies within the supervisor's own tree (attack P1, issue 7).
 */
import type { CareTeam, OrganizationAffiliation, Practitioner } from '@medplum/fhirtypes';
import type { Assignment } from '../sync/assignment.js';
import { treeIds } from '../sync/locations.js';
import { distinct, referencedId, searchByValues } from '../sync/search.js';
import { assignmentOf, type EndpointContext } from './context.js';
import { assignedLocationIds, assignedTree } from './location-scope.js';
import { type PractitionerDetail, practitionerDetailOf } from './practitioner-detail.js';

/** The ids of the supervisor's assigned Locations and everything below them. */
export async function supervisorTree(
  ctx: EndpointContext,
  supervisor: Assignment,
): Promise<ReadonlySet<string>> {
  return new Set(treeIds(await assignedTree(ctx, supervisor)));
}

/**
 * True when the assignment has a Practitioner and at least one Location, and every Location lies
 * in `tree`. An unknown user, or one assigned nowhere, lies within no tree.
 */
export function liesWithin(assignment: Assignment, tree: ReadonlySet<string>): boolean {
  const ids = assignedLocationIds(assignment);
  return assignment.practitioner?.id !== undefined && ids.length > 0 && ids.every((id) => tree.has(id));
}

/**
 * The PractitionerDetail of every practitioner on `root`'s teams, `root` included. With `within`,
 * only practitioners whose assignment lies in that tree are kept.
 */
export async function supervisedDetails(
  ctx: EndpointContext,
  root: Assignment,
  within?: ReadonlySet<string>,
): Promise<PractitionerDetail[]> {
  const practitioners = await supervisedPractitioners(ctx, root);
  const assignments = await Promise.all(
    practitioners.map(async (practitioner) => {
      if (practitioner.id === root.practitioner?.id) return root;
      const keycloakId = keycloakIdOf(practitioner);
      // Without the Keycloak id, look it up the Java way: an identifier equal to the FHIR id.
      return assignmentOf(ctx, keycloakId ?? practitioner.id!);
    }),
  );
  return assignments
    .filter((assignment) => within === undefined || liesWithin(assignment, within))
    .map(practitionerDetailOf)
    .filter((detail): detail is PractitionerDetail => detail !== undefined);
}

async function supervisedPractitioners(ctx: EndpointContext, root: Assignment): Promise<Practitioner[]> {
  const { fhir } = ctx;
  const tree = await assignedTree(ctx, root);
  const affiliations = await searchByValues<OrganizationAffiliation>(
    fhir,
    'OrganizationAffiliation',
    'location',
    treeIds(tree).map((id) => `Location/${id}`),
  );
  const organizationIds = distinct(
    affiliations.map((a) => referencedId(a.organization?.reference, 'Organization')),
  );
  const teams = await searchByValues<CareTeam>(
    fhir,
    'CareTeam',
    'participant',
    organizationIds.map((id) => `Organization/${id}`),
  );
  const byId = new Map<string, CareTeam>();
  for (const team of [...root.careTeams, ...teams]) if (team.id) byId.set(team.id, team);
  const practitionerIds = distinct(
    [...byId.values()].flatMap((team) =>
      (team.participant ?? []).map((p) => referencedId(p.member?.reference, 'Practitioner')),
    ),
  );
  return searchByValues<Practitioner>(fhir, 'Practitioner', '_id', practitionerIds);
}

/** OpenSRP keeps the Keycloak user id as the Practitioner's `secondary` identifier (fhircore #853). */
function keycloakIdOf(practitioner: Practitioner): string | undefined {
  return practitioner.identifier?.find((i) => i.use === 'secondary' && i.value)?.value;
}
