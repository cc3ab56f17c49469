import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFhirServer, type LocalFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer, type LocalIssuer } from '../support/issuer.js';
import { startStack } from '../support/stack.js';

const FORWARDED = {
  'x-forwarded-host': 'gw.example.org',
  'x-forwarded-proto': 'https',
  'x-forwarded-prefix': '/api',
  'x-forwarded-for': '203.0.113.7',
};

describe('X-Forwarded-* headers count only with TRUST_PROXY', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  before(async () => {
    fhir = await startFhirServer();
    issuer = await startIssuer();
    await fhir.create({ resourceType: 'Patient', id: 'p1' });
    await fhir.create({ resourceType: 'Patient', id: 'p2' });
  });
  after(async () => {
    await fhir.close();
    await issuer.close();
  });

  async function firstNextLink(trustProxy: boolean) {
    const stack = await startStack({ fhir, issuer, env: { TRUST_PROXY: String(trustProxy) } });
    try {
      fhir.clearRequests();
      const token = await issuer.mint({});
      const res = await send(stack.gatewayUrl, {
        path: '/fhir/Patient?_count=1',
        headers: bearer(token, FORWARDED),
      });
      assert.equal(res.status, 200);
      const link = (res.json() as { link: { relation: string; url: string }[] }).link.find(
        (l) => l.relation === 'next',
      );
      return { next: link?.url ?? '', received: fhir.requests[0]!, gatewayUrl: stack.gatewayUrl };
    } finally {
      await stack.close();
    }
  }

  test('without TRUST_PROXY (default) links use the Host header and client forwarding headers are dropped', async () => {
    const { next, received, gatewayUrl } = await firstNextLink(false);
    assert.ok(next.startsWith(`${gatewayUrl}/fhir/Patient?`), next);
    assert.equal(received.headers['x-forwarded-host'], undefined);
    assert.equal(received.headers['x-forwarded-for'], '127.0.0.1');
  });

  test('with TRUST_PROXY links use the forwarded proto, host and prefix', async () => {
    const { next, received } = await firstNextLink(true);
    assert.ok(next.startsWith('https://gw.example.org/api/fhir/Patient?'), next);
    assert.equal(received.headers['x-forwarded-host'], 'gw.example.org');
    assert.equal(received.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  });
});
