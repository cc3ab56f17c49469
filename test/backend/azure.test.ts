/**
 * BACKEND_TYPE=AZURE through @azure/identity's ManagedIdentityCredential against a local
 * App Service-style managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER, plain http on
 * loopback, read by the library from the process environment): the token reaches the FHIR server,
 * is reused, replaced near expiry (controlled clock); the endpoint down → 502 and /readyz 503,
 * then recovery; no token or header secret in any log line.
 * The client-secret path (an HTTPS authority): azure-client-secret.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { send } from '../support/http.js';
import {
  type BackendStack,
  eventually,
  leakedIn,
  metricValue,
  startBackendStack,
} from './support/backend-stack.js';
import { type FakeEndpoint, sendJson, startFake } from './support/fake-endpoint.js';

const IDENTITY_HEADER = `identity-header-${crypto.randomUUID()}`;
const FHIR_ORIGIN_SCOPE_RESOURCE = (fhirBase: string) => new URL(fhirBase).origin;

const issued: string[] = [];
const resources: string[] = [];
let refusedHeader = 0;
let identity: FakeEndpoint;

before(async () => {
  identity = await startFake((req, res) => {
    const url = new URL(req.url, 'http://identity');
    if (req.headers['x-identity-header'] !== IDENTITY_HEADER) {
      refusedHeader++;
      return sendJson(res, 401, { error: 'invalid X-IDENTITY-HEADER' });
    }
    if (url.pathname !== '/msi/token' || url.searchParams.get('api-version') !== '2019-08-01') {
      return sendJson(res, 400, { error: 'bad request' });
    }
    const token = `eyJ0eXAi.azure-${issued.length + 1}-${crypto.randomUUID()}`;
    issued.push(token);
    resources.push(url.searchParams.get('resource') ?? '');
    sendJson(res, 200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource: url.searchParams.get('resource'),
      token_type: 'Bearer',
    });
  });
  process.env.IDENTITY_ENDPOINT = `${identity.origin}/msi/token`;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
});
after(() => identity.close());

function env(): Record<string, string> {
  return {
    BACKEND_TYPE: 'AZURE',
    IDENTITY_ENDPOINT: `${identity.origin}/msi/token`,
    IDENTITY_HEADER,
  };
}

describe('AZURE with App Service managed identity', () => {
  let s: BackendStack;
  before(async () => {
    s = await startBackendStack({ env: env() });
  });
  after(() => s.close());

  test('the FHIR server receives the managed identity token, asked for the PROXY_TO origin', async () => {
    s.fhir.clearRequests();
    assert.equal((await s.call('/fhir/Patient')).status, 200);
    assert.equal(issued.length, 1);
    assert.equal(resources[0], FHIR_ORIGIN_SCOPE_RESOURCE(s.fhir.baseUrl));
    assert.equal(refusedHeader, 0, 'every token request carried X-IDENTITY-HEADER');
    assert.deepEqual(
      s.fhir.requests.map((r) => r.headers.authorization),
      [`Bearer ${issued[0]}`],
    );
  });

  test('the token is reused, then replaced shortly before it expires', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await s.call('/fhir/Patient')).status, 200);
    assert.equal(issued.length, 1);
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      mock.timers.tick(3600_000 - 30_000);
      s.fhir.clearRequests();
      assert.equal((await s.call('/fhir/Patient')).status, 200);
      assert.equal(issued.length, 2);
      assert.equal(s.fhir.requests[0]?.headers.authorization, `Bearer ${issued[1]}`);
    } finally {
      mock.timers.reset();
    }
  });

  test('no log line carries a token or the identity header', () => {
    assert.deepEqual(leakedIn(s.logs, [...issued, IDENTITY_HEADER]), []);
  });
});

describe('AZURE with the managed identity endpoint down at start', () => {
  let s: BackendStack;
  before(async () => {
    await identity.down();
    s = await startBackendStack({ env: env() });
  });
  after(async () => {
    await s.close();
    await identity.up();
  });

  test('→ 502 naming backend authentication, /readyz 503, a metric and a warn line; recovery when it is back', async () => {
    const res = await s.call('/fhir/Patient');
    assert.equal(res.status, 502);
    assert.match(res.text, /could not authenticate to the FHIR server \(backend authentication failed\)/);
    assert.equal(s.fhir.requests.length, 0);
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 503);
    const metrics = await s.metrics();
    assert.ok(
      metricValue(metrics, 'fhir_gateway_backend_auth_failures_total', 'backend_type="AZURE",kind="token"') >=
        1,
    );
    assert.ok(s.logs.some((line) => /"level":40/.test(line) && /backend authentication failed/.test(line)));

    const before = issued.length;
    await identity.up();
    await eventually(async () => (await s.call('/fhir/Patient')).status === 200, 'a request succeeds');
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 200);
    assert.equal(issued.length, before + 1);
    assert.equal(s.fhir.requests.at(-1)?.headers.authorization, `Bearer ${issued.at(-1)}`);
    assert.deepEqual(leakedIn(s.logs, [...issued, IDENTITY_HEADER]), []);
  });
});
