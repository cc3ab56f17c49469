/**
 * `GET /PractitionerDetail?keycloak-uuid=<uuid>` (spec §4.1). Unlike the Java plugin, a caller
 * without the SUPERVISOR role may only ask for their own uuid (the token's `sub`): 403 otherwise.
 * A SUPERVISOR gets the supervisor Bundle: the details of every practitioner on their teams.
 */
import type { PluginRoute, PluginRouteRequest, PluginRouteResponse } from '../../access/contract.js';
import { badRequest, forbidden } from '../../fhir/errors.js';
import { ROLE } from '../claims.js';
import { assignmentOf, callerOf, type EndpointContext, requestUrl } from './context.js';
import { firstValue } from './paging.js';
import { emptySearchset, practitionerDetailBundle, practitionerDetailOf } from './practitioner-detail.js';
import { supervisedDetails } from './supervisor.js';

export const PRACTITIONER_DETAIL_PATH = '/PractitionerDetail';
export const KEYCLOAK_UUID_PARAM = 'keycloak-uuid';

export function practitionerDetailRoute(ctx: EndpointContext): PluginRoute {
  return {
    method: 'GET',
    path: PRACTITIONER_DETAIL_PATH,
    handler: (req) => practitionerDetail(ctx, req),
  };
}

async function practitionerDetail(
  ctx: EndpointContext,
  req: PluginRouteRequest,
): Promise<PluginRouteResponse> {
  const caller = callerOf(req, ctx.settings);
  const keycloakId = firstValue(req.query, KEYCLOAK_UUID_PARAM);
  if (keycloakId === undefined) throw badRequest(`The ${KEYCLOAK_UUID_PARAM} parameter is required`);
  const supervisor = caller.roles.has(ROLE.supervisor);
  if (!supervisor && keycloakId !== caller.keycloakId) {
    throw forbidden(
      `Only a ${ROLE.supervisor} may read the details of another user; ask with your own ${KEYCLOAK_UUID_PARAM}`,
    );
  }

  const assignment = await assignmentOf(ctx, keycloakId);
  if (supervisor) {
    if (!assignment.practitioner) return { status: 200, body: { resourceType: 'Bundle' } };
    const details = await supervisedDetails(ctx, assignment);
    return {
      status: 200,
      body: {
        resourceType: 'Bundle',
        total: details.length,
        entry: details.map((resource) => ({ resource })),
      },
    };
  }
  const detail = practitionerDetailOf(assignment);
  return {
    status: 200,
    body: detail ? practitionerDetailBundle(detail) : emptySearchset(requestUrl(req)),
  };
}
