/**
 * The zod schema of the environment: one entry per variable of the defaults table. `satisfies` checks
 * both directions at compile time: no variable without a parser, no parser for an unlisted variable.
 */
import { z } from 'zod';
import { BACKEND_TYPES } from '../backend/credentials/settings.js';
import {
  commaList,
  flag,
  httpUrl,
  lowerCaseChoice,
  MAX_TIMER_MS,
  port,
  requiredText,
  wholeNumber,
} from './parsers.js';
import type { CoreVariableName } from './variables.js';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
const AUDIT_ACTIONS: readonly AuditAction[] = ['C', 'R', 'U', 'D', 'E'];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** JWS algorithms that verify with a public key (RFC 7518 §3.1, RFC 8037); names are case-sensitive. */
const PUBLIC_KEY_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const backendType = z.string().transform((raw, ctx) => {
  const type = BACKEND_TYPES.find((candidate) => candidate === raw);
  if (type !== undefined) return type;
  ctx.addIssue({
    code: 'custom',
    message: `must be one of ${BACKEND_TYPES.join(', ')} (upper case), got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

/** Scopes separated by spaces or commas (OAuth 2.0 writes them with spaces, RFC 6749 §3.3). */
const scopeList = z.string().transform((raw) => raw.split(/[\s,]+/).filter((scope) => scope !== ''));

/** Letters written together (`CRUDE`); the Java gateway fails on anything else, commas included. */
const auditActions = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const actions = new Set<AuditAction>();
    for (const letter of (raw ?? '').toUpperCase()) {
      const action = AUDIT_ACTIONS.find((candidate) => candidate === letter);
      if (action === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `has ${JSON.stringify(letter)}; use only the letters C, R, U, D, E written together (e.g. CRUDE), without commas`,
        });
        return z.NEVER;
      }
      actions.add(action);
    }
    return actions as ReadonlySet<AuditAction>;
  });

const tokenAlgorithms = commaList('algorithm').transform((names, ctx) => {
  for (const name of names) {
    if (name.toLowerCase() === 'none') {
      ctx.addIssue({ code: 'custom', message: 'must not allow "none": unsigned tokens are never accepted' });
      return z.NEVER;
    }
    if (/^HS\d+$/i.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `must not allow ${name}: shared-secret (HMAC) algorithms are refused; the gateway verifies with the issuer's public keys`,
      });
      return z.NEVER;
    }
    if (!PUBLIC_KEY_ALGORITHMS.has(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `has unknown algorithm ${JSON.stringify(name)}; use some of ${[...PUBLIC_KEY_ALGORITHMS].join(', ')}`,
      });
      return z.NEVER;
    }
  }
  return names;
});

const proxyTo = httpUrl().transform((raw, ctx) => {
  if (raw.includes('?') || raw.includes('#')) {
    ctx.addIssue({
      code: 'custom',
      message: `must not have a query or fragment, got ${JSON.stringify(raw)}`,
    });
    return z.NEVER;
  }
  // The WHATWG form (lower-case scheme and host, default port dropped, IPv4 in dotted decimal):
  // what the HTTP client connects to and names in Host, and what answers are searched for to
  // rewrite; as typed, `HTTP://hapi:80/fhir` would match none of the server's links.
  return new URL(raw).href.replace(/\/+$/, '');
});

/** Where AuditEvents go: a FHIR base URL written like PROXY_TO, or `none` for no FHIR sink. */
const auditSinkUrl = z.string().transform((raw, ctx) => {
  if (raw.toLowerCase() === 'none') return 'none' as const;
  const url = proxyTo.safeParse(raw);
  if (url.success) return url.data;
  ctx.addIssue({ code: 'custom', message: url.error.issues[0]?.message ?? 'is invalid' });
  return z.NEVER;
});

