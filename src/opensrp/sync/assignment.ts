/**
 * The user's assignment (opensrp-plugins spec §3.3): the Practitioner whose identifier is the
 * token's `sub`, its CareTeams, PractitionerRoles, Organizations, Groups, OrganizationAffiliations
 * and the Locations those affiliations name. Every search follows every page.
 */
import type {
  CareTeam,
  Group,
  Location,
  Organization,
  OrganizationAffiliation,
  Practitioner,
  PractitionerRole,
} from '@medplum/fhirtypes';
import type { FhirClient } from '../../access/contract.js';
import { distinct, referencedId, searchAllOf, searchByValues } from './search.js';

/** SNOMED "Assigned practitioner": the code of the Groups a practitioner is assigned to. */
export const ASSIGNED_PRACTITIONER_GROUP_CODE = 'http://snomed.info/sct|405623001';

export interface Assignment {
  practitioner?: Practitioner;
  careTeams: CareTeam[];
  organizations: Organization[];
  practitionerRoles: PractitionerRole[];
  groups: Group[];
  affiliations: OrganizationAffiliation[];
  /** The assigned Locations, not expanded to their descendants. */
  locations: Location[];
}

export function emptyAssignment(): Assignment {
  return {
    careTeams: [],
    organizations: [],
    practitionerRoles: [],
    groups: [],
    affiliations: [],
    locations: [],
  };
}

export async function resolveAssignment(fhir: FhirClient, keycloakId: string): Promise<Assignment> {
  const [practitioner] = await searchAllOf<Practitioner>(fhir, 'Practitioner', [
    { name: 'identifier', value: keycloakId },
  ]);
  if (!practitioner?.id) return emptyAssignment();
  const pid = practitioner.id;

  const [careTeams, practitionerRoles, groups] = await Promise.all([
    searchAllOf<CareTeam>(fhir, 'CareTeam', [{ name: 'participant', value: `Practitioner/${pid}` }]),
    searchAllOf<PractitionerRole>(fhir, 'PractitionerRole', [
      { name: 'practitioner', value: `Practitioner/${pid}` },
    ]),
    searchAllOf<Group>(fhir, 'Group', [
      { name: 'member', value: `Practitioner/${pid}` },
      { name: 'code', value: ASSIGNED_PRACTITIONER_GROUP_CODE },
    ]),
  ]);

  const organizationIds = distinct([
    ...careTeams.flatMap((team) =>
      (team.managingOrganization ?? []).map((org) => referencedId(org.reference, 'Organization')),
    ),
    ...practitionerRoles.map((role) => referencedId(role.organization?.reference, 'Organization')),
  ]);
  const organizations = await searchByValues<Organization>(fhir, 'Organization', '_id', organizationIds);
  const affiliations = await searchByValues<OrganizationAffiliation>(
    fhir,
    'OrganizationAffiliation',
    'primary-organization',
    distinct(organizations.map((org) => org.id)).map((id) => `Organization/${id}`),
  );
  // Every location of an affiliation counts (the Java plugin takes only the first, and fails on none).
  const locationIds = distinct(
    affiliations.flatMap((a) => (a.location ?? []).map((l) => referencedId(l.reference, 'Location'))),
  );
  const locations = await searchByValues<Location>(fhir, 'Location', '_id', locationIds);
  return { practitioner, careTeams, organizations, practitionerRoles, groups, affiliations, locations };
}
