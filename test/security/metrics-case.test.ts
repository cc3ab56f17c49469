/**
 * Attack case U7 (../shared/cases/attacks.md, issue 8): `/metrics` on the public proxy port gave
 * anyone request counts by interaction and status, process memory and timings. As
 * docs/configuration.md promises, metrics are served only on METRICS_PORT, and not at all when it
 * is unset.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { bearer, send } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const METRIC_PREFIX = 'fhir_gateway_';

/** Public paths that could reach a metrics route; all must be unknown on the main port. */
const PROBES = ['/metrics', '/metrics/', '/METRICS', '/metrics?format=json', '/fhir/../metrics'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function assertNoMetricsOnMainPort(stack: Stack): Promise<void> {
  const token = await stack.issuer.mint({});
  for (const path of PROBES) {
    for (const headers of [{}, bearer(token)]) {
      for (const method of ['GET', 'HEAD']) {
        const res = await send(stack.gatewayUrl, { method, path, headers });
        assert.ok(res.status === 404 || res.status === 400, `${method} ${path}: ${res.status}`);
        assert.ok(!res.text.includes(METRIC_PREFIX), `${method} ${path} leaked metrics`);
        if (method === 'GET') assert.equal(res.json().resourceType, 'OperationOutcome', path);
      }
    }
  }
}

describe('METRICS_PORT unset', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('U7 GET /metrics on the proxy port → 404, no metrics anywhere on it', async () => {
    const token = await stack.issuer.mint({});
    await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
    const res = await send(stack.gatewayUrl, { path: '/metrics' });
    assert.equal(res.status, 404);
    assert.equal(res.json().resourceType, 'OperationOutcome');
    await assertNoMetricsOnMainPort(stack);
  });
});

describe('METRICS_PORT set', () => {
  let stack: Stack;
  let metricsUrl: string;
  before(async () => {
    const port = await freePort();
    stack = await startStack({ env: { METRICS_PORT: String(port) } });
    metricsUrl = `http://127.0.0.1:${port}`;
  });
  after(() => stack.close());

  test('U7 variant: the proxy port still has no /metrics', async () => {
    await assertNoMetricsOnMainPort(stack);
  });

  test('metrics are served on METRICS_PORT, counting requests by interaction and status', async () => {
    const token = await stack.issuer.mint({});
    await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
    const res = await send(metricsUrl, { path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(res.text, /fhir_gateway_requests_total\{interaction="search-type",status="200"\} \d+/);
    assert.match(res.text, /fhir_gateway_upstream_duration_seconds_bucket/);
    assert.match(res.text, /fhir_gateway_access_decisions_total\{outcome="granted",by="checker"\}/);
    assert.equal((await send(metricsUrl, { path: '/fhir/Patient' })).status, 404);
  });
});
