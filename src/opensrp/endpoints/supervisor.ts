/**
 * The practitioners a supervisor oversees (spec §4.1): the supervisor's locations and everything
 * below them → the Organizations affiliated with those locations → their CareTeams, plus the
 * supervisor's own CareTeams → every Practitioner taking part. Each search follows every page.
 */
import type { CareTeam, OrganizationAffiliation, Practitioner } from '@medplum/fhirtypes';
import type { Assignment } from '../sync/assignment.js';
import { treeIds } from '../sync/locations.js';
import { distinct, referencedId, searchByValues } from '../sync/search.js';
import { assignmentOf, type EndpointContext } from './context.js';
import { assignedTree } from './location-scope.js';
import { type PractitionerDetail, practitionerDetailOf } from './practitioner-detail.js';

/** The PractitionerDetail of every practitioner on the supervisor's teams, the supervisor included. */
export async function supervisedDetails(
  ctx: EndpointContext,
  supervisor: Assignment,
): Promise<PractitionerDetail[]> {
  const practitioners = await supervisedPractitioners(ctx, supervisor);
  const details = await Promise.all(
    practitioners.map(async (practitioner) => {
      if (practitioner.id === supervisor.practitioner?.id) return practitionerDetailOf(supervisor);
      const keycloakId = keycloakIdOf(practitioner);
      // Without the Keycloak id, look it up the Java way: an identifier equal to the FHIR id.
      return practitionerDetailOf(await assignmentOf(ctx, keycloakId ?? practitioner.id!));
    }),
  );
  return details.filter((detail): detail is PractitionerDetail => detail !== undefined);
}

async function supervisedPractitioners(
  ctx: EndpointContext,
  supervisor: Assignment,
): Promise<Practitioner[]> {
  const { fhir } = ctx;
  const tree = await assignedTree(ctx, supervisor);
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
  for (const team of [...supervisor.careTeams, ...teams]) if (team.id) byId.set(team.id, team);
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
