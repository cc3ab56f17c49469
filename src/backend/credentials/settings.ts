/**
 * What each `BACKEND_TYPE` needs to authenticate the gateway to the FHIR server. The config module
 * builds these from the environment (src/config/backend-settings.ts); the credential sources in
 * this folder consume them. Secrets are plain strings here: they never reach a log or an error.
 */

export const BACKEND_TYPES = ['HAPI', 'GCP', 'AZURE', 'OAUTH2', 'BASIC', 'BEARER'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

/** Google Cloud Healthcare API through Application Default Credentials. */
export interface GcpSettings {
  readonly type: 'GCP';
  readonly scopes: readonly string[];
  /** GOOGLE_APPLICATION_CREDENTIALS: a key file (service account, user, external account). */
  readonly keyFile?: string;
  /** From PROXY_TO (`…/projects/<p>/…`), so the library does not look the project up. */
  readonly projectId?: string;
}

/** Azure Health Data Services through @azure/identity. */
export interface AzureSettings {
  readonly type: 'AZURE';
  readonly scopes: readonly string[];
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly certificatePath?: string;
  readonly certificatePassword?: string;
  readonly authorityHost?: string;
  readonly federatedTokenFile?: string;
}

/** Any server behind OAuth 2.0 client credentials (RFC 6749 §4.4). */
export interface OAuth2Settings {
  readonly type: 'OAUTH2';
  /** Exactly one of tokenUrl and issuer (OIDC / RFC 8414 discovery). */
  readonly tokenUrl?: string;
  readonly issuer?: string;
  readonly clientId: string;
  /** Exactly one of clientSecret (client_secret_basic) and privateKey (private_key_jwt, RFC 7523). */
  readonly clientSecret?: string;
  readonly privateKey?: string;
  readonly keyId?: string;
  readonly scope?: string;
  readonly audience?: string;
  /** Plain http to the token endpoint (loopback hosts, or RUN_MODE=DEV). */
  readonly allowHttp: boolean;
}

export type BackendCredentialSettings =
  | { readonly type: 'HAPI' }
  | GcpSettings
  | AzureSettings
  | OAuth2Settings
  | { readonly type: 'BASIC'; readonly username: string; readonly password: string }
  | { readonly type: 'BEARER'; readonly token: string };

/** Google's scope for every Cloud API, the Healthcare API included. */
export const GCP_DEFAULT_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Azure's scope for a resource is its origin with `/.default` (the app's granted roles). */
export function azureDefaultScope(proxyTo: string): string {
  return `${new URL(proxyTo).origin}/.default`;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for `localhost`, `127.x.x.x` and `[::1]`: plain http never leaves the machine there. */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}
