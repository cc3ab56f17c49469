/**
 * Reads the environment once, at start, into one validated GatewayConfig. Nothing else in the
 * gateway reads `process.env`. A bad value stops the start with a one-line error naming the variable.
 */
import { readFileSync } from 'node:fs';
import {
  type BackendCredentialSettings,
  type BackendType,
  isLoopbackUrl,
} from '../backend/credentials/settings.js';
import { type AuditSettings, auditSettings, auditWarnings } from './audit-settings.js';
import { backendSettings } from './backend-settings.js';
import { ConfigError } from './config-error.js';
import { type AuditAction, environmentSchema, type LOG_LEVELS } from './schema.js';
import { CONFIG_VARIABLES } from './variables.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface GatewayConfig {
  /** PROXY_TO without trailing slashes. */
  readonly proxyTo: string;
  readonly proxyPort: number;
  readonly proxyHost: string;
  readonly backendType: BackendType;
  /** What BACKEND_TYPE needs to authenticate to the FHIR server (secrets included: never log it). */
  readonly backendCredentials: BackendCredentialSettings;
  /** Compared exactly with a token's `iss`. */
  readonly tokenIssuer: string;
  readonly wellKnownEndpoint: string;
  readonly accessCheckers: string[];
  readonly allowedQueriesFile?: string;
  /** Signs paging links; unset: a random key per process. */
  readonly pagingLinkKey?: string;
  readonly runMode: 'PROD' | 'DEV';
  /** Empty: audit off. */
  readonly auditEventActions: ReadonlySet<AuditAction>;
  /** Present only when audit is on (auditEventActions not empty). */
  readonly audit?: AuditSettings;
  /** Unset: `aud` is not checked. */
  readonly tokenAudience?: string[];
  readonly tokenAlgorithms: string[];
  readonly tokenClockSkewSeconds: number;
  readonly tokenJwksCooldownSeconds: number;
  /** `typ` values (header and claim) a bearer token may carry when it carries one. */
  readonly tokenAcceptedTypes: string[];
  readonly backendConnectTimeoutMs: number;
  /** Time to the response headers, and between two body chunks. */
  readonly backendTimeoutMs: number;
  readonly bodyLimitBytes: number;
  /** Batches and transactions with more entries get 413. */
  readonly bundleMaxEntries: number;
  /** Searches with a longer upstream URL are sent as `POST [type]/_search`. */
  readonly maxUpstreamUrlLength: number;
  /** Request line plus headers; Node's http server answers larger requests through our 431. */
  readonly maxHeaderBytes: number;
  readonly trustProxy: boolean;
  readonly corsAllowOrigin: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** When set, `/metrics` is served on this port only. */
  readonly metricsPort?: number;
  readonly shutdownGraceMs: number;
}

export type { AuditAction, AuditSettings };

/** Blank counts as unset: compose files often pass `VAR=` for variables they do not use. */
function presentValue(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  return value === '' ? undefined : value;
}

/** Validates the environment; throws ConfigError for the first variable that is wrong. */
export function loadConfig(env: Environment): GatewayConfig {
  const values: Record<string, string | undefined> = {};
  for (const variable of CONFIG_VARIABLES) {
    const fromFile = variable.secret && !variable.platform ? secretFile(env, variable.name) : undefined;
    values[variable.name] = fromFile ?? presentValue(env[variable.name]) ?? variable.default;
  }
  const result = environmentSchema.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'is invalid');
  }
  const v = result.data;
  if (v.METRICS_PORT !== undefined && v.METRICS_PORT !== 0 && v.METRICS_PORT === v.PROXY_PORT) {
    throw new ConfigError('METRICS_PORT', `must differ from PROXY_PORT (both are ${v.PROXY_PORT})`);
  }
  const backendCredentials = backendSettings(v);
  return {
    proxyTo: v.PROXY_TO,
    proxyPort: v.PROXY_PORT,
    proxyHost: v.PROXY_HOST,
    backendType: v.BACKEND_TYPE,
    backendCredentials,
    tokenIssuer: v.TOKEN_ISSUER,
    wellKnownEndpoint: v.WELL_KNOWN_ENDPOINT,
    accessCheckers: v.ACCESS_CHECKER,
    allowedQueriesFile: v.ALLOWED_QUERIES_FILE,
    pagingLinkKey: v.PAGING_LINK_KEY,
    runMode: v.RUN_MODE,
    auditEventActions: v.AUDIT_EVENT_ACTIONS_CONFIG,
    ...auditSettings(v),
    tokenAudience: v.TOKEN_AUDIENCE,
    tokenAlgorithms: v.TOKEN_ALGORITHMS,
    tokenClockSkewSeconds: v.TOKEN_CLOCK_SKEW_SECONDS,
    tokenJwksCooldownSeconds: v.TOKEN_JWKS_COOLDOWN_SECONDS,
    tokenAcceptedTypes: v.TOKEN_ACCEPTED_TYPES,
    backendConnectTimeoutMs: v.BACKEND_CONNECT_TIMEOUT_MS,
    backendTimeoutMs: v.BACKEND_TIMEOUT_MS,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    bundleMaxEntries: v.BUNDLE_MAX_ENTRIES,
    maxUpstreamUrlLength: v.MAX_UPSTREAM_URL_LENGTH,
    maxHeaderBytes: v.MAX_HEADER_BYTES,
    trustProxy: v.TRUST_PROXY,
    corsAllowOrigin: v.CORS_ALLOW_ORIGIN,
    logLevel: v.LOG_LEVEL,
    metricsPort: v.METRICS_PORT,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  };
}

