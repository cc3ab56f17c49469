/**
 * Red-team variants that held (see /work/notes/redteam.md): new shapes of the catalogue's kinds
 * that the gateway answers safely today. Each asserts the safe answer and what reached the backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, send } from '../../support/http.js';
import { APP_IDS, PERSONAS } from '../../support/opensrp-dataset.js';
import { android, type SecurityStack, startSecurityStack, web } from '../security-stack.js';
import { bundleOf, ownTag, reached } from './redteam-kit.js';

describe('red-team variants that held', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack({}, { paging: 'hapi' });
  });
  after(() => s.close());

  const reader = android('GET_PATIENT', 'GET_OBSERVATION');

  test('XML: a body nested 200,000 deep without a token → 400, nothing forwarded', async () => {
    s.fhir.clearRequests();
    const deep = `<Patient xmlns="http://hl7.org/fhir">${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</Patient>`;
    const response = await send(s.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir/Patient',
      headers: { 'content-type': 'application/fhir+xml' },
      body: deep,
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(s.forwarded(), []);
  });

  test('XML: a prefixed root (f:Observation in the FHIR namespace) posted to Patient → 400, not forwarded', async () => {
    const response = await s.call(web('POST_PATIENT'), 'POST', 'Patient', {
      body: '<f:Observation xmlns:f="http://hl7.org/fhir"><f:status value="final"/></f:Observation>',
      headers: { 'content-type': 'application/fhir+xml' },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(reached(s, 'POST', '/Patient'), []);
  });

  test('compartment search Patient/<p2>/Observation is narrowed: o-x9 (L9, about p2) is not returned', async () => {
    const response = await s.call(reader, 'GET', `Patient/${s.p2}/Observation?_count=100`);
    assert.equal(response.status, 200, response.text);
    assert.ok(!response.text.includes('o-x9'), response.text);
    assert.match(s.forwarded().at(-1) ?? '', /_tag=/);
  });

  test('paging: a signed _getpages link sent as a batch entry is refused, nothing forwarded', async () => {
    const first = await s.call(reader, 'GET', 'Patient?_count=1');
    const next = (first.json().link as { relation: string; url: string }[]).find(
      (l) => l.relation === 'next',
    );
    assert.ok(next, first.text);
    const query = new URL(next.url).search;
    const response = await s.call(reader, 'POST', '', {
      body: bundleOf('batch', [{ request: { method: 'GET', url: query } }]),
    });
    assert.ok([400, 403].includes(response.status), response.text);
    assert.deepEqual(
      s.forwarded().filter((line) => line.startsWith('POST')),
      [],
    );
  });

  test('paging: a continuation replayed with an extra _include needs the joined role → 403', async () => {
    const first = await s.call(reader, 'GET', 'Patient?_count=1');
    const next = (first.json().link as { relation: string; url: string }[]).find(
      (l) => l.relation === 'next',
    );
    assert.ok(next, first.text);
    const response = await s.follow(android('GET_PATIENT'), `${next.url}&_revinclude=Observation:subject`);
    assert.equal(response.status, 403, response.text);
  });

  test('W10 variant: Prefer return=OperationOutcome on a WEB POST_PATIENT-only conditional create names no match', async () => {
    const response = await s.call(web('POST_PATIENT'), 'POST', 'Patient', {
      body: { resourceType: 'Patient' },
      headers: { 'if-none-exist': '_id=p9', prefer: 'return=OperationOutcome' },
    });
    assert.ok(!response.text.includes('p9'), response.text);
    assert.equal(response.headers.location, undefined);
  });

  test('writes: a foreign related-entity-location code beside the own location tag is refused (W1)', async () => {
    const response = await s.call(android('GET_PATIENT', 'POST_PATIENT'), 'POST', 'Patient', {
      body: {
        resourceType: 'Patient',
        meta: {
          tag: [
            ownTag,
            { system: 'https://smartregister.org/related-entity-location-tag-id', code: 'loc-d2-f1' },
          ],
        },
      },
    });
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(reached(s, 'POST', '/Patient'), []);
  });

  test('endpoints: a repeated keycloak-uuid or _id answers for the first (own) value only', async () => {
    const token = await s.stack.issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: { roles: ['ANDROID_CLIENT', 'GET_PATIENT'] },
    });
    const detail = await send(s.stack.gatewayUrl, {
      path: '/PractitionerDetail?keycloak-uuid=kc-worker&keycloak-uuid=kc-other',
      headers: bearer(token),
    });
    assert.equal(detail.status, 200, detail.text);
    assert.ok(!detail.text.includes(PERSONAS.other.practitionerId), detail.text);
    const tree = await send(s.stack.gatewayUrl, {
      path: `/LocationHierarchy?_id=${PERSONAS.worker.facility}&_id=${PERSONAS.other.facility}`,
      headers: bearer(token),
    });
    assert.equal(tree.status, 200, tree.text);
    assert.ok(!tree.text.includes(PERSONAS.other.facility), 'the second _id is not answered');
  });

  test('tokens: a payload typ that is not a string (array, null) → 401', async () => {
    for (const typ of [['Bearer'], null]) {
      const token = await s.stack.issuer.mint({
        sub: PERSONAS.worker.sub,
        fhir_core_app_id: APP_IDS.Location,
        realm_access: { roles: ['ANDROID_CLIENT', 'GET_PATIENT'] },
        typ,
      });
      s.fhir.clearRequests();
      const response = await send(s.stack.gatewayUrl, {
        path: `/fhir/Patient/${s.p1}`,
        headers: bearer(token),
      });
      assert.equal(response.status, 401, `${JSON.stringify(typ)}: ${response.text}`);
      assert.deepEqual(s.forwarded(), []);
    }
  });
});
