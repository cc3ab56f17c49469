/**
 * Attack case T1 (../shared/cases/attacks.md, issue 8): a Keycloak ID token, signed by the realm's
 * own key, sent as a bearer token. Only access tokens may authorize requests: 401 with a Bearer
 * challenge, and nothing reaches the FHIR server. Variants: refresh and offline tokens, other
 * types and operations, a Bundle, and the plugin-owned endpoints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PERSONAS } from '../support/opensrp-dataset.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import {
  FHIR_JSON,
  type PermissionStack,
  startPermissionStack,
  WEB_USER,
} from '../opensrp/permissions-stack.js';

const ROLES = ['WEB_CLIENT', 'GET_PATIENT', 'GET_OBSERVATION', 'POST_PATIENT', 'GET_LOCATION', 'SUPERVISOR'];

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack();
});
after(() => gw.close());

/** A token with the WEB user's claims and roles, and the given Keycloak `typ`. */
function token(typ: string, extra: Record<string, unknown> = {}): Promise<string> {
  return gw.stack.issuer.mint({ ...WEB_USER, realm_access: { roles: ROLES }, typ, ...extra });
}

async function call(bearerToken: string, method: string, path: string, body?: unknown): Promise<RawResponse> {
  gw.stack.fhir.clearRequests();
  return send(gw.stack.gatewayUrl, {
    method,
    path,
    headers: bearer(bearerToken, body === undefined ? {} : { 'content-type': FHIR_JSON }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function assertRefused(response: RawResponse, what: string): void {
  assert.equal(response.status, 401, `${what}: ${response.text}`);
  assert.match(String(response.headers['www-authenticate']), /^Bearer error="invalid_token"/, what);
  assert.equal(response.json().resourceType, 'OperationOutcome', what);
  assert.deepEqual(gw.forwarded(), [], `${what}: nothing may reach the FHIR server`);
}

describe('T1', () => {
  test('control: the same user’s access token (typ Bearer) is served', async () => {
    const response = await call(await token('Bearer'), 'GET', '/fhir/Patient?_count=1');
    assert.equal(response.status, 200, response.text);
    assert.equal(gw.forwarded().length, 1);
  });

  test('T1 a Keycloak ID token (typ ID, aud = a client id) as bearer → 401, nothing forwarded', async () => {
    const idToken = await token('ID', { aud: 'fhir-web', nonce: 'n-1', at_hash: 'x' });
    assertRefused(await call(idToken, 'GET', '/fhir/Patient?_count=1'), 'T1');
  });

  test('T1 variants: refresh/offline tokens, other types, operations and a Bundle → 401', async () => {
    const tokens = {
      ID: await token('ID', { aud: 'fhir-web' }),
      Refresh: await token('Refresh', { aud: 'http://keycloak/realms/test' }),
      Offline: await token('Offline'),
    };
    const requests: [string, string, unknown?][] = [
      ['GET', '/fhir/Observation?_count=1'],
      ['GET', '/fhir/Patient/$meta'],
      ['POST', '/fhir/Patient', { resourceType: 'Patient' }],
      [
        'POST',
        '/fhir',
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient' } }] },
      ],
    ];
    for (const [typ, bearerToken] of Object.entries(tokens)) {
      for (const [method, path, body] of requests) {
        assertRefused(await call(bearerToken, method, path, body), `${typ} ${method} ${path}`);
      }
    }
  });

  test('T1 variants: the plugin endpoints refuse an ID token too', async () => {
    const idToken = await token('ID', { aud: 'fhir-web' });
    for (const path of [
      `/PractitionerDetail?keycloak-uuid=${PERSONAS.worker.sub}`,
      `/LocationHierarchy?_id=${PERSONAS.worker.facility}`,
    ]) {
      assertRefused(await call(idToken, 'GET', path), path);
    }
  });
});
