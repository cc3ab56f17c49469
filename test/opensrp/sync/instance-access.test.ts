/**
 * Improvements over the Java plugin, which never checks requests on one resource: an Android user
 * sees and changes by id exactly what it sees by search, and `_include`d resources obey the same rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { diagnostics, idsIn, type SyncStack, startSyncStack } from './sync-stack.js';

describe('requests on one resource are held to the sync scope', () => {
  let s: SyncStack;
  let token: string;
  let inside: string;
  let outside: string;
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    inside = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility))[0]!;
    outside = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.other.facility))[0]!;
  });
  after(() => s.close());

  const calls = () => s.received().map((r) => `${r.method} ${r.path}`);

  test('read by id: in scope → 200, out of scope → 404 with the message of a missing resource', async () => {
    assert.equal((await s.call(token, `Patient/${inside}`)).status, 200);
    const hidden = await s.call(token, `Patient/${outside}`);
    assert.equal(hidden.status, 404);
    assert.equal(diagnostics(hidden), `Resource Patient/${outside} is not known`);
    const missing = await s.call(token, 'Patient/does-not-exist');
    assert.equal(missing.status, 404);
  });

  test('vread and instance history of an out-of-scope resource → 404', async () => {
    assert.equal((await s.call(token, `Patient/${outside}/_history/1`)).status, 404);
    assert.equal((await s.call(token, `Patient/${outside}/_history`)).status, 404);
    const history = await s.call(token, `Patient/${inside}/_history`);
    assert.equal(history.status, 200);
    assert.ok(idsIn(history).includes(inside));
  });

  test('exempt types are read by id without tags (Questionnaire, Composition)', async () => {
    assert.equal((await s.call(token, 'Questionnaire/q-registration')).status, 200);
    assert.equal((await s.call(token, 'Composition/composition-app-location')).status, 200);
  });

  test('update of an out-of-scope resource → 403 and nothing written', async () => {
    const stored = (await s.fhir.repo.readResource<Patient>('Patient', outside)) as Patient;
    const response = await s.call(token, `Patient/${outside}`, {
      method: 'PUT',
      body: { ...stored, gender: 'other' },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(calls(), [`GET /fhir/Patient/${outside}`]);
  });

  test('update of an in-scope resource is forwarded', async () => {
    const stored = (await s.fhir.repo.readResource<Patient>('Patient', inside)) as Patient;
    const response = await s.call(token, `Patient/${inside}`, {
      method: 'PUT',
      body: { ...stored, birthDate: '1990-01-01' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(calls(), [`GET /fhir/Patient/${inside}`, `PUT /fhir/Patient/${inside}`]);
  });

  test('update-as-create: allowed only when the new resource carries an in-scope tag', async () => {
    const village = `${PERSONAS.worker.facility}-v1`;
    const tagged = {
      resourceType: 'Patient',
      id: 'new-in-scope',
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: village }] },
    };
    const created = await s.call(token, 'Patient/new-in-scope', { method: 'PUT', body: tagged });
    assert.ok(created.status === 200 || created.status === 201, created.text);
    assert.ok(await s.fhir.repo.readResource('Patient', 'new-in-scope'));
    const untagged = { resourceType: 'Patient', id: 'new-untagged' };
    const refused = await s.call(token, 'Patient/new-untagged', { method: 'PUT', body: untagged });
    assert.equal(refused.status, 403);
    assert.deepEqual(calls(), ['GET /fhir/Patient/new-untagged']);
  });

  test('delete and patch of an out-of-scope resource → 404 as for a missing one, nothing forwarded', async () => {
    const observation = `obs-${outside.slice(4)}`;
    const deleted = await s.call(token, `Observation/${observation}`, { method: 'DELETE' });
    assert.equal(deleted.status, 404);
    assert.equal(diagnostics(deleted), `Resource Observation/${observation} is not known`);
    assert.deepEqual(calls(), [`GET /fhir/Observation/${observation}`]);
    const patch = await s.call(token, `Patient/${outside}`, {
      method: 'PATCH',
      body: [{ op: 'replace', path: '/gender', value: 'other' }],
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(patch.status, 404);
    assert.deepEqual(calls(), [`GET /fhir/Patient/${outside}`]);
    assert.ok(await s.fhir.repo.readResource('Observation', observation));
  });

  test('conditional delete is narrowed: only in-scope resources can match', async () => {
    const response = await s.call(token, `Patient?_id=${outside}`, { method: 'DELETE' });
    assert.ok(response.status < 300, response.text);
    const [sent] = s.received();
    assert.equal(sent!.method, 'DELETE');
    assert.ok(new URLSearchParams(sent!.query).getAll('_tag').length === 1);
    assert.ok(await s.fhir.repo.readResource('Patient', outside));
  });

  test('create needs only the role (the client tags what it creates)', async () => {
    const response = await s.call(token, 'Observation', {
      method: 'POST',
      body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
    });
    assert.equal(response.status, 201);
  });

  test('improvement: a conditional create that matches an out-of-scope resource does not return it', async () => {
    const body = { resourceType: 'Patient', name: [{ family: 'Probe' }] };
    const hiddenMatch = await s.call(token, 'Patient', {
      method: 'POST',
      body,
      headers: { 'if-none-exist': `_id=${outside}` },
    });
    // The condition goes upstream narrowed to the scope: the hidden match is no match, a new Patient is made.
    assert.equal(hiddenMatch.status, 201, hiddenMatch.text);
    assert.ok(!String(hiddenMatch.headers.location).includes(`/${outside}`), String(hiddenMatch.headers.location));
    assert.ok(!hiddenMatch.text.includes(`Family-${outside}`), 'the out-of-scope resource is not disclosed');
    const visibleMatch = await s.call(token, 'Patient', {
      method: 'POST',
      body,
      headers: { 'if-none-exist': `_id=${inside}` },
    });
    assert.equal(visibleMatch.status, 200, visibleMatch.text);
    assert.equal(visibleMatch.json().id, inside);
    const noMatch = await s.call(token, 'Patient', {
      method: 'POST',
      body,
      headers: { 'if-none-exist': '_id=nobody-has-this-id' },
    });
    assert.equal(noMatch.status, 201, noMatch.text);
  });

  test('instance operation on an out-of-scope resource → 404 and the operation is not forwarded', async () => {
    const response = await s.call(token, `Patient/${outside}/$everything`);
    assert.equal(response.status, 404);
    assert.deepEqual(calls(), [`GET /fhir/Patient/${outside}`]);
    await s.call(token, `Patient/${inside}/$everything`);
    assert.deepEqual(calls(), [`GET /fhir/Patient/${inside}`, `GET /fhir/Patient/${inside}/$everything`]);
  });

  test('searches that cannot be narrowed are refused for Android users (system search, type history, type operation)', async () => {
    for (const path of ['?_type=Patient', '_history', 'Patient/_history', 'Observation/$lastn']) {
      const response = await s.call(token, path);
      assert.equal(response.status, 403, path);
      assert.match(diagnostics(response), /cannot be narrowed/, path);
      assert.equal(s.received().length, 0, path);
    }
    // Exempt types pass (whatever the test server makes of a type history).
    await s.call(token, 'Questionnaire/_history');
    assert.deepEqual(calls(), ['GET /fhir/Questionnaire/_history']);
  });

  test('_include: included resources outside the scope are removed, matches and exempt includes kept', async () => {
    const inScopeObs = `obs-${inside.slice(4)}`;
    const outOfScopeObs = `obs-${outside.slice(4)}`;
    const [patient, obsIn, obsOut, questionnaire, practitioner] = await Promise.all([
      s.fhir.repo.readResource('Patient', inside),
      s.fhir.repo.readResource('Observation', inScopeObs),
      s.fhir.repo.readResource('Observation', outOfScopeObs),
      s.fhir.repo.readResource('Questionnaire', 'q-registration'),
      s.fhir.repo.readResource('Practitioner', PERSONAS.worker.practitionerId),
    ]);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: patient, search: { mode: 'match' } },
        { resource: obsIn, search: { mode: 'include' } },
        { resource: obsOut, search: { mode: 'include' } },
        { resource: questionnaire, search: { mode: 'include' } },
        { resource: practitioner, search: { mode: 'include' } },
      ],
    };
    s.fhir.intercept((req, res) => {
      if (req.path !== '/fhir/Patient') return false;
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify(bundle));
      return true;
    });
    try {
      const response = await s.call(
        token,
        `Patient?_id=${inside}&_revinclude=Observation:subject&_include:iterate=Patient:general-practitioner`,
      );
      assert.equal(response.status, 200);
      assert.deepEqual(idsIn(response, 'match'), [inside]);
      assert.deepEqual(idsIn(response, 'include'), [inScopeObs, 'q-registration']);
    } finally {
      s.fhir.intercept(undefined);
    }
  });
});
