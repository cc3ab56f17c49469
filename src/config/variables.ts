/**
 * Every environment variable the gateway reads, with its default: the single source of truth.
 * `loadConfig` takes its defaults from here, and `docs/configuration.md` is checked against these
 * lists by test/config/docs-drift.test.ts. Names and defaults of the variables inherited from the
 * Java gateway are kept as they are there, so existing deployments can switch without edits.
 */
import { OPENSRP_VARIABLES } from '../opensrp/settings.js';

export type ConfigGroup = 'required' | 'backend' | 'token' | 'access' | 'limits' | 'ops';

export interface ConfigVariable {
  readonly name: string;
  /** The value used when the variable is unset or blank; absent when there is none. */
  readonly default?: string;
  readonly required: boolean;
  readonly description: string;
  readonly group: ConfigGroup;
  /** A credential: `check-config` and logs show only whether it is set, never its value. */
  readonly secret?: boolean;
  /**
   * Set by the platform and read by a client library from the process environment itself, so it
   * has no `<NAME>_FILE` form (every other secret has one, see load-config.ts).
   */
  readonly platform?: boolean;
}

type VariableSpec = Omit<ConfigVariable, 'name'>;

/** One setting per key; the key is the variable's name. Ordered as in the docs. */
const CORE_VARIABLE_SPECS = {
  PROXY_TO: {
    required: true,
    group: 'required',
    description:
      'Base URL of the FHIR server behind the gateway, e.g. `http://hapi:8080/fhir`. Absolute http(s), ' +
      'no query or fragment; written in its WHATWG form (lower-case scheme and host, no default port) without ' +
      'trailing slashes. Backend URLs in response bodies are rewritten from it.',
  },
  TOKEN_ISSUER: {
    required: true,
    group: 'required',
    description:
      'The OIDC issuer (e.g. a Keycloak realm URL). A token is accepted only when its `iss` equals this ' +
      'value exactly (unless `RUN_MODE=DEV`). Also the base of the discovery document.',
  },
  ACCESS_CHECKER: {
    required: true,
    group: 'required',
    description:
      'Comma-separated names of the access checkers to apply, e.g. `list` or `patient,list`; all must grant. ' +
      '`permissive` is accepted only when `RUN_MODE=DEV`.',
  },
  BACKEND_TYPE: {
    default: 'HAPI',
    required: false,
    group: 'backend',
    description:
      'How the gateway authenticates to the FHIR server: `HAPI` (none), `GCP` (Google Application Default Credentials), ' +
      '`AZURE` (@azure/identity), `OAUTH2` (client credentials), `BASIC` or `BEARER`. Case-sensitive. See docs/backends.md.',
  },
  BACKEND_CONNECT_TIMEOUT_MS: {
    default: '5000',
    required: false,
    group: 'backend',
    description: 'Milliseconds to open a connection to the FHIR server before answering 504.',
  },
  BACKEND_TIMEOUT_MS: {
    default: '60000',
    required: false,
    group: 'backend',
    description:
      'Milliseconds to wait for the response headers, and then between two body chunks, before answering 504.',
  },
  BACKEND_SCOPE: {
    required: false,
    group: 'backend',
    description:
      'Scopes asked for the backend token, separated by spaces or commas. Defaults: GCP ' +
      '`https://www.googleapis.com/auth/cloud-platform`, AZURE `<PROXY_TO origin>/.default`, OAUTH2 none.',
  },
  BACKEND_TOKEN_URL: {
    required: false,
    group: 'backend',
    description:
      'OAUTH2: the token endpoint. https, or http on a loopback host (any host with `RUN_MODE=DEV`). Set this or `BACKEND_ISSUER`.',
  },
  BACKEND_ISSUER: {
    required: false,
    group: 'backend',
    description:
      'OAUTH2: the issuer whose discovery document names the token endpoint (e.g. a Keycloak realm URL). Same https rule.',
  },
  BACKEND_CLIENT_ID: {
    required: false,
    group: 'backend',
    description: 'OAUTH2: the client id of the gateway at the token endpoint.',
  },
  BACKEND_CLIENT_SECRET: {
    required: false,
    group: 'backend',
    secret: true,
    description:
      'OAUTH2: the client secret (sent as HTTP Basic, `client_secret_basic`). Set this or `BACKEND_CLIENT_PRIVATE_KEY`.',
  },
  BACKEND_CLIENT_PRIVATE_KEY: {
    required: false,
    group: 'backend',
    secret: true,
    description:
      'OAUTH2: a PEM private key (RSA, EC or Ed25519) that signs the client assertion (`private_key_jwt`, RFC 7523).',
  },
  BACKEND_CLIENT_KEY_ID: {
    required: false,
    group: 'backend',
    description:
      'OAUTH2 with `private_key_jwt`: the `kid` header of the assertion. Unset: none (the server picks the client key by algorithm).',
  },
  BACKEND_AUDIENCE: {
    required: false,
    group: 'backend',
    description: 'OAUTH2: an `audience` parameter for the token request (Auth0 and others need one).',
  },
  BACKEND_USERNAME: {
    required: false,
    group: 'backend',
    description: 'BASIC: the user name (no colon).',
  },
  BACKEND_PASSWORD: {
    required: false,
    group: 'backend',
    secret: true,
    description: 'BASIC: the password.',
  },
  BACKEND_BEARER_TOKEN: {
    required: false,
    group: 'backend',
    secret: true,
    description: 'BEARER: the token sent as `Authorization: Bearer <token>` on every backend request.',
  },
  GOOGLE_APPLICATION_CREDENTIALS: {
    required: false,
    group: 'backend',
    description:
      'GCP: path to a key file (service account, authorized user or external account). Unset: gcloud user ' +
      'credentials, then the metadata server.',
  },
  GCE_METADATA_HOST: {
    required: false,
    group: 'backend',
    description:
      'GCP: `host:port` of the metadata server, read by google-auth-library. Unset: the platform default.',
  },
  AZURE_TENANT_ID: {
    required: false,
    group: 'backend',
    description:
      'AZURE: the Microsoft Entra tenant (with a client secret, certificate or workload identity).',
  },
  AZURE_CLIENT_ID: {
    required: false,
    group: 'backend',
    description:
      'AZURE: the application (client) id; with managed identity, the user-assigned identity to use.',
  },
  AZURE_CLIENT_SECRET: {
    required: false,
    group: 'backend',
    secret: true,
    description: 'AZURE: the client secret of the application.',
  },
  AZURE_CLIENT_CERTIFICATE_PATH: {
    required: false,
    group: 'backend',
    description: 'AZURE: a PEM file with the certificate and private key of the application.',
  },
  AZURE_CLIENT_CERTIFICATE_PASSWORD: {
    required: false,
    group: 'backend',
    secret: true,
    description: 'AZURE: the password of the certificate file, if it has one.',
  },
  AZURE_AUTHORITY_HOST: {
    required: false,
    group: 'backend',
    description: 'AZURE: the Microsoft Entra authority (https). Unset: `https://login.microsoftonline.com`.',
  },
  AZURE_FEDERATED_TOKEN_FILE: {
    required: false,
    group: 'backend',
    description: 'AZURE: the projected service-account token of AKS workload identity (set by AKS).',
  },
  IDENTITY_ENDPOINT: {
    required: false,
    group: 'backend',
    platform: true,
    description: 'AZURE: the managed identity endpoint (set by App Service, Functions, Container Apps, Arc).',
  },
  IDENTITY_HEADER: {
    required: false,
    group: 'backend',
    secret: true,
    platform: true,
    description: 'AZURE: the secret header of the managed identity endpoint (set with `IDENTITY_ENDPOINT`).',
  },
  WELL_KNOWN_ENDPOINT: {
    default: '.well-known/openid-configuration',
    required: false,
    group: 'token',
    description:
      'Path appended to `TOKEN_ISSUER` + `/` to fetch the discovery document, which the gateway also serves ' +
      'at `[base]/.well-known/smart-configuration`.',
  },
  TOKEN_AUDIENCE: {
    required: false,
    group: 'token',
    description:
      'Comma-separated accepted `aud` values. Unset: the audience is not checked (as the Java gateway).',
  },
  TOKEN_ALGORITHMS: {
    default: 'RS256,RS384,RS512,PS256,ES256,ES384',
    required: false,
    group: 'token',
    description:
      'Comma-separated JWS algorithms a token may be signed with. Only public-key algorithms; `none` and `HS*` are refused.',
  },
  TOKEN_CLOCK_SKEW_SECONDS: {
    default: '30',
    required: false,
    group: 'token',
    description: 'Seconds of clock difference tolerated on `exp`, `nbf` and `iat` (0 to 300).',
  },
  TOKEN_ACCEPTED_TYPES: {
    default: 'Bearer,JWT,at+jwt',
    required: false,
    group: 'token',
    description:
      'Comma-separated token types accepted as bearer: the JOSE header `typ` and the payload claim `typ` ' +
      '(Keycloak: `Bearer`, `ID`, `Refresh`) must each be absent or one of these, compared case-insensitively ' +
      'with an optional `application/` prefix. Keeps ID and refresh tokens out.',
  },
  TOKEN_JWKS_COOLDOWN_SECONDS: {
    default: '30',
    required: false,
    group: 'token',
    description:
      'After a token with an unknown key id, the JWKS is fetched again at most once per this many seconds ' +
      '(rotated keys are picked up without restart; forged key ids cannot flood the issuer).',
  },
  ALLOWED_QUERIES_FILE: {
    required: false,
    group: 'access',
    description:
      'Path to a JSON allow-list of requests that skip the access checkers (format below). Unset: no allow-list. ' +
      'Entries never grant paging links (HAPI `_getpages`, GCP `_page_token`): those are bound to their user (PAGING_LINK_KEY).',
  },
  PAGING_LINK_KEY: {
    required: false,
    group: 'access',
    secret: true,
    description:
      'Secret (at least 32 characters) that signs the paging links (HAPI `_getpages`, GCP `_page_token`) the gateway hands out, binding each to the user ' +
      'who started the search. Give every replica the same value. Unset: a random key per process (links work only on the replica that made them).',
  },
  RUN_MODE: {
    default: 'PROD',
    required: false,
    group: 'access',
    description:
      '`DEV` skips the issuer check and allows the `permissive` checker; any other value means production. ' +
      'Never use `DEV` in production.',
  },
  AUDIT_EVENT_ACTIONS_CONFIG: {
    required: false,
    group: 'access',
    description:
      'Which interactions write a FHIR AuditEvent: letters from `C`, `R`, `U`, `D`, `E` written together, ' +
      'e.g. `CRUDE` or `RE` (no commas). Unset or blank: audit off.',
  },
  AUDIT_SINK_URL: {
    required: false,
    group: 'access',
    description:
      'FHIR base URL the AuditEvents are written to, as transaction Bundles. Unset: `PROXY_TO`, with the backend ' +
      'credentials. `none`: no FHIR sink (then `AUDIT_LOG_FILE` must be set). See docs/audit.md.',
  },
  AUDIT_LOG_FILE: {
    required: false,
    group: 'access',
    description:
      'Also write every AuditEvent as one JSON line to this file (appended), or to standard output with `-`.',
  },
  AUDIT_QUEUE_MAX_EVENTS: {
    default: '10000',
    required: false,
    group: 'access',
    description:
      'Most AuditEvents each sink holds in memory (queued or being written); more are dropped and counted.',
  },
  AUDIT_QUEUE_MAX_BYTES: {
    default: '67108864',
    required: false,
    group: 'access',
    description:
      'Most bytes of AuditEvents each sink holds in memory (an event of a large search names hundreds of Patients); more are dropped and counted.',
  },
  AUDIT_BATCH_MAX_EVENTS: {
    default: '100',
    required: false,
    group: 'access',
    description: 'Most AuditEvents in one write (one transaction Bundle, or one append to the file).',
  },
  AUDIT_FLUSH_INTERVAL_MS: {
    default: '1000',
    required: false,
    group: 'access',
    description: 'Longest time an AuditEvent waits in the queue before a write that is not full starts.',
  },
  BUNDLE_MAX_ENTRIES: {
    default: '1000',
    required: false,
    group: 'limits',
    description:
      'Most entries a batch or transaction Bundle may have; a larger one gets 413 and nothing is forwarded.',
  },
  BODY_LIMIT_BYTES: {
    default: '16777216',
    required: false,
    group: 'limits',
    description: 'Largest request body accepted, in bytes; larger bodies get 413.',
  },
  MAX_UPSTREAM_URL_LENGTH: {
    default: '4096',
    required: false,
    group: 'limits',
    description:
      'Longest URL sent to the FHIR server. A search whose URL would be longer (e.g. after a checker adds ' +
      'many ids) is sent as `POST [type]/_search` with a form body instead.',
  },
  MAX_HEADER_BYTES: {
    default: '65536',
    required: false,
    group: 'limits',
    description:
      'Largest request line plus headers accepted, in bytes (1024 to 1048576). Larger requests get 431. ' +
      "Large enough for a Keycloak token with a thousand realm roles; Node's own default (16 KiB) is not.",
  },
  PROXY_PORT: {
    default: '8080',
    required: false,
    group: 'ops',
    description: 'TCP port the gateway listens on (0 picks a free port).',
  },
  PROXY_HOST: {
    default: '0.0.0.0',
    required: false,
    group: 'ops',
    description: 'Address the gateway listens on.',
  },
  TRUST_PROXY: {
    default: 'false',
    required: false,
    group: 'ops',
    description:
      "`true` or `1` to trust `X-Forwarded-*` headers (behind a reverse proxy) when building the gateway's " +
      'own URLs; `false` or `0` otherwise.',
  },
  CORS_ALLOW_ORIGIN: {
    default: '*',
    required: false,
    group: 'ops',
    description: 'Value of `Access-Control-Allow-Origin` on responses.',
  },
  LOG_LEVEL: {
    default: 'info',
    required: false,
    group: 'ops',
    description: 'One of `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`.',
  },
  METRICS_PORT: {
    required: false,
    group: 'ops',
    description:
      'When set, Prometheus metrics are served at `/metrics` on this port only (not on `PROXY_PORT`). Unset: no metrics endpoint.',
  },
  SHUTDOWN_GRACE_MS: {
    default: '10000',
    required: false,
    group: 'ops',
    description: 'On SIGTERM/SIGINT, milliseconds to let requests in flight finish before closing.',
  },
} as const satisfies Record<string, VariableSpec>;

export type CoreVariableName = keyof typeof CORE_VARIABLE_SPECS;

export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.entries(CORE_VARIABLE_SPECS).map(
  ([name, spec]: [string, VariableSpec]) => ({ name, ...spec }),
);

/** A list of variables and the document that must describe each of them in a table. */
export interface ConfigVariableSource {
  /** Who reads these variables, for the drift test's messages. */
  readonly owner: string;
  /** Repository-relative path of the Markdown file documenting them. */
  readonly doc: string;
  readonly variables: readonly ConfigVariable[];
}

/**
 * Every module that reads environment variables lists them here (a plugin adds one line), so that
 * the docs drift test covers them all.
 */
export const CONFIG_VARIABLE_SOURCES: readonly ConfigVariableSource[] = [
  { owner: 'core', doc: 'docs/configuration.md', variables: CONFIG_VARIABLES },
  { owner: 'opensrp', doc: 'docs/opensrp.md', variables: OPENSRP_VARIABLES },
];

/** The default of a core variable, as written in the table. */
export function defaultOf(name: CoreVariableName): string | undefined {
  const spec: VariableSpec = CORE_VARIABLE_SPECS[name];
  return spec.default;
}
