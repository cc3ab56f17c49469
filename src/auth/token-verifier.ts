/**
 * Verifies OIDC bearer JWTs against TOKEN_ISSUER. Unlike the Java gateway, it reads keys from the
 * discovery `jwks_uri` (with rotation) and falls back to Keycloak's realm `public_key`; requires
 * `exp`; allows a clock skew; checks `aud` when configured; never accepts `none` or HS* algorithms;
 * accepts access tokens only (no ID or refresh tokens, by their `typ`); and does not crash when the issuer is down at start: it keeps retrying in the background and
 * answers 503 meanwhile.
 */

import { type JWTPayload, type ProtectedHeaderParameters, jwtVerify } from 'jose';
import type { Logger, VerifiedToken } from '../access/contract.js';
import { describe, fromVerificationFailure, invalidToken, issuerUnavailable } from './auth-errors.js';
import { extractBearerToken } from './bearer-header.js';
import { ClaimsCache, tokenCacheKey } from './claims-cache.js';
import { fetchDiscovery, issuerMismatch } from './issuer-metadata.js';
import { type KeySource, loadKeySource } from './key-source.js';
import { DEFAULT_ACCEPTED_TOKEN_TYPES, normalizeTokenType, refusedTokenType } from './token-type.js';

export interface TokenVerifierOptions {
  /** TOKEN_ISSUER; compared to `iss` by exact string equality (trailing slashes matter). */
  issuer: string;
  /** Relative to the issuer, e.g. `.well-known/openid-configuration`. */
  wellKnownEndpoint: string;
  /** When set and not empty, `aud` must contain one of these. */
  audience?: string[];
  /** Allow-list of JWS algorithms; `none` and HS* are removed whatever the list says. */
  algorithms: string[];
  clockSkewSeconds: number;
  /**
   * TOKEN_ACCEPTED_TYPES: values the JOSE header `typ` and the payload claim `typ` may take when
   * present (case-insensitive, `application/` optional). Default: `Bearer`, `JWT`, `at+jwt`.
   */
  acceptedTypes?: readonly string[];
  /** RUN_MODE=DEV: any issuer is accepted (with a warning), but the signature must still verify. */
  devMode: boolean;
  logger: Logger;
  /** Maximum cached verified tokens (default 10000). */
  cacheMax?: number;
  /** Minimum time between JWKS refetches caused by unknown kids (default 30 s). */
  jwksCooldownMs?: number;
  /** Background retry backoff when the issuer cannot be loaded (defaults 1 s doubling to 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Clock in epoch milliseconds, for tests. */
  now?: () => number;
}

export interface TokenVerifier {
  /** Starts loading discovery and keys in the background, retrying until it succeeds. */
  start(): void;
  /** True once discovery and keys are loaded. */
  ready(): boolean;
  /** Resolves with the verified token or rejects with a GatewayError (401, or 503 `issuer_unavailable`). */
  verify(authorization: string | undefined): Promise<VerifiedToken>;
  /** The issuer's OIDC discovery document, once loaded. */
  discovery(): Readonly<Record<string, unknown>> | undefined;
  /** The discovery document, loading it now if needed; rejects with 503 `issuer_unavailable`. */
  loadDiscovery(): Promise<Readonly<Record<string, unknown>>>;
  close(): void;
}

interface LoadedIssuer {
  readonly discovery: Readonly<Record<string, unknown>>;
  readonly keys: KeySource;
}

