/**
 * `GET /PractitionerDetail?keycloak-uuid=<uuid>` (spec §4.1). The caller's own uuid (the token's
 * `sub`) needs what upstream needs: a valid token and one client role. Unlike upstream:
 * - a caller without SUPERVISOR may ask only for their own uuid (403 otherwise);
 * - a SUPERVISOR gets the supervisor Bundle (the details of every practitioner on the teams) for
 *   their own uuid, and for another only when that practitioner's assignment lies within the
 *   supervisor's own tree, keeping only practitioners within it. Outside and unknown uuids get
 *   the same 403, so the answer does not tell whether the practitioner exists.
 */
import type { PluginRoute, PluginRouteRequest, PluginRouteResponse } from '../../access/contract.js';
import { badRequest, forbidden } from '../../fhir/errors.js';
import { ROLE } from '../claims.js';
import { assignmentOf, type Caller, callerOf, type EndpointContext, requestUrl } from './context.js';
import { firstValue } from './paging.js';
import {
  emptySearchset,
  type PractitionerDetail,
  practitionerDetailBundle,
  practitionerDetailOf,
} from './practitioner-detail.js';
import { liesWithin, supervisedDetails, supervisorTree } from './supervisor.js';

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
  if (caller.roles.has(ROLE.supervisor)) return supervisorAnswer(ctx, caller, keycloakId);
  if (keycloakId !== caller.keycloakId) {
    throw forbidden(
      `Only a ${ROLE.supervisor} may read the details of another user; ask with your own ${KEYCLOAK_UUID_PARAM}`,
    );
  }
  const detail = practitionerDetailOf(await assignmentOf(ctx, keycloakId));
  return {
    status: 200,
    body: detail ? practitionerDetailBundle(detail) : emptySearchset(requestUrl(req)),
  };
}

async function supervisorAnswer(
  ctx: EndpointContext,
  caller: Caller,
  keycloakId: string,
): Promise<PluginRouteResponse> {
  const own = await assignmentOf(ctx, caller.keycloakId);
  if (keycloakId === caller.keycloakId) {
    // Upstream's answer for a supervisor without a Practitioner: a Bundle with nothing else.
    if (!own.practitioner) return { status: 200, body: { resourceType: 'Bundle' } };
    return { status: 200, body: supervisorBundle(await supervisedDetails(ctx, own)) };
  }
  const tree = await supervisorTree(ctx, own);
  const asked = await assignmentOf(ctx, keycloakId);
  if (!liesWithin(asked, tree)) {
    throw forbidden(
      `User is not authorized to read the details of this ${KEYCLOAK_UUID_PARAM}: a ${ROLE.supervisor} ` +
        "may read only practitioners assigned within the supervisor's own locations",
    );
  }
  return { status: 200, body: supervisorBundle(await supervisedDetails(ctx, asked, tree)) };
}

/** No `type`, `total` = the number of entries, as upstream. */
function supervisorBundle(details: readonly PractitionerDetail[]): Record<string, unknown> {
  return { resourceType: 'Bundle', total: details.length, entry: details.map((resource) => ({ resource })) };
}
