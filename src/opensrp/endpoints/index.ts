/**
 * The OpenSRP endpoints at the gateway's root, as the Android app and fhir-web call them:
 * `GET /PractitionerDetail` and `GET /LocationHierarchy` (spec §4). Registered by the `permission`
 * checker's `routes()`. The core verifies the token of every call (401 otherwise), answers thrown
 * GatewayErrors as OperationOutcomes with their status, and applies CORS_ALLOW_ORIGIN to these
 * routes as to every other (its @fastify/cors registration is global, preflight included).
 */
import type { GatewayContext, PluginRoute } from '../../access/contract.js';
import type { OpenSrpSettings } from '../settings.js';
import { createEndpointCaches, type EndpointCaches, type EndpointContext } from './context.js';
import { locationHierarchyRoute } from './location-hierarchy-route.js';
import { practitionerDetailRoute } from './practitioner-detail-route.js';

export { createEndpointCaches, type EndpointCaches } from './context.js';
export { LOCATION_HIERARCHY_PATH } from './location-hierarchy-route.js';
export { PRACTITIONER_DETAIL_PATH } from './practitioner-detail-route.js';

/** The two routes; `caches` defaults to new caches with the settings' TTL. */
export function openSrpRoutes(
  ctx: GatewayContext,
  settings: OpenSrpSettings,
  caches: EndpointCaches = createEndpointCaches(settings.cacheTtlSeconds),
): PluginRoute[] {
  const endpoints: EndpointContext = { fhir: ctx.fhirClient, settings, caches };
  return [practitionerDetailRoute(endpoints), locationHierarchyRoute(endpoints)];
}
