/**
 * What the OpenSRP endpoints share: the backend client, the settings, the caches, and the
 * caller as the verified token describes them.
 */
import type { FhirClient, PluginRouteRequest } from '../../access/contract.js';
import { forbidden, GatewayError } from '../../fhir/errors.js';
import { TtlCache } from '../../access/ttl-cache.js';
import { CLIENT_ROLE_MESSAGE } from '../checker.js';
import { type ClientRole, clientRoleOf, type OpenSrpUser, openSrpUser, ROLE } from '../claims.js';
import type { OpenSrpSettings } from '../settings.js';
import { type Assignment, resolveAssignment } from '../sync/assignment.js';
import type { LocationTree } from '../sync/locations.js';
import type { SyncStrategy } from '../sync/strategy.js';
import { withQuery } from './paging.js';

/**
 * The endpoints' caches, all with the TTL of `opensrp_cache_timeout_seconds`. Pass the sync
 * checker's caches to share them (an assignment loaded for a sync request serves the endpoint).
 */
export interface EndpointCaches {
  /** By Keycloak user id. */
  readonly assignments: TtlCache<Assignment>;
  /** Expanded hierarchies, by the sorted root ids. */
  readonly hierarchies: TtlCache<LocationTree>;
  /** By `fhir_core_app_id`. */
  readonly strategies: TtlCache<SyncStrategy>;
  /** Serialized tree answers (megabytes for large hierarchies), by roots and filters. */
  readonly treeAnswers: TtlCache<string>;
}

export function createEndpointCaches(ttlSeconds: number): EndpointCaches {
  return {
    assignments: new TtlCache(ttlSeconds),
    hierarchies: hierarchyCache(ttlSeconds),
    strategies: new TtlCache(ttlSeconds),
    treeAnswers: treeAnswerCache(ttlSeconds),
  };
}

const MIB = 1024 * 1024;
/** What one Location holds once parsed (its JSON, about 1 KB in the test worlds) with its map entries. */
const LOCATION_BYTES = 2048;

/** Expanded hierarchies: a 10,000-Location tree holds some 20 MB, so they are bounded by weight too. */
export function hierarchyCache(ttlSeconds: number): TtlCache<LocationTree> {
  return new TtlCache(ttlSeconds, 5000, {
    maxBytes: 128 * MIB,
    bytesOf: (tree) => tree.byId.size * LOCATION_BYTES,
  });
}

/** Serialized tree answers: megabytes each for large hierarchies (6.8 MB for 10,000 Locations). */
export function treeAnswerCache(ttlSeconds: number): TtlCache<string> {
  return new TtlCache(ttlSeconds, 100, { maxBytes: 64 * MIB, bytesOf: (answer, key) => answer.length + key.length });
}

export interface EndpointContext {
  readonly fhir: FhirClient;
  readonly settings: OpenSrpSettings;
  readonly caches: EndpointCaches;
}

export type Caller = OpenSrpUser & { readonly keycloakId: string; readonly clientRole: ClientRole };

/**
 * The caller, holding what the Java endpoints need for the caller's own data: a subject (401
 * without one; the endpoints key everything on it) and exactly one client role (403 otherwise,
 * as on every /fhir request). No resource role is needed (issue 7: GET_LOCATION is not).
 */
export function callerOf(req: PluginRouteRequest, settings: OpenSrpSettings): Caller {
  if (!req.token) throw new GatewayError(401, 'missing_token', 'No Authorization header provided');
  const user = openSrpUser(req.token, settings.clientRoleClients);
  if (!user.keycloakId) {
    throw new GatewayError(
      401,
      'no_subject',
      'The token has no subject (sub): the user cannot be identified',
    );
  }
  const clientRole = clientRoleOf(user);
  if (clientRole === undefined) {
    const has = [ROLE.androidClient, ROLE.webClient].filter((role) => user.roles.has(role));
    throw forbidden(`${CLIENT_ROLE_MESSAGE}; the token has ${has.length === 0 ? 'neither' : 'both'}`);
  }
  return { ...user, keycloakId: user.keycloakId, clientRole };
}

export function assignmentOf(ctx: EndpointContext, keycloakId: string): Promise<Assignment> {
  return ctx.caches.assignments.getOrLoad(keycloakId, () => resolveAssignment(ctx.fhir, keycloakId));
}

/** The URL the client called, e.g. `https://gw/LocationHierarchy?_id=1` (the routes sit at the root). */
export function requestUrl(req: PluginRouteRequest, query = req.query): string {
  const root = req.baseUrl.replace(/\/fhir$/, '');
  return withQuery(`${root}${req.path}`, query);
}

export function endpointUrl(req: PluginRouteRequest): string {
  return requestUrl(req, []);
}
