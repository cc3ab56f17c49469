/**
 * The resources a user's assignment is derived from (issue 8, E1-E3; resolution in assignment.ts):
 * Practitioner (by the token's `sub` as identifier), its CareTeams and PractitionerRoles, their
 * Organizations, the OrganizationAffiliations of those, and the Locations they name with
 * everything below. Group is not among them: no strategy derives ids from Groups here.
 *
 * ANDROID_CLIENT users may not write them unless OPENSRP_ANDROID_ASSIGNMENT_WRITES is on, and then
 * only when the resource as it would be stored adds nothing to the writer's own assignment. The
 * rules, per type, for the new version:
 * - Practitioner: one naming the user's `sub` as identifier must be the user's own Practitioner;
 * - CareTeam with the user's Practitioner as participant: one of the user's teams, managed only by
 *   the user's Organizations;
 * - PractitionerRole of the user's Practitioner: only with one of the user's Organizations;
 * - Organization: one the user's teams or roles reference must be one the user has already;
 * - OrganizationAffiliation of one of the user's Organizations: only Locations of the user's tree;
 * - Location outside the user's tree: not placed under it (`partOf`, lineage tags), and not one
 *   the user's affiliations name.
 * Deleting only narrows, except the user's own Practitioner (another one with the same identifier
 * would take its place), which is refused.
 */
import { distinct, referencedId } from './search.js';
import type { WriteScope } from './write-scope.js';

export const ASSIGNMENT_TYPES: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'CareTeam',
  'Organization',
  'OrganizationAffiliation',
  'Location',
]);

type Reference = { reference?: string } | undefined;
type AnyResource = Record<string, unknown> & { resourceType?: string; id?: string };

const refs = (value: unknown): Reference[] => (Array.isArray(value) ? (value as Reference[]) : []);
const ref = (value: unknown): Reference => value as Reference;

/** True when the stored resource is part of the user's assignment (so the user may change it). */
export async function ownsAssignmentResource(w: WriteScope, resource: AnyResource): Promise<boolean> {
  const a = w.assignment;
  const id = resource.id;
  if (id === undefined) return false;
  const has = (items: readonly { id?: string }[]) => items.some((item) => item.id === id);
  switch (resource.resourceType) {
    case 'Practitioner':
      return a.practitioner?.id === id;
    case 'PractitionerRole':
      return has(a.practitionerRoles);
    case 'CareTeam':
      return has(a.careTeams);
    case 'Organization':
      return has(a.organizations);
    case 'OrganizationAffiliation':
      return has(a.affiliations);
    case 'Location':
      return (await w.tree()).has(id);
    default:
      return false;
  }
}

/** Why writing `resource` would widen the writer's assignment; undefined when it would not. */
export async function widening(w: WriteScope, resource: AnyResource): Promise<string | undefined> {
  const a = w.assignment;
  const own = a.practitioner?.id;
  const orgs: ReadonlySet<string | undefined> = new Set(distinct(a.organizations.map((o) => o.id)));
  const id = resource.id;
  const target = `${resource.resourceType}/${id ?? '(new)'}`;
  switch (resource.resourceType) {
    case 'Practitioner': {
      const names = refs(resource.identifier).some(
        (identifier) => (identifier as { value?: unknown } | undefined)?.value === w.keycloakId,
      );
      return names && (own === undefined || id !== own)
        ? `${target} would name the user as its practitioner`
        : undefined;
    }
    case 'CareTeam': {
      const joins = refs(resource.participant).some(
        (p) =>
          own !== undefined &&
          referencedId(ref((p as { member?: unknown })?.member)?.reference, 'Practitioner') === own,
      );
      if (!joins) return undefined;
      if (id === undefined || !a.careTeams.some((team) => team.id === id))
        return `${target} would add a care team to the user's assignment`;
      const foreign = refs(resource.managingOrganization).filter(
        (org) => !orgs.has(referencedId(org?.reference, 'Organization')),
      );
      return foreign.length > 0 ? `${target} would add an organization to the user's assignment` : undefined;
    }
    case 'PractitionerRole': {
      if (own === undefined || referencedId(ref(resource.practitioner)?.reference, 'Practitioner') !== own)
        return undefined;
      const org = ref(resource.organization)?.reference;
      return org !== undefined && !orgs.has(referencedId(org, 'Organization'))
        ? `${target} would add an organization to the user's assignment`
        : undefined;
    }
    case 'Organization': {
      if (id === undefined || orgs.has(id)) return undefined;
      const referenced = [
        ...a.careTeams.flatMap((team) => (team.managingOrganization ?? []).map((o) => o.reference)),
        ...a.practitionerRoles.map((role) => role.organization?.reference),
      ].some((reference) => referencedId(reference, 'Organization') === id);
      return referenced ? `${target} would add an organization to the user's assignment` : undefined;
    }
    case 'OrganizationAffiliation': {
      if (!orgs.has(referencedId(ref(resource.organization)?.reference, 'Organization'))) return undefined;
      const tree = await w.tree();
      const outside = refs(resource.location).filter(
        (location) => !tree.has(referencedId(location?.reference, 'Location') ?? ''),
      );
      return outside.length > 0 ? `${target} would add locations to the user's assignment` : undefined;
    }
    case 'Location': {
      const tree = await w.tree();
      if (id !== undefined && tree.has(id)) return undefined;
      const parent = referencedId(ref(resource.partOf)?.reference, 'Location');
      const lineage = lineageCodes(w, resource);
      const named = a.affiliations.some((aff) =>
        (aff.location ?? []).some((l) => id !== undefined && referencedId(l.reference, 'Location') === id),
      );
      return (parent !== undefined && tree.has(parent)) || lineage.some((code) => tree.has(code)) || named
        ? `${target} would add a location to the user's assignment`
        : undefined;
    }
    default:
      return undefined;
  }
}

/** Why deleting the stored `resource` is refused; undefined when it may be deleted. */
export function deletionProblem(w: WriteScope, resource: AnyResource): string | undefined {
  return resource.resourceType === 'Practitioner' && resource.id === w.assignment.practitioner?.id
    ? `Practitioner/${resource.id} is the user's own practitioner and cannot be deleted by the user`
    : undefined;
}

function lineageCodes(w: WriteScope, resource: AnyResource): string[] {
  const system = w.lineageSystem;
  const tags = (resource.meta as { tag?: unknown } | undefined)?.tag;
  return (Array.isArray(tags) ? tags : [])
    .filter(
      (tag: { system?: unknown; code?: unknown }) => tag?.system === system && typeof tag.code === 'string',
    )
    .map((tag: { code: string }) => tag.code);
}
