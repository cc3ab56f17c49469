/**
 * Attack cases U6 and D1 (../shared/cases/attacks.md, issue 8): bounds on what one request may
 * make the gateway do. U6: JSON nested 20,000 deep answered 500 (JSON.stringify ran out of stack);
 * now 400 at parse time. D1: a 270 KB batch of 5,000 entries made 5,001 backend requests; now
 * BUNDLE_MAX_ENTRIES caps it with 413. In both, nothing reaches the FHIR server.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { APP_IDS } from '../support/opensrp-dataset.js';
import { type RawResponse, send } from '../support/http.js';
import { FHIR_JSON, type PermissionStack, startPermissionStack } from '../opensrp/permissions-stack.js';

const SHIPPED = fileURLToPath(new URL('../../resources/opensrp_allowed_queries.json', import.meta.url));
const APP_BINARY = `app-config-${APP_IDS.Location}`;
/** An Android user of the Location app with every role these requests need. */
const ANDROID_ROLES = ['ANDROID_CLIENT', 'GET_PATIENT', 'POST_PATIENT', 'PUT_PATIENT', 'PATCH_PATIENT'];

const deepArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

function bundleOf(type: string, entries: object[]): object {
  return { resourceType: 'Bundle', type, entry: entries };
}

function assertAnswered(gw: PermissionStack, response: RawResponse, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${response.text.slice(0, 300)}`);
  assert.equal(response.json().resourceType, 'OperationOutcome', what);
  assert.deepEqual(gw.forwarded(), [], `${what}: nothing may reach the FHIR server`);
}

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack({ ALLOWED_QUERIES_FILE: SHIPPED });
});
after(() => gw.close());

/** The raw body text is sent as is (JSON.stringify could not even build these values). */
async function android(method: string, path: string, body: string, contentType = FHIR_JSON) {
  return gw.call(method, path, { roles: ANDROID_ROLES, body, contentType });
}

describe('U6 nesting depth', () => {
  test('U6 a batch whose one POST entry nests arrays 20,000 deep → 400, nothing forwarded', async () => {
    const body = `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/p1"}},{"resource":{"resourceType":"Patient","extension":${deepArrays(20_000)}},"request":{"method":"POST","url":"Patient"}}]}`;
    const response = await android('POST', '', body);
    assertAnswered(gw, response, 400, 'U6');
    assert.match(JSON.stringify(response.json()), /nests arrays and objects more than 100 levels/);
  });

  test('U6 variants: other operations, objects, a transaction, a JSON Patch, without a token → 400', async () => {
    const deepPatient = `{"resourceType":"Patient","id":"p1","extension":${deepObjects(20_000)}}`;
    const cases: [string, string, string, string?][] = [
      ['PUT', 'Patient/p1', deepPatient],
      ['POST', 'Patient', deepPatient],
      ['POST', 'Patient/$validate', deepPatient],
      [
        'POST',
        '',
        `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${deepPatient},"request":{"method":"PUT","url":"Patient/p1"}}]}`,
      ],
      [
        'PATCH',
        'Patient/p1',
        `[{"op":"add","path":"/extension","value":${deepArrays(20_000)}}]`,
        'application/json-patch+json',
      ],
      ['POST', 'Patient', `{"resourceType":"Patient","extension":${deepArrays(101)}}`],
    ];
    for (const [method, path, body, contentType] of cases) {
      assertAnswered(gw, await android(method, path, body, contentType), 400, `${method} ${path}`);
    }
    gw.stack.fhir.clearRequests();
    const anonymous = await send(gw.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': FHIR_JSON },
      body: `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Binary/${APP_BINARY}"}},{"resource":${deepArrays(20_000)}}]}`,
    });
    assertAnswered(gw, anonymous, 400, 'without a token');
  });

  test('control: 100 levels (the limit) parses and is authorized as usual', async () => {
    const body = `{"resourceType":"Patient","extension":${deepArrays(99)}}`;
    const response = await android('POST', 'Patient', body);
    assert.notEqual(response.status, 400, response.text.slice(0, 300));
    assert.ok(response.status < 500, response.text.slice(0, 300));
  });
});

describe('D1 Bundle entry cap (BUNDLE_MAX_ENTRIES, default 1000)', () => {
  const metaEntries = (count: number) =>
    Array.from({ length: count }, () => ({ request: { method: 'GET', url: 'Patient/p1/$meta' } }));

  test('D1 a batch of 5,000 GET Patient/p1/$meta → 413, zero backend requests', async () => {
    const body = JSON.stringify(bundleOf('batch', metaEntries(5000)));
    const response = await android('POST', '', body);
    assertAnswered(gw, response, 413, 'D1');
    assert.match(
      JSON.stringify(response.json()),
      /5000 entries; at most 1000 are accepted \(BUNDLE_MAX_ENTRIES\)/,
    );
  });

  test('D1 variants: a transaction of creates, a batch of other reads, an unauthenticated batch → 413', async () => {
    const creates = Array.from({ length: 1001 }, () => ({
      resource: { resourceType: 'Patient' },
      request: { method: 'POST', url: 'Patient' },
    }));
    assertAnswered(
      gw,
      await android('POST', '', JSON.stringify(bundleOf('transaction', creates))),
      413,
      'transaction',
    );
    const reads = Array.from({ length: 1001 }, (_, i) => ({
      request: { method: 'GET', url: `Patient?_id=p${i}` },
    }));
    assertAnswered(
      gw,
      await android('POST', '', JSON.stringify(bundleOf('batch', reads))),
      413,
      'batch of searches',
    );
    gw.stack.fhir.clearRequests();
    const binaries = Array.from({ length: 1001 }, () => ({
      request: { method: 'GET', url: `Binary/${APP_BINARY}` },
    }));
    const anonymous = await send(gw.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': FHIR_JSON },
      body: JSON.stringify(bundleOf('batch', binaries)),
    });
    assertAnswered(gw, anonymous, 413, 'unauthenticated allowed-query batch');
  });

  test('control: 1,000 entries (the cap) pass as one backend request (allowed-query batch)', async () => {
    gw.stack.fhir.clearRequests();
    const binaries = Array.from({ length: 1000 }, () => ({
      request: { method: 'GET', url: `Binary/${APP_BINARY}` },
    }));
    const response = await send(gw.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': FHIR_JSON },
      body: JSON.stringify(bundleOf('batch', binaries)),
    });
    assert.equal(response.status, 200, response.text.slice(0, 300));
    assert.deepEqual(gw.forwarded(), ['POST /']);
  });
});

describe('D1 with BUNDLE_MAX_ENTRIES=3', () => {
  let small: PermissionStack;
  before(async () => {
    small = await startPermissionStack({ ALLOWED_QUERIES_FILE: SHIPPED, BUNDLE_MAX_ENTRIES: '3' });
  });
  after(() => small.close());

  test('D1 variant: the configured cap applies (3 pass, 4 → 413 with nothing forwarded)', async () => {
    const send3or4 = (count: number) =>
      small.call('POST', '', {
        roles: ['WEB_CLIENT', 'GET_PATIENT'],
        body: bundleOf(
          'batch',
          Array.from({ length: count }, () => ({ request: { method: 'GET', url: 'Patient?_count=1' } })),
        ),
      });
    const atCap = await send3or4(3);
    assert.equal(atCap.status, 200, atCap.text.slice(0, 300));
    assert.deepEqual(small.forwarded(), ['POST /']);
    assertAnswered(small, await send3or4(4), 413, 'above the configured cap');
  });
});
