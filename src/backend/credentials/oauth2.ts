import { createPrivateKey } from 'node:crypto';
import { importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import type { OAuth2Settings } from './settings.js';
import type { CredentialSource } from './source.js';
import { TokenCache } from './token-cache.js';

/** Seconds allowed for one discovery or token request. */
const TIMEOUT_SECONDS = 10;

/**
 * `BACKEND_TYPE=OAUTH2`: the client credentials grant (RFC 6749 §4.4) through openid-client, with
 * client_secret_basic or private_key_jwt (RFC 7523). Discovery, when configured, is retried on the
 * next token fetch until it succeeds, so an issuer that is down at start does not stop the gateway.
 */
export function oauth2Source(settings: OAuth2Settings): CredentialSource {
  let configuration: Promise<oidc.Configuration> | undefined;
  const configure = () => {
    configuration ??= configurationOf(settings).catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };
  const parameters: Record<string, string> = {};
  if (settings.scope) parameters.scope = settings.scope;
  if (settings.audience) parameters.audience = settings.audience;
  const cache = new TokenCache(async () => {
    const tokens = await oidc.clientCredentialsGrant(await configure(), parameters);
    const expiresIn = tokens.expiresIn();
    return {
      token: tokens.access_token,
      ...(expiresIn === undefined ? {} : { expiresAt: Date.now() + expiresIn * 1000 }),
    };
  });
  return {
    authorization: async () => `Bearer ${await cache.get()}`,
    invalidate: () => cache.invalidate(),
    secrets: [settings.clientSecret, settings.privateKey].filter((s): s is string => s !== undefined),
  };
}

async function configurationOf(settings: OAuth2Settings): Promise<oidc.Configuration> {
  const auth = settings.privateKey
    ? oidc.PrivateKeyJwt(await signingKey(settings.privateKey, settings.keyId))
    : oidc.ClientSecretBasic(settings.clientSecret ?? '');
  const insecure = settings.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {};
  const configuration = settings.issuer
    ? await oidc.discovery(new URL(settings.issuer), settings.clientId, undefined, auth, {
        ...insecure,
        timeout: TIMEOUT_SECONDS,
      })
    : new oidc.Configuration(
        // Without discovery the token URL stands for the issuer: it is then the assertion's `aud`,
        // the value RFC 7523 §3 recommends.
        { issuer: settings.tokenUrl ?? '', token_endpoint: settings.tokenUrl ?? '' },
        settings.clientId,
        undefined,
        auth,
      );
  if (settings.allowHttp && !settings.issuer) oidc.allowInsecureRequests(configuration);
  configuration.timeout = TIMEOUT_SECONDS;
  return configuration;
}

/** The PEM key as a signing key, with BACKEND_CLIENT_KEY_ID as its `kid` when set. */
async function signingKey(pem: string, keyId: string | undefined): Promise<oidc.PrivateKey> {
  // Node reads PKCS#1, SEC1 and PKCS#8 alike; jose wants PKCS#8.
  const pkcs8 = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }).toString();
  const key = await importPKCS8(pkcs8, algorithmOf(pem));
  return keyId === undefined ? { key } : { key, kid: keyId };
}

/** The JWS algorithm for a PEM private key. @throws Error for a key it cannot sign with */
export function algorithmOf(pem: string): string {
  const key = createPrivateKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
      if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
      if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
      throw new Error(`unsupported EC curve ${String(curve)}`);
    }
    case 'ed25519':
      return 'Ed25519';
    default:
      throw new Error(`unsupported key type ${String(key.asymmetricKeyType)}`);
  }
}
