/**
 * The two documents the gateway reads from the token issuer: OIDC discovery at
 * `<issuer>/<wellKnownEndpoint>`, and, for Keycloak without a usable `jwks_uri`, the realm
 * document at `<issuer>` whose `public_key` is a base64 SubjectPublicKeyInfo.
 */

const FETCH_TIMEOUT_MS = 5000;

/** Joins a base URL and a relative path with exactly one slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export async function fetchJsonObject(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`GET ${url} did not answer a JSON object`);
  }
  return body as Record<string, unknown>;
}

export function fetchDiscovery(issuer: string, wellKnownEndpoint: string): Promise<Record<string, unknown>> {
  return fetchJsonObject(joinUrl(issuer, wellKnownEndpoint));
}

/** The realm's public key as PEM, from Keycloak's `GET <issuer>` realm document. */
export async function fetchRealmPublicKeyPem(issuer: string): Promise<string> {
  const realm = await fetchJsonObject(issuer);
  const key = realm.public_key;
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(key)) {
    throw new Error(`GET ${issuer} has no usable public_key`);
  }
  const lines = key.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----`;
}

/**
 * Why TOKEN_ISSUER differs from the `issuer` the discovery document names (OIDC Discovery §4.3
 * requires them to be identical), or undefined when they match. Tokens carry the discovered value
 * in `iss`, so a mismatch (often a trailing slash) refuses every token.
 */
export function issuerMismatch(
  configured: string,
  discovery: Readonly<Record<string, unknown>>,
): string | undefined {
  const discovered = discovery.issuer;
  if (discovered === configured) return undefined;
  if (typeof discovered !== 'string') return 'the discovery document names no issuer';
  const slash =
    discovered.replace(/\/+$/, '') === configured.replace(/\/+$/, '')
      ? ' (they differ by a trailing slash)'
      : '';
  return (
    `the discovery document names the issuer ${JSON.stringify(discovered)}, not ${JSON.stringify(configured)}` +
    `${slash}; tokens carry that value, so every one is refused ("Token issuer is not trusted") until TOKEN_ISSUER is set to it`
  );
}
