/**
 * A real OpenID provider on loopback (node-oidc-provider) issuing client-credentials tokens to two
 * clients: one authenticating with a secret (client_secret_basic), one with a signed assertion
 * (private_key_jwt). It counts the tokens it grants, and can be taken down and brought back on
 * the same port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const SECRET_CLIENT = 'gateway-secret-client';
export const KEY_CLIENT = 'gateway-key-client';
export const BACKEND_SCOPE = 'fhir.read fhir.write';

export interface OpenIdProvider {
  /** e.g. `http://127.0.0.1:41234`; discovery at `/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly clientSecret: string;
  /** The PEM private key of KEY_CLIENT (its public key is registered). */
  readonly privateKeyPem: string;
  /** Tokens granted so far, in order, with the client and the parameters asked for. */
  readonly grants: { clientId: string; token: string; scope?: string; audience?: string }[];
  /** Lifetime of the next tokens, in seconds. */
  ttlSeconds: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startOpenIdProvider(): Promise<OpenIdProvider> {
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const privateKeyPem = await exportPKCS8(privateKey);
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };

  let server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const state = {
    ttlSeconds: 3600,
    grants: [] as OpenIdProvider['grants'],
  };
  const common = {
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: BACKEND_SCOPE,
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        ...common,
        client_id: SECRET_CLIENT,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        ...common,
        client_id: KEY_CLIENT,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk] },
      },
    ],
    scopes: BACKEND_SCOPE.split(' '),
    extraParams: ['audience'],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { ClientCredentials: () => state.ttlSeconds },
  });
  provider.on('grant.success', (ctx) => {
    const body = ctx.oidc.body as Record<string, string> | undefined;
    const token = (ctx.body as { access_token?: string } | undefined)?.access_token ?? '';
    state.grants.push({
      clientId: ctx.oidc.client?.clientId ?? '',
      token,
      ...(body?.scope ? { scope: body.scope } : {}),
      ...(body?.audience ? { audience: body.audience } : {}),
    });
  });
  const callback = provider.callback();
  server.on('request', callback);
  let listening = true;

  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    clientSecret,
    privateKeyPem,
    grants: state.grants,
    get ttlSeconds() {
      return state.ttlSeconds;
    },
    set ttlSeconds(value: number) {
      state.ttlSeconds = value;
    },
    async down() {
      if (!listening) return;
      listening = false;
      await stop();
    },
    async up() {
      if (listening) return;
      server = createServer(callback);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      listening = true;
    },
    async close() {
      if (listening) await stop();
      listening = false;
    },
  };
}
