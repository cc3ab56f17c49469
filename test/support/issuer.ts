/**
 * A real, local, Keycloak-like token issuer over HTTP, for tests and the demo. It serves a realm
 * document with `public_key`, OIDC discovery, a JWKS and a password-grant token endpoint, and can
 * mint valid and hostile tokens, rotate its key, and pretend to be down.
 *
 * @example
 * const issuer = await startIssuer({ users: { alice: { realm_access: { roles: ['nurse'] } } } });
 * const token = await issuer.mint({ sub: 'alice' });
 * await issuer.close();
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationCodes } from './issuer-authorize.js';
import {
  createSigningKey,
  DEFAULT_CLIENT_ID,
  DEFAULT_SCOPE,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  forgeHostileToken,
  type HostileKind,
  keycloakClaims,
  type MintOptions,
  pemBody,
  type SigningKey,
  signRs256,
} from './issuer-tokens.js';

export type { HostileKind, MintOptions } from './issuer-tokens.js';

/** `keycloak-public-key-only` leaves `jwks_uri` out of discovery; `down` answers 503 to everything. */
export type IssuerMode = 'jwks' | 'keycloak-public-key-only' | 'down';

export interface IssuerOptions {
  port?: number;
  realm?: string;
  /** username -> extra claims put in that user's tokens. */
  users?: Record<string, Record<string, unknown>>;
  /**
   * Serves the authorization-code flow (PKCE S256) and approves this user at the authorize
   * endpoint without a login page; a `patient_id` claim of the user is returned as the SMART
   * `patient` launch context in the token response.
   */
  authorizeAs?: string;
}

export interface LocalIssuer {
  readonly issuerUrl: string;
  readonly port: number;
  /** PEM of the key that signs now. */
  readonly publicKeyPem: string;
  readonly currentKid: string;
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  mintHostile(kind: HostileKind): Promise<string>;
  /** Signs with a new key from now on; the JWKS serves only the new key unless `keepOld`. */
  rotateKey(options?: { keepOld?: boolean }): Promise<string>;
  setMode(mode: IssuerMode): void;
  /** Requests served (any status) whose path ends with `pathSuffix` (all when omitted). */
  requestCount(pathSuffix?: string): number;
  close(): Promise<void>;
}

