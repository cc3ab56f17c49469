import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, send } from '../support/http.js';
import { startIssuer } from '../support/issuer.js';
import { startStack, type Stack } from '../support/stack.js';

describe('gateway-owned endpoints', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('SMART configuration: built from discovery, served without a token', async () => {
    const res = await send(stack.gatewayUrl, { path: '/fhir/.well-known/smart-configuration' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const doc = res.json();
    assert.equal(doc.issuer, stack.issuer.issuerUrl);
    assert.ok(typeof doc.token_endpoint === 'string');
    assert.ok(
      Array.isArray(doc.capabilities) && doc.capabilities.length > 0,
      'capabilities is required by SMART',
    );
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.equal(doc.userinfo_endpoint, undefined, 'not an echo of the OIDC document');
  });

  test('metadata: forwarded without a token, CapabilityStatement amended', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, { path: '/fhir/metadata' });
    assert.equal(res.status, 200);
    assert.equal(stack.fhir.requests[0]?.path, '/fhir/metadata');
    const statement = res.json() as { resourceType: string; rest: { security: Record<string, unknown> }[] };
    assert.equal(statement.resourceType, 'CapabilityStatement');
    const security = statement.rest[0]!.security as {
      cors: boolean;
      service: { coding: { code: string }[] }[];
      extension: { url: string; extension: { url: string; valueUri: string }[] }[];
    };
    assert.equal(security.cors, true);
    assert.ok(security.service[0]!.coding.some((c) => c.code === 'SMART-on-FHIR'));
    const uris = security.extension.find((e) => e.url.endsWith('oauth-uris'));
    assert.ok(
      uris?.extension.some((e) => e.url === 'token' && e.valueUri.startsWith(stack.issuer.issuerUrl)),
    );
    assert.ok(!res.text.includes(stack.fhir.baseUrl));
  });

  test('healthz is live; readyz reports issuer and backend', async () => {
    assert.equal((await send(stack.gatewayUrl, { path: '/healthz' })).status, 200);
    const ready = await send(stack.gatewayUrl, { path: '/readyz' });
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { status: 'ready', issuer: true, backend: true });
  });

  test('CORS: preflight answered, Location exposed', async () => {
    const preflight = await send(stack.gatewayUrl, {
      method: 'OPTIONS',
      path: '/fhir/Patient',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    const token = await stack.issuer.mint({});
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient',
      headers: bearer(token, { origin: 'https://app.example' }),
    });
    assert.match(String(res.headers['access-control-expose-headers']), /Location/);
  });

  test('unknown paths are OperationOutcome 404s', async () => {
    const res = await send(stack.gatewayUrl, { path: '/nothing-here' });
    assert.equal(res.status, 404);
    assert.equal(res.json().resourceType, 'OperationOutcome');
  });
});

describe('an issuer that is down at start', () => {
  test('does not crash the gateway: 503 and not ready, then recovers', async () => {
    const issuer = await startIssuer();
    issuer.setMode('down');
    const stack = await startStack({ issuer });
    try {
      const token = await issuer.mint({});
      const res = await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
      assert.equal(res.status, 503, 'not 401: clients must not log users out because the issuer is down');
      assert.equal(res.headers['retry-after'], '10', 'clients are told when to try again');
      assert.equal(res.json().resourceType, 'OperationOutcome');
      assert.equal((await send(stack.gatewayUrl, { path: '/readyz' })).status, 503);
      issuer.setMode('jwks');
      const again = await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
      assert.equal(again.status, 200);
      assert.equal((await send(stack.gatewayUrl, { path: '/readyz' })).status, 200);
    } finally {
      await stack.close();
      await issuer.close();
    }
  });
});
