/**
 * The `PractitionerDetail` custom resource (spec §6.1), built from a user's assignment. The
 * Android app reads `contained` (resources in the order below) and falls back to the `fhir.*`
 * arrays for gateways older than 2.2.6, so both are filled.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Assignment } from '../sync/assignment.js';

export const CUSTOM_RESOURCE_PROFILE = 'http://hl7.org/fhir/profiles/custom-resource';

export interface PractitionerDetail {
  resourceType: 'PractitionerDetail';
  id: string;
  meta: { profile: string[] };
  contained: Resource[];
  fhir: {
    id: string;
    careteams: Resource[];
    teams: Resource[];
    locations: Resource[];
    locationHierarchyList: Resource[];
    practitionerRoles: Resource[];
    groups: Resource[];
    practitioner: Resource[];
    organizationAffiliation: Resource[];
  };
}

/** Undefined when the assignment has no Practitioner (the Java plugin's "Practitioner Not Found"). */
export function practitionerDetailOf(assignment: Assignment): PractitionerDetail | undefined {
  const practitioner = assignment.practitioner;
  if (!practitioner?.id) return undefined;
  const contained: Resource[] = [
    ...assignment.careTeams,
    practitioner,
    ...assignment.organizations,
    ...assignment.practitionerRoles,
    ...assignment.groups,
    ...assignment.affiliations,
    ...assignment.locations,
  ];
  return {
    resourceType: 'PractitionerDetail',
    id: practitioner.id,
    meta: { profile: [CUSTOM_RESOURCE_PROFILE] },
    contained,
    fhir: {
      id: practitioner.id,
      careteams: assignment.careTeams,
      teams: assignment.organizations,
      locations: assignment.locations,
      // No longer populated upstream since PR #94; kept for the shape.
      locationHierarchyList: [],
      practitionerRoles: assignment.practitionerRoles,
      groups: assignment.groups,
      practitioner: [practitioner],
      organizationAffiliation: assignment.affiliations,
    },
  };
}

/** `{ resourceType, total: 1, entry: [{ resource }] }`: no `type`, `id` or `fullUrl`, as upstream. */
export function practitionerDetailBundle(detail: PractitionerDetail): Record<string, unknown> {
  return { resourceType: 'Bundle', total: 1, entry: [{ resource: detail }] };
}

/** The answer for an unknown keycloak-uuid: an empty searchset with a `self` link. */
export function emptySearchset(selfUrl: string): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'searchset',
    total: 0,
    link: [{ relation: 'self', url: selfUrl }],
  };
}
