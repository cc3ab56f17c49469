/**
 * Where verification keys come from. With a `jwks_uri` in discovery: jose's remote JWK set, which
 * selects by `kid`, caches, and refetches on an unknown `kid` at most once per cooldown (so key
 * rotation needs no restart and forged kids cannot flood the issuer). Without one: Keycloak's realm
 * `public_key`, the only source the Java gateway knew; it carries no kid, so every token is
 * checked against that one key.
 */

import { createPublicKey } from 'node:crypto';
import { type CryptoKey, createRemoteJWKSet, errors, importSPKI, type JWTVerifyGetKey } from 'jose';
import { fetchRealmPublicKeyPem } from './issuer-metadata.js';

export interface KeySource {
  readonly kind: 'jwks' | 'realm-public-key';
  readonly getKey: JWTVerifyGetKey;
}

export interface KeySourceOptions {
  /** Minimum time between two JWKS refetches caused by unknown kids. */
  readonly jwksCooldownMs: number;
  readonly fetchTimeoutMs?: number;
}

/** Loads the key source eagerly, so that a failure shows at start rather than on the first request. */
export async function loadKeySource(
  issuer: string,
  discovery: Readonly<Record<string, unknown>>,
  options: KeySourceOptions,
): Promise<KeySource> {
  const jwksUri = discovery.jwks_uri;
  if (typeof jwksUri === 'string' && jwksUri !== '') {
    const url = new URL(jwksUri);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`jwks_uri must be an http(s) URL, got ${url.protocol}`);
    }
    const jwks = createRemoteJWKSet(url, {
      cooldownDuration: options.jwksCooldownMs,
      timeoutDuration: options.fetchTimeoutMs ?? 5000,
    });
    await jwks.reload();
    return { kind: 'jwks', getKey: jwks };
  }
  return { kind: 'realm-public-key', getKey: realmKeyResolver(await fetchRealmPublicKeyPem(issuer)) };
}

function realmKeyResolver(pem: string): JWTVerifyGetKey {
  createPublicKey(pem); // throws now if the realm serves something that is not a public key
  const importedByAlg = new Map<string, Promise<CryptoKey>>();
  return async (header) => {
    const alg = header.alg ?? '';
    let imported = importedByAlg.get(alg);
    if (imported === undefined) {
      imported = importSPKI(pem, alg);
      importedByAlg.set(alg, imported);
    }
    try {
      return await imported;
    } catch (cause) {
      // e.g. an ES256 token against Keycloak's RSA realm key
      throw new errors.JWKSNoMatchingKey('the realm key cannot verify this algorithm', { cause });
    }
  };
}
