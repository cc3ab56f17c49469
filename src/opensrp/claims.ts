import type { VerifiedToken } from '../access/contract.js';

export const ROLE = {
  androidClient: 'ANDROID_CLIENT',
  webClient: 'WEB_CLIENT',
  allLocations: 'ALL_LOCATIONS',
  supervisor: 'SUPERVISOR',
} as const;

export type ClientRole = typeof ROLE.androidClient | typeof ROLE.webClient;

/** The OpenSRP view of a verified token: roles, app id and Keycloak user id. */
export interface OpenSrpUser {
  readonly keycloakId: string | undefined;
  readonly roles: ReadonlySet<string>;
  /** `fhir_core_app_id`: the Composition identifier of the app's configuration. */
  readonly appId: string | undefined;
  readonly token: VerifiedToken;
}

function stringsAt(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Roles from `realm_access.roles`, plus the client roles of the configured clients. */
export function openSrpUser(token: VerifiedToken, clientRoleClients: readonly string[] = []): OpenSrpUser {
  const claims = token.claims;
  const roles = new Set(stringsAt((claims.realm_access as { roles?: unknown } | undefined)?.roles));
  const resourceAccess = claims.resource_access as Record<string, { roles?: unknown }> | undefined;
  for (const client of clientRoleClients)
    for (const role of stringsAt(resourceAccess?.[client]?.roles)) roles.add(role);
  const appId =
    typeof claims.fhir_core_app_id === 'string' && claims.fhir_core_app_id !== ''
      ? claims.fhir_core_app_id
      : undefined;
  return { keycloakId: token.subject, roles, appId, token };
}

/** Exactly one of ANDROID_CLIENT / WEB_CLIENT, or undefined when the token has none or both. */
export function clientRoleOf(user: OpenSrpUser): ClientRole | undefined {
  const android = user.roles.has(ROLE.androidClient);
  const web = user.roles.has(ROLE.webClient);
  if (android === web) return undefined;
  return android ? ROLE.androidClient : ROLE.webClient;
}
