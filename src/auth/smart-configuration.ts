/**
 * The document served at `[base]/.well-known/smart-configuration` (SMART App Launch v2,
 * conformance.md). The Java gateway echoed the IdP's OIDC discovery verbatim, which lacks the
 * REQUIRED `capabilities` and `code_challenge_methods_supported`; this builds a SMART document
 * from a fixed list of discovery fields plus gateway-owned fields, and never echoes anything else.
 */

export const DEFAULT_SMART_CAPABILITIES: readonly string[] = [
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'sso-openid-connect',
  'context-standalone-patient',
  'permission-offline',
  'permission-user',
  'permission-patient',
  'permission-v1',
];

/** Discovery fields copied when present, in this order. */
const COPIED_URL_FIELDS = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'introspection_endpoint',
  'revocation_endpoint',
  'management_endpoint',
] as const;

const COPIED_LIST_FIELDS = [
  'token_endpoint_auth_methods_supported',
  'grant_types_supported',
  'response_types_supported',
  'scopes_supported',
] as const;

export interface SmartConfigurationOptions {
  capabilities?: string[];
  /** Overrides the discovery's `scopes_supported`. */
  scopesSupported?: string[];
  /** Added to `scopes_supported` (the discovery's, or the override): scopes a checker enforces. */
  extraScopes?: readonly string[];
}

/** What the configured checkers advertise (AccessCheckerFactory.smart), added to the defaults. */
export interface SmartAdvertiser {
  readonly smart?: {
    readonly capabilities?: readonly string[];
    readonly scopesSupported?: readonly string[];
  };
}

/**
 * The options for the configured checkers: the default capabilities plus theirs (the `patient`
 * checker adds `permission-v2`, which only a checker that enforces v2 scopes may claim), and the
 * scopes they enforce.
 */
export function smartOptionsFor(checkers: readonly SmartAdvertiser[]): SmartConfigurationOptions {
  const capabilities = new Set(DEFAULT_SMART_CAPABILITIES);
  const scopes = new Set<string>();
  for (const checker of checkers) {
    for (const capability of checker.smart?.capabilities ?? []) capabilities.add(capability);
    for (const scope of checker.smart?.scopesSupported ?? []) scopes.add(scope);
  }
  return { capabilities: [...capabilities], ...(scopes.size > 0 ? { extraScopes: [...scopes] } : {}) };
}

export function buildSmartConfiguration(
  discovery: Readonly<Record<string, unknown>>,
  options: SmartConfigurationOptions = {},
): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const field of COPIED_URL_FIELDS) {
    const value = discovery[field];
    if (typeof value === 'string' && value !== '') document[field] = value;
  }
  for (const field of COPIED_LIST_FIELDS) {
    const value = stringList(discovery[field]);
    if (value !== undefined) document[field] = value;
  }
  document.grant_types_supported ??= ['authorization_code'];
  if (options.scopesSupported !== undefined) document.scopes_supported = [...options.scopesSupported];
  if (options.extraScopes !== undefined) {
    const known = (document.scopes_supported as string[] | undefined) ?? [];
    document.scopes_supported = [...new Set([...known, ...options.extraScopes])];
  }
  document.capabilities = [...(options.capabilities ?? DEFAULT_SMART_CAPABILITIES)];
  // SMART requires S256 and forbids `plain`, whatever the IdP itself allows.
  document.code_challenge_methods_supported = ['S256'];
  return document;
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}
