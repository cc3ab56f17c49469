/**
 * Token building for the local issuer: Keycloak-shaped claims, RS256 signing, and the hostile
 * tokens the verifier must refuse. Kept apart from the HTTP side of the issuer.
 */

import { createHmac, randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicKeyPem: string;
}

export interface MintOptions {
  expiresInSeconds?: number;
  /** Epoch seconds. */
  notBefore?: number;
  kid?: string;
  issuer?: string;
  audience?: string | string[];
  omitExp?: boolean;
  /** The JOSE header `typ`; `null` leaves it out. Default `JWT`, as Keycloak. */
  headerType?: string | null;
}

export type HostileKind =
  | 'alg-none'
  | 'hs256-with-public-key'
  | 'bad-signature'
  | 'unknown-kid'
  | 'tampered-payload'
  | 'malformed';

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
export const DEFAULT_CLIENT_ID = 'fhir-gateway-client';
export const DEFAULT_SCOPE = 'openid profile email';

export async function createSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk, publicKeyPem: await exportSPKI(publicKey) };
}

/** The base64 DER body of a PEM, as Keycloak serves it in the realm's `public_key`. */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
}

/** The claims a Keycloak access token carries, overridden by `claims`. */
export function keycloakClaims(
  issuerUrl: string,
  claims: Record<string, unknown>,
  options: MintOptions,
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    iss: options.issuer ?? issuerUrl,
    sub: randomUUID(),
    iat: nowSeconds,
    exp: nowSeconds + (options.expiresInSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS),
    jti: randomUUID(),
    azp: DEFAULT_CLIENT_ID,
    typ: 'Bearer',
    scope: DEFAULT_SCOPE,
    ...claims,
  };
  if (options.notBefore !== undefined) payload.nbf = options.notBefore;
  if (options.audience !== undefined) payload.aud = options.audience;
  if (options.omitExp) delete payload.exp;
  return payload;
}

export async function signRs256(
  payload: Record<string, unknown>,
  key: CryptoKey,
  kid: string,
  headerType: string | null = 'JWT',
): Promise<string> {
  const header = headerType === null ? { alg: 'RS256', kid } : { alg: 'RS256', typ: headerType, kid };
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

const encodeSegment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A token of the given hostile kind. `valid` mints a correctly signed token with the current key;
 * `current` is that key (its kid and public PEM are what the attacks abuse).
 */
export async function forgeHostileToken(
  kind: HostileKind,
  current: SigningKey,
  payload: Record<string, unknown>,
): Promise<string> {
  switch (kind) {
    case 'alg-none':
      return `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(payload)}.`;
    case 'hs256-with-public-key': {
      // The classic key-confusion attack: HMAC keyed with the issuer's public key text.
      const signingInput = `${encodeSegment({ alg: 'HS256', typ: 'JWT', kid: current.kid })}.${encodeSegment(payload)}`;
      const signature = createHmac('sha256', current.publicKeyPem).update(signingInput).digest('base64url');
      return `${signingInput}.${signature}`;
    }
    case 'bad-signature': {
      const stranger = await createSigningKey();
      return signRs256(payload, stranger.privateKey, current.kid);
    }
    case 'unknown-kid': {
      const stranger = await createSigningKey(`unknown-${randomUUID()}`);
      return signRs256(payload, stranger.privateKey, stranger.kid);
    }
    case 'tampered-payload': {
      const genuine = await signRs256(payload, current.privateKey, current.kid);
      const [header, , signature] = genuine.split('.');
      const escalated = { ...payload, realm_access: { roles: ['admin'] }, sub: 'someone-else' };
      return `${header}.${encodeSegment(escalated)}.${signature}`;
    }
    case 'malformed':
      return 'abc.def.ghi';
  }
}