/**
 * A secret given as `<NAME>_FILE` (a Docker or Kubernetes secret mount): the file's content,
 * surrounding whitespace trimmed. Giving both forms is refused: which one wins would be a guess.
 */
function secretFile(env: Environment, name: string): string | undefined {
  const path = presentValue(env[`${name}_FILE`]);
  if (path === undefined) return undefined;
  if (presentValue(env[name]) !== undefined) {
    throw new ConfigError(name, `is set both directly and as ${name}_FILE; set one`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${name}_FILE`, `cannot read ${JSON.stringify(path)} (${code})`);
  }
  const value = presentValue(text);
  if (value === undefined) throw new ConfigError(`${name}_FILE`, `${JSON.stringify(path)} is empty`);
  return value;
}

export function isDevMode(config: Pick<GatewayConfig, 'runMode'>): boolean {
  return config.runMode === 'DEV';
}

/** Settings that are valid but risky or probably not what was meant; the caller logs them at start. */
export function configWarnings(env: Environment): string[] {
  const warnings: string[] = [];
  const runMode = presentValue(env['RUN_MODE']);
  if (runMode === 'DEV') {
    warnings.push(
      'RUN_MODE: DEV skips the token issuer check and allows the permissive checker; never use it in production',
    );
  } else if (runMode !== undefined && runMode !== 'PROD' && runMode.toUpperCase() === 'DEV') {
    warnings.push(
      `RUN_MODE: ${JSON.stringify(runMode)} means PROD; only DEV (upper case) enables development mode`,
    );
  }
  warnings.push(...backendWarnings(env), ...auditWarnings(env));
  return warnings;
}

/** Credentials that would cross the network readable, and library logging that would print tokens. */
function backendWarnings(env: Environment): string[] {
  const type = presentValue(env['BACKEND_TYPE']);
  const warnings: string[] = [];
  let proxyTo: URL | undefined;
  try {
    proxyTo = new URL(presentValue(env['PROXY_TO']) ?? '');
  } catch {
    proxyTo = undefined;
  }
  if (
    (type === 'BASIC' || type === 'BEARER' || type === 'OAUTH2') &&
    proxyTo?.protocol === 'http:' &&
    !isLoopbackUrl(proxyTo)
  ) {
    warnings.push(
      `PROXY_TO: BACKEND_TYPE=${type} sends its credential to the FHIR server over plain http; use https unless the network is private`,
    );
  }
  if (type === 'GCP' && presentValue(env['GOOGLE_SDK_NODE_LOGGING']) !== undefined) {
    warnings.push(
      'GOOGLE_SDK_NODE_LOGGING: google-auth-library debug logs include metadata-server answers, access tokens among them; unset it in production',
    );
  }
  return warnings;
}

export interface ExitIo {
  readonly writeError: (line: string) => void;
  readonly exit: (status: number) => never;
}

const processIo: ExitIo = {
  writeError: (line) => process.stderr.write(line),
  exit: (status) => process.exit(status),
};

/** For the CLI: loads the config, or prints the problem and exits with status 2 (usage error). */
export function readConfigOrExit(env: Environment, io: ExitIo = processIo): GatewayConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.writeError(`fhir-gateway: configuration error: ${error.message}\n`);
    return io.exit(2);
  }
}
