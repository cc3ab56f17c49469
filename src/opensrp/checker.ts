/**
 * One OpenSRP access decision, in the order the Java plugin takes it, with its 500s turned into
 * answers: token subject (401) → exactly one client role (403) → roles per resource type (403,
 * Bundles entry by entry) → the later stages (list-entries mode, data access / sync), every one of
 * which must grant. Granted decisions are merged: mutations and post-processing run in stage order.
 */
import { composeCheckers } from '../access/compose.js';
import type { AccessChecker, AccessDecision, DeniedDecision, FhirResource } from '../access/contract.js';
import { denied, granted } from '../access/contract.js';
import type { FhirRequest } from '../fhir/request.js';
import { clientRoleOf, type OpenSrpUser, ROLE } from './claims.js';
import { checkPermissions, hasPermission } from './permissions.js';

/** A stage after the role checks; undefined when it has nothing to say about the request. */
export type DecisionStage = (req: FhirRequest, user: OpenSrpUser) => Promise<AccessDecision | undefined>;

export const CLIENT_ROLE_MESSAGE =
  `The user must have exactly one of the roles ${ROLE.androidClient} and ${ROLE.webClient}` +
  ' (Keycloak realm roles, or client roles of OPENSRP_CLIENT_ROLE_CLIENTS)';

/** The checks that need nothing but the token: subject, client role, roles per type. */
export function checkIdentityAndRoles(req: FhirRequest, user: OpenSrpUser): DeniedDecision | undefined {
  if (!user.keycloakId) {
    return denied('The token has no subject (sub): the OpenSRP checker cannot identify the user', 401);
  }
  const clientRole = clientRoleOf(user);
  if (clientRole === undefined) {
    const has = [ROLE.androidClient, ROLE.webClient].filter((role) => user.roles.has(role));
    return denied(`${CLIENT_ROLE_MESSAGE}; the token has ${has.length === 0 ? 'neither' : 'both'}`);
  }
  return checkPermissions(req, user.roles);
}

/**
 * Every resource in an answer needs the read role of its type (GET_X or MANAGE_X), whatever
 * brought it there: a join, an operation, a continuation page, a write answer (issue 8).
 */
export function readableWith(roles: ReadonlySet<string>): (resource: FhirResource) => boolean {
  return (resource) => hasPermission(roles, { verb: 'GET', resourceType: resource.resourceType });
}

/** The checker for one user: the token checks, then every stage in order. */
export function openSrpChecker(user: OpenSrpUser, stages: readonly DecisionStage[]): AccessChecker {
  const asCheckers: AccessChecker[] = [
    {
      checkAccess: async (req) =>
        checkIdentityAndRoles(req, user) ?? granted({ visible: readableWith(user.roles) }),
    },
    ...stages.map((stage) => ({
      checkAccess: async (req: FhirRequest) => (await stage(req, user)) ?? granted(),
    })),
  ];
  // composeCheckers runs them in order, stops at the first denial, and merges the grants.
  return composeCheckers(asCheckers);
}
