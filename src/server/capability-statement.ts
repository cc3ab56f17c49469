import type { GrantedDecision } from '../access/contract.js';

const SECURITY_SERVICE = 'http://terminology.hl7.org/CodeSystem/restful-security-service';
const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

type Json = Record<string, unknown>;

/**
 * The decision for `GET metadata` (served without a token): the backend's CapabilityStatement with
 * its security section describing the gateway: CORS, the OAuth/SMART service, and the SMART
 * `oauth-uris` extension pointing at the issuer's endpoints.
 */
export function capabilityDecision(
  issuer: string,
  discovery: () => Promise<Readonly<Json> | undefined>,
): GrantedDecision {
  return {
    canAccess: true,
    async postProcess(_req, res) {
      const statement = res.json() as Json;
      if (statement?.resourceType !== 'CapabilityStatement' || !Array.isArray(statement.rest))
        return undefined;
      const endpoints = await discovery();
      for (const rest of statement.rest as Json[]) rest.security = securityOf(issuer, endpoints);
      return statement;
    },
  };
}

function securityOf(issuer: string, endpoints: Readonly<Json> | undefined): Json {
  const uris: Json[] = [];
  for (const [url, field] of [
    ['authorize', 'authorization_endpoint'],
    ['token', 'token_endpoint'],
    ['introspect', 'introspection_endpoint'],
    ['revoke', 'revocation_endpoint'],
  ] as const) {
    const value = endpoints?.[field];
    if (typeof value === 'string') uris.push({ url, valueUri: value });
  }
  return {
    cors: true,
    service: [
      {
        coding: [
          { system: SECURITY_SERVICE, code: 'SMART-on-FHIR' },
          { system: SECURITY_SERVICE, code: 'OAuth' },
        ],
        text: 'OAuth2 using SMART-on-FHIR profile',
      },
    ],
    description: `Requests need an Authorization header with a Bearer JWT access token issued by ${issuer}.`,
    ...(uris.length > 0 ? { extension: [{ url: OAUTH_URIS, extension: uris }] } : {}),
  };
}
