import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, send } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

/** Each shape is refused with 400 before anything reaches the backend. */
const AMBIGUOUS: readonly [string, string][] = [
  ['dot segment', '/fhir/Patient/./p1'],
  ['dot-dot segment', '/fhir/Patient/../Observation'],
  ['encoded slash', '/fhir/Patient%2Fp1'],
  ['encoded lower-case slash', '/fhir/Patient%2fp1'],
  ['encoded backslash', '/fhir/Patient%5Cp1'],
  ['raw backslash', '/fhir/Patient\\p1'],
  ['empty segment', '/fhir/Patient//p1'],
  ['trailing slash', '/fhir/Patient/'],
  ['unknown resource type', '/fhir/Patientx'],
  ['invalid id', '/fhir/Patient/bad_id!'],
  ['id too long', `/fhir/Patient/${'a'.repeat(65)}`],
  ['invalid version id', '/fhir/Patient/p1/_history/bad_vid!'],
  ['bad percent-encoding in query', '/fhir/Patient?name=%ZZ'],
  ['bad percent-encoding in path', '/fhir/Patient/%ZZ'],
  ['encoded NUL', '/fhir/Patient?name=a%00b'],
  ['empty param name', '/fhir/Patient?=x'],
  ['unknown underscore segment', '/fhir/Patient/_bogus'],
];

describe('the parser refuses ambiguous requests and forwards nothing', () => {
  let stack: Stack;
  let token: string;
  before(async () => {
    stack = await startStack();
    token = await stack.issuer.mint({});
  });
  after(() => stack.close());

  for (const [name, path] of AMBIGUOUS) {
    test(name, async () => {
      stack.fhir.clearRequests();
      const res = await send(stack.gatewayUrl, { path, headers: bearer(token) });
      assert.equal(res.status, 400, `${path} → ${res.status} ${res.text}`);
      assert.equal(res.json().resourceType, 'OperationOutcome');
      assert.equal(stack.fhir.requests.length, 0);
    });
  }

  test('a GET with a body', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient',
      headers: bearer(token, { 'content-type': 'application/fhir+json', 'content-length': '26' }),
      body: '{"resourceType":"Patient"}',
    });
    assert.equal(res.status, 400);
    assert.equal(res.json().resourceType, 'OperationOutcome');
    assert.equal(stack.fhir.requests.length, 0);
  });

  test('a bundle that is neither batch nor transaction', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: bearer(token, { 'content-type': 'application/fhir+json' }),
      body: JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }),
    });
    assert.equal(res.status, 400);
    assert.equal(stack.fhir.requests.length, 0);
  });

  test('a method the gateway does not proxy', async () => {
    const res = await send(stack.gatewayUrl, {
      method: 'TRACE',
      path: '/fhir/Patient',
      headers: bearer(token),
    });
    assert.ok(res.status === 405 || res.status === 404, `status ${res.status}`);
    assert.equal(stack.fhir.requests.length, 0);
  });
});
