import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { type AccessCheckerFactory, denied } from '../../src/access/contract.js';
import { bearer, send } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

const denyAll: AccessCheckerFactory = {
  name: 'deny-all',
  async create() {
    return { checkAccess: async () => denied('nothing is allowed here') };
  },
};

const file = fileURLToPath(new URL('./fixtures/allowed-queries.json', import.meta.url));

describe('allowed queries over HTTP', () => {
  let stack: Stack;
  let token: string;

  before(async () => {
    stack = await startStack({
      env: { ACCESS_CHECKER: 'deny-all', RUN_MODE: 'PROD', ALLOWED_QUERIES_FILE: file },
      extraCheckers: [denyAll],
    });
    await stack.fhir.create({
      resourceType: 'Binary',
      id: 'cfg',
      contentType: 'application/json',
      data: 'e30=',
    });
    await stack.fhir.create({
      resourceType: 'Composition',
      id: 'c1',
      status: 'final',
      type: { text: 'app' },
      date: '2024-01-01',
      author: [{ display: 'x' }],
      title: 't',
      identifier: { value: 'app-1' },
    });
    token = await stack.issuer.mint({});
  });
  after(() => stack.close());

  test('an unauthenticated entry is served without a token', async () => {
    const res = await send(stack.gatewayUrl, { path: '/fhir/Composition?identifier=app-1&_count=10' });
    assert.equal(res.status, 200);
    assert.equal((res.json() as { total?: number }).total, 1);
  });

  test('an unauthenticated entry skips the checker for authenticated callers too', async () => {
    const res = await send(stack.gatewayUrl, { path: '/fhir/Binary/cfg', headers: bearer(token) });
    assert.equal(res.status, 200);
  });

  test('a request matching no entry needs a token, then the checker decides', async () => {
    assert.equal((await send(stack.gatewayUrl, { path: '/fhir/Patient' })).status, 401);
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
    assert.equal(res.status, 403);
    assert.match(String(res.json().issue && JSON.stringify(res.json().issue)), /nothing is allowed here/);
  });

  test('the method must match requestType (no unauthenticated write)', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, {
      method: 'PUT',
      path: '/fhir/Binary/cfg',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Binary', id: 'cfg', contentType: 'text/plain' }),
    });
    assert.equal(res.status, 401);
    assert.equal(stack.fhir.requests.length, 0);
  });

  test('an entry naming _getpages never grants a paging link: it needs a token and a link issued to the user', async () => {
    assert.equal((await send(stack.gatewayUrl, { path: '/fhir?_getpages=abc' })).status, 401);
    const res = await send(stack.gatewayUrl, { path: '/fhir?_getpages=abc', headers: bearer(token) });
    assert.equal(res.status, 403);
    assert.match(res.text, /not issued to this user/);
    assert.equal(stack.fhir.requests.length, 0);
  });

  test('a batch whose every entry is an unauthenticated allowed query passes without a token', async () => {
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Binary?_id=cfg' } },
        { request: { method: 'GET', url: 'Binary/cfg' } },
      ],
    };
    const res = await send(stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(batch),
    });
    assert.equal(res.status, 200);
    assert.equal(res.json().type, 'batch-response');
  });

  test('a batch with one entry outside the allowed queries needs a token', async () => {
    stack.fhir.clearRequests();
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Binary/cfg' } },
        { request: { method: 'GET', url: 'Patient' } },
      ],
    };
    const res = await send(stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(batch),
    });
    assert.equal(res.status, 401);
    assert.equal(stack.fhir.requests.length, 0);
  });
});
