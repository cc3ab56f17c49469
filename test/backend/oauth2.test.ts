/**
 * BACKEND_TYPE=OAUTH2 against a real local OpenID provider (node-oidc-provider), through
 * openid-client: client credentials with a secret (issuer discovery) and with private_key_jwt
 * (token URL); one token fetch however many requests wait, reuse until near expiry (a controlled
 * clock), the provider down → 502 and /readyz 503, then recovery; no secret or token in any log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { send } from '../support/http.js';
import {
  type BackendStack,
  eventually,
  leakedIn,
  metricValue,
  startBackendStack,
} from './support/backend-stack.js';
import {
  BACKEND_SCOPE,
  KEY_CLIENT,
  type OpenIdProvider,
  SECRET_CLIENT,
  startOpenIdProvider,
} from './support/openid-provider.js';

let provider: OpenIdProvider;
before(async () => {
  provider = await startOpenIdProvider();
});
after(() => provider.close());

function authorizationsSeen(s: BackendStack): string[] {
  return s.fhir.requests.map((r) => r.headers.authorization ?? '');
}

function secrets(): string[] {
  return [
    provider.clientSecret,
    provider.privateKeyPem.split('\n')[1] ?? '',
    ...provider.grants.map((g) => g.token),
  ];
}

describe('OAUTH2 with a client secret, token endpoint found by discovery', () => {
  let s: BackendStack;
  before(async () => {
    provider.ttlSeconds = 3600;
    s = await startBackendStack({
      env: {
        BACKEND_TYPE: 'OAUTH2',
        BACKEND_ISSUER: provider.issuer,
        BACKEND_CLIENT_ID: SECRET_CLIENT,
        BACKEND_CLIENT_SECRET: provider.clientSecret,
        BACKEND_SCOPE: BACKEND_SCOPE,
      },
    });
  });
  after(() => s.close());

  test('requests arriving together wait for one token request; the backend gets that token', async () => {
    const before = provider.grants.length;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => s.call('/fhir/Patient', { headers: {} })),
    );
    for (const answer of answers) assert.notEqual(answer.status, 502, answer.text);
    assert.equal(provider.grants.length, before + 1);
    const grant = provider.grants.at(-1)!;
    assert.equal(grant.clientId, SECRET_CLIENT);
    assert.equal(grant.scope, BACKEND_SCOPE);
    assert.ok(authorizationsSeen(s).length > 0);
    for (const seen of authorizationsSeen(s)) assert.equal(seen, `Bearer ${grant.token}`);
  });

  test('the token is reused, then replaced shortly before it expires', async () => {
    const before = provider.grants.length;
    s.fhir.clearRequests();
    for (let i = 0; i < 3; i++) await s.call('/fhir/Patient');
    assert.equal(provider.grants.length, before, 'no new token while the cached one is good');
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      mock.timers.tick(3600_000 - 30_000);
      s.fhir.clearRequests();
      const res = await s.call('/fhir/Patient');
      assert.equal(res.status, 200, res.text);
      assert.equal(provider.grants.length, before + 1, 'one new token 30 s before expiry');
      assert.deepEqual(authorizationsSeen(s), [`Bearer ${provider.grants.at(-1)!.token}`]);
    } finally {
      mock.timers.reset();
    }
  });

  test('no log line carries the secret or a token', () => {
    assert.ok(s.logs.length > 0);
    assert.deepEqual(leakedIn(s.logs, secrets()), []);
  });
});

describe('OAUTH2 with private_key_jwt at a token URL, the provider down at start', () => {
  let s: BackendStack;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backend-oauth2-'));
    writeFileSync(join(dir, 'key.pem'), provider.privateKeyPem);
    await provider.down();
    s = await startBackendStack({
      env: {
        BACKEND_TYPE: 'OAUTH2',
        BACKEND_TOKEN_URL: provider.tokenUrl,
        BACKEND_CLIENT_ID: KEY_CLIENT,
        BACKEND_CLIENT_PRIVATE_KEY_FILE: join(dir, 'key.pem'),
        BACKEND_AUDIENCE: 'https://fhir.example.org',
      },
    });
  });
  after(async () => {
    await s.close();
    await provider.up();
  });

  test('token endpoint down → 502 naming backend authentication, /readyz 503, a metric and a warn line', async () => {
    const res = await s.call('/fhir/Patient');
    assert.equal(res.status, 502);
    const outcome = res.json() as { resourceType: string; issue: { diagnostics: string }[] };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(
      outcome.issue[0]!.diagnostics,
      /could not authenticate to the FHIR server \(backend authentication failed\)/,
    );
    assert.equal(s.fhir.requests.length, 0, 'nothing reached the FHIR server without a credential');
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 503);
    const metrics = await s.metrics();
    assert.ok(metricValue(metrics, 'fhir_gateway_backend_auth_failures_total', 'kind="token"') >= 1);
    assert.equal(metricValue(metrics, 'fhir_gateway_backend_auth_up', 'backend_type="OAUTH2"'), 0);
    assert.ok(s.logs.some((line) => /"level":40/.test(line) && /backend authentication failed/.test(line)));
  });

  test('the provider back → requests and readiness recover by themselves, with a signed client assertion', async () => {
    const before = provider.grants.length;
    await provider.up();
    await eventually(async () => (await s.call('/fhir/Patient')).status === 200, 'a request succeeds');
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 200);
    const grant = provider.grants.at(-1)!;
    assert.equal(provider.grants.length, before + 1);
    assert.equal(grant.clientId, KEY_CLIENT);
    assert.equal(grant.audience, 'https://fhir.example.org');
    assert.equal(s.fhir.requests.at(-1)?.headers.authorization, `Bearer ${grant.token}`);
  });

  test('no log line carries the private key or a token', () => {
    assert.deepEqual(leakedIn(s.logs, secrets()), []);
  });
});