const MAX_WARNED_ISSUERS = 100;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, logger, clockSkewSeconds, devMode } = options;
  const algorithms = options.algorithms.filter((alg) => alg.toLowerCase() !== 'none' && !/^HS/i.test(alg));
  if (algorithms.length === 0) throw new Error('token verification needs at least one asymmetric algorithm');
  const audience =
    options.audience !== undefined && options.audience.length > 0 ? options.audience : undefined;
  const now = options.now ?? Date.now;
  const acceptedTypes = new Set(
    (options.acceptedTypes ?? DEFAULT_ACCEPTED_TOKEN_TYPES).map(normalizeTokenType),
  );
  const retryInitialMs = options.retryInitialMs ?? 1000;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const cache = new ClaimsCache(options.cacheMax);
  const warnedIssuers = new Set<string>();

  let loaded: LoadedIssuer | undefined;
  let pendingLoad: Promise<LoadedIssuer> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let started = false;
  let closed = false;

  // Concurrent callers share one in-flight load.
  const load = (): Promise<LoadedIssuer> => {
    pendingLoad ??= (async () => {
      const discovery = Object.freeze(await fetchDiscovery(issuer, options.wellKnownEndpoint));
      const keys = await loadKeySource(issuer, discovery, {
        jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
      });
      if (loaded === undefined) {
        logger.info({ issuer, keySource: keys.kind }, 'token issuer loaded');
        const mismatch = issuerMismatch(issuer, discovery);
        if (mismatch !== undefined) logger.warn({ issuer }, `TOKEN_ISSUER: ${mismatch}`);
      }
      loaded = { discovery, keys };
      return loaded;
    })().finally(() => {
      pendingLoad = undefined;
    });
    return pendingLoad;
  };

  const attemptInBackground = (waitMs: number): void => {
    if (closed || loaded !== undefined) return;
    load().catch((error: unknown) => {
      if (closed || loaded !== undefined) return;
      logger.warn(
        { issuer, err: describe(error), retryInMs: waitMs },
        'token issuer not reachable; retrying',
      );
      retryTimer = setTimeout(() => attemptInBackground(Math.min(waitMs * 2, retryMaxMs)), waitMs);
      retryTimer.unref();
    });
  };

  const ensureLoaded = async (): Promise<LoadedIssuer> => {
    if (loaded !== undefined) return loaded;
    try {
      return await load();
    } catch (error) {
      throw issuerUnavailable(describe(error));
    }
  };

  const warnForeignIssuer = (tokenIssuer: string): void => {
    if (tokenIssuer === issuer || warnedIssuers.has(tokenIssuer) || warnedIssuers.size >= MAX_WARNED_ISSUERS)
      return;
    warnedIssuers.add(tokenIssuer);
    logger.warn(
      { tokenIssuer: tokenIssuer.slice(0, 200), configuredIssuer: issuer },
      'RUN_MODE=DEV: accepting a token whose issuer differs from TOKEN_ISSUER',
    );
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      attemptInBackground(Math.min(retryInitialMs, retryMaxMs));
    },
    ready: () => loaded !== undefined,
    discovery: () => loaded?.discovery,
    loadDiscovery: async () => (await ensureLoaded()).discovery,
    async verify(authorization) {
      const token = extractBearerToken(authorization);
      const cacheKey = tokenCacheKey(token);
      const cached = cache.get(cacheKey);
      if (cached !== undefined) {
        if (cached.expiresAt > now() / 1000 - clockSkewSeconds) return cached;
        cache.delete(cacheKey);
        throw invalidToken('Token has expired', 'cached token passed its exp');
      }
      const { keys } = await ensureLoaded();
      let payload: JWTPayload;
      let header: ProtectedHeaderParameters;
      try {
        ({ payload, protectedHeader: header } = await jwtVerify(token, keys.getKey, {
          algorithms,
          issuer: devMode ? undefined : issuer,
          audience,
          clockTolerance: clockSkewSeconds,
          requiredClaims: ['exp', 'iss'],
          currentDate: new Date(now()),
        }));
      } catch (error) {
        throw fromVerificationFailure(error);
      }
      const refusedType = refusedTokenType(header.typ, payload['typ'], acceptedTypes);
      if (refusedType !== undefined) {
        throw invalidToken(
          'Token is not an access token',
          `typ ${JSON.stringify(refusedType).slice(0, 100)}`,
        );
      }
      const tokenIssuer = payload.iss;
      if (typeof tokenIssuer !== 'string') throw invalidToken('Token iss claim is invalid');
      if (devMode) warnForeignIssuer(tokenIssuer);
      const verified: VerifiedToken = {
        issuer: tokenIssuer,
        subject: payload.sub,
        expiresAt: payload.exp as number,
        claims: deepFreeze(payload),
      };
      cache.set(cacheKey, verified, now());
      return verified;
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      cache.clear();
    },
  };
}

/** Cached claims are shared by every request bearing the token, so no plugin may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
