import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFhirServer, type LocalFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer, type LocalIssuer } from '../support/issuer.js';
import { startStack } from '../support/stack.js';

function assertOutcome(
  res: { headers: Record<string, unknown>; json(): Record<string, unknown> },
  status: number,
) {
  assert.match(String(res.headers['content-type']), /application\/fhir\+json/);
  const body = res.json();
  assert.equal(body.resourceType, 'OperationOutcome', `status ${status} carries an OperationOutcome`);
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('failures become OperationOutcomes with the right status', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let token: string;

  before(async () => {
    fhir = await startFhirServer();
    issuer = await startIssuer();
    token = await issuer.mint({});
  });
  after(async () => {
    await fhir.close();
    await issuer.close();
  });

  test('backend unreachable → 502', async () => {
    const port = await closedPort();
    const stack = await startStack({ issuer, fhir, env: { PROXY_TO: `http://127.0.0.1:${port}/fhir` } });
    try {
      const res = await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
      assert.equal(res.status, 502);
      assertOutcome(res, 502);
      assert.ok(!res.text.includes(String(port)), 'the backend address is not revealed');
    } finally {
      await stack.close();
    }
  });

  test('backend too slow → 504', async () => {
    const stack = await startStack({ issuer, fhir, env: { BACKEND_TIMEOUT_MS: '200' } });
    fhir.intercept(async (req) => {
      if (!req.url.includes('slow')) return false;
      await sleep(1000);
      return false;
    });
    try {
      const res = await send(stack.gatewayUrl, { path: '/fhir/Patient?name=slow', headers: bearer(token) });
      assert.equal(res.status, 504);
      assertOutcome(res, 504);
    } finally {
      fhir.intercept(undefined);
      await stack.close();
    }
  });

  test('body too large → 413 and nothing forwarded', async () => {
    const stack = await startStack({ issuer, fhir, env: { BODY_LIMIT_BYTES: '1024' } });
    try {
      fhir.clearRequests();
      const res = await send(stack.gatewayUrl, {
        method: 'POST',
        path: '/fhir/Patient',
        headers: bearer(token, { 'content-type': 'application/fhir+json' }),
        body: JSON.stringify({ resourceType: 'Patient', text: { div: 'x'.repeat(4096) } }),
      });
      assert.equal(res.status, 413);
      assertOutcome(res, 413);
      assert.equal(fhir.requests.length, 0);
    } finally {
      await stack.close();
    }
  });

  test('unsupported body media type → 415 and nothing forwarded', async () => {
    const stack = await startStack({ issuer, fhir });
    try {
      fhir.clearRequests();
      const res = await send(stack.gatewayUrl, {
        method: 'POST',
        path: '/fhir/Patient',
        headers: bearer(token, { 'content-type': 'text/plain' }),
        body: 'hello',
      });
      assert.equal(res.status, 415);
      assertOutcome(res, 415);
      assert.equal(fhir.requests.length, 0);
    } finally {
      await stack.close();
    }
  });

  test('a client that disconnects cancels its upstream request', async () => {
    const stack = await startStack({ issuer, fhir });
    let upstreamClosed = false;
    fhir.intercept(async (req, res) => {
      if (!req.url.includes('hang')) return false;
      res.on('close', () => {
        upstreamClosed = true;
      });
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write('{"resourceType":"Bundle",');
      return true; // never finishes
    });
    try {
      const controller = new AbortController();
      const pending = send(stack.gatewayUrl, {
        path: '/fhir/Patient?name=hang',
        headers: bearer(token),
        signal: controller.signal,
      }).catch(() => undefined);
      for (let i = 0; i < 50 && !fhir.requests.some((r) => r.url.includes('hang')); i++) await sleep(20);
      await sleep(50);
      controller.abort();
      await pending;
      for (let i = 0; i < 100 && !upstreamClosed; i++) await sleep(20);
      assert.ok(upstreamClosed, 'the upstream connection was closed');
    } finally {
      fhir.intercept(undefined);
      await stack.close();
    }
  });
});