export async function startIssuer(options: IssuerOptions = {}): Promise<LocalIssuer> {
  const realm = options.realm ?? 'test';
  const users = options.users ?? {};
  const userSubjects = new Map(Object.keys(users).map((name) => [name, randomUUID()]));
  let keys: SigningKey[] = [await createSigningKey()];
  let mode: IssuerMode = 'jwks';
  const servedPaths: string[] = [];
  const codes = new AuthorizationCodes();
  let issuerUrl = '';

  const currentKey = (): SigningKey => keys[keys.length - 1]!;
  const realmPath = `/realms/${realm}`;

  const sign = (claims: Record<string, unknown>, mintOptions: MintOptions = {}): Promise<string> => {
    const key = currentKey();
    return signRs256(
      keycloakClaims(issuerUrl, claims, mintOptions),
      key.privateKey,
      mintOptions.kid ?? key.kid,
      mintOptions.headerType,
    );
  };

  const discovery = (): Record<string, unknown> => {
    const oidc = `${issuerUrl}/protocol/openid-connect`;
    const document: Record<string, unknown> = {
      issuer: issuerUrl,
      authorization_endpoint: `${oidc}/auth`,
      token_endpoint: `${oidc}/token`,
      introspection_endpoint: `${oidc}/token/introspect`,
      userinfo_endpoint: `${oidc}/userinfo`,
      end_session_endpoint: `${oidc}/logout`,
      revocation_endpoint: `${oidc}/revoke`,
      jwks_uri: `${oidc}/certs`,
      frontchannel_logout_supported: true,
      // Only the grant the token endpoint serves (issue 9: client_credentials was advertised and refused).
      grant_types_supported: options.authorizeAs ? ['password', 'authorization_code'] : ['password'],
      response_types_supported: ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['plain', 'S256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    };
    if (mode === 'keycloak-public-key-only') delete document.jwks_uri;
    return document;
  };

  const realmDocument = () => ({
    realm,
    public_key: pemBody(currentKey().publicKeyPem),
    'token-service': `${issuerUrl}/protocol/openid-connect`,
    'account-service': `${issuerUrl}/account`,
    'tokens-not-before': 0,
  });

  const issueToken = async (form: URLSearchParams): Promise<[number, unknown]> => {
    if (form.get('grant_type') === 'authorization_code' && options.authorizeAs) {
      const redeemed = codes.redeem(form);
      if ('error' in redeemed) return [400, { error: redeemed.error }];
      form.set('username', redeemed.username);
      form.set('scope', redeemed.scope);
    } else if (form.get('grant_type') !== 'password') {
      return [400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' }];
    }
    const username = form.get('username') ?? '';
    const extraClaims = Object.hasOwn(users, username) ? users[username] : undefined;
    if (extraClaims === undefined) {
      return [401, { error: 'invalid_grant', error_description: 'Invalid user credentials' }];
    }
    const scope = form.get('scope') ?? DEFAULT_SCOPE;
    const claims = {
      sub: userSubjects.get(username),
      preferred_username: username,
      azp: form.get('client_id') ?? DEFAULT_CLIENT_ID,
      scope,
      ...extraClaims,
    };
    const accessToken = await sign(claims);
    const patient = form.get('grant_type') === 'authorization_code' ? extraClaims.patient_id : undefined;
    return [
      200,
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: DEFAULT_TOKEN_LIFETIME_SECONDS,
        scope,
        ...(typeof patient === 'string' ? { patient } : {}),
      },
    ];
  };

  const route = async (req: IncomingMessage, path: string): Promise<[number, unknown]> => {
    if (mode === 'down') return [503, { error: 'temporarily_unavailable' }];
    if (req.method === 'GET' && path === realmPath) return [200, realmDocument()];
    if (req.method === 'GET' && path === `${realmPath}/.well-known/openid-configuration`)
      return [200, discovery()];
    if (req.method === 'GET' && path === `${realmPath}/protocol/openid-connect/certs`) {
      return [200, { keys: keys.map((key) => key.publicJwk) }];
    }
    if (req.method === 'POST' && path === `${realmPath}/protocol/openid-connect/token`) {
      return issueToken(new URLSearchParams(await readBody(req)));
    }
    return [404, { error: 'not_found' }];
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer.invalid');
    const path = url.pathname;
    servedPaths.push(path);
    if (options.authorizeAs && mode !== 'down' && path === `${realmPath}/protocol/openid-connect/auth`) {
      const answer = codes.authorize(url.searchParams, options.authorizeAs);
      if ('error' in answer) return sendJson(res, 400, answer);
      res.writeHead(302, { location: answer.location });
      res.end();
      return;
    }
    route(req, path).then(
      ([status, body]) => sendJson(res, status, body),
      () => sendJson(res, 500, { error: 'server_error' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  issuerUrl = `http://127.0.0.1:${port}${realmPath}`;

  return {
    issuerUrl,
    port,
    get publicKeyPem() {
      return currentKey().publicKeyPem;
    },
    get currentKid() {
      return currentKey().kid;
    },
    mint: (claims = {}, mintOptions = {}) => sign(claims, mintOptions),
    mintHostile: (kind) => forgeHostileToken(kind, currentKey(), keycloakClaims(issuerUrl, {}, {})),
    async rotateKey(rotateOptions = {}) {
      const next = await createSigningKey();
      keys = rotateOptions.keepOld ? [...keys, next] : [next];
      return next.kid;
    },
    setMode(next) {
      mode = next;
    },
    requestCount: (pathSuffix = '') => servedPaths.filter((path) => path.endsWith(pathSuffix)).length,
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