export const environmentSchema = z.object({
  PROXY_TO: requiredText().pipe(proxyTo),
  TOKEN_ISSUER: requiredText().pipe(httpUrl()),
  ACCESS_CHECKER: requiredText().pipe(commaList('checker name')),
  BACKEND_TYPE: z.string().pipe(backendType),
  BACKEND_CONNECT_TIMEOUT_MS: wholeNumber(1, MAX_TIMER_MS),
  BACKEND_TIMEOUT_MS: wholeNumber(1, MAX_TIMER_MS),
  BACKEND_SCOPE: scopeList.optional(),
  BACKEND_TOKEN_URL: httpUrl().optional(),
  BACKEND_ISSUER: httpUrl().optional(),
  BACKEND_CLIENT_ID: z.string().optional(),
  BACKEND_CLIENT_SECRET: z.string().optional(),
  BACKEND_CLIENT_PRIVATE_KEY: z.string().optional(),
  BACKEND_CLIENT_KEY_ID: z.string().optional(),
  BACKEND_AUDIENCE: z.string().optional(),
  BACKEND_USERNAME: z
    .string()
    .refine((name) => !name.includes(':'), 'must not contain a colon (RFC 7617 §2)')
    .optional(),
  BACKEND_PASSWORD: z.string().optional(),
  BACKEND_BEARER_TOKEN: z
    .string()
    .refine((token) => /^[\x21-\x7e]+$/.test(token), 'must be printable ASCII without spaces')
    .optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  GCE_METADATA_HOST: z.string().optional(),
  AZURE_TENANT_ID: z.string().optional(),
  AZURE_CLIENT_ID: z.string().optional(),
  AZURE_CLIENT_SECRET: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: z.string().optional(),
  AZURE_AUTHORITY_HOST: httpUrl().optional(),
  AZURE_FEDERATED_TOKEN_FILE: z.string().optional(),
  IDENTITY_ENDPOINT: httpUrl().optional(),
  IDENTITY_HEADER: z.string().optional(),
  WELL_KNOWN_ENDPOINT: z.string(),
  TOKEN_AUDIENCE: commaList('audience').optional(),
  TOKEN_ALGORITHMS: tokenAlgorithms,
  TOKEN_CLOCK_SKEW_SECONDS: wholeNumber(0, 300),
  TOKEN_JWKS_COOLDOWN_SECONDS: wholeNumber(0, 3600),
  TOKEN_ACCEPTED_TYPES: commaList('token type'),
  ALLOWED_QUERIES_FILE: z.string().optional(),
  PAGING_LINK_KEY: z
    .string()
    .refine(
      (key) => key.length >= 32,
      'must be at least 32 characters (a random secret shared by the replicas)',
    )
    .optional(),
  RUN_MODE: z.string().transform((raw) => (raw === 'DEV' ? ('DEV' as const) : ('PROD' as const))),
  AUDIT_EVENT_ACTIONS_CONFIG: auditActions,
  AUDIT_SINK_URL: auditSinkUrl.optional(),
  AUDIT_LOG_FILE: z.string().optional(),
  AUDIT_QUEUE_MAX_EVENTS: wholeNumber(1, 10_000_000),
  AUDIT_QUEUE_MAX_BYTES: wholeNumber(65_536, Number.MAX_SAFE_INTEGER),
  AUDIT_BATCH_MAX_EVENTS: wholeNumber(1, 10_000),
  AUDIT_FLUSH_INTERVAL_MS: wholeNumber(1, MAX_TIMER_MS),
  BUNDLE_MAX_ENTRIES: wholeNumber(1, 1_000_000),
  BODY_LIMIT_BYTES: wholeNumber(1, Number.MAX_SAFE_INTEGER),
  MAX_UPSTREAM_URL_LENGTH: wholeNumber(1, Number.MAX_SAFE_INTEGER),
  MAX_HEADER_BYTES: wholeNumber(1024, 1048576),
  PROXY_PORT: port(),
  PROXY_HOST: z.string(),
  TRUST_PROXY: flag(),
  CORS_ALLOW_ORIGIN: z.string(),
  LOG_LEVEL: lowerCaseChoice(LOG_LEVELS),
  METRICS_PORT: port().optional(),
  SHUTDOWN_GRACE_MS: wholeNumber(0, MAX_TIMER_MS),
} satisfies Record<CoreVariableName, z.ZodType>);
