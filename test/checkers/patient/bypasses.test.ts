/**
 * Every bypass of the Java checkers found by code reading (../shared/spec/google-fhir-gateway.md
 * §10.3), closed: each is refused, or answered with the joined resources outside the compartment
 * removed, and nothing unauthorized reaches the FHIR server or the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { transaction } from '../access-checker-test-base.js';
import {
  type CheckerStack,
  entryIds,
  JSON_PATCH,
  jsonPatchBinary,
  observation,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../checker-kit.js';

const OTHER = `Patient/${PATIENT_NON_AUTHORIZED}`;

describe('spec §10.3 bypasses, closed', () => {
  let patient: CheckerStack;
  let list: CheckerStack;
  before(async () => {
    [patient, list] = await Promise.all([startCheckerStack('patient'), startCheckerStack('list')]);
  });
  after(async () => {
    await Promise.all([patient.close(), list.close()]);
  });
  const asPatient =
    (scope = 'patient/*.*') =>
    (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      patient.call({ patient_id: PATIENT_AUTHORIZED, scope }, method, path, options);
  const asList = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    list.call({ patient_list: TEST_LIST_ID }, method, path, options);
  const both = [
    ['patient', asPatient()],
    ['list', asList],
  ] as const;

  test('1. _include:iterate and _revinclude:iterate: joined resources outside the compartment are removed', async () => {
    for (const [name, call] of both) {
      const response = await call(
        'GET',
        `Observation?performer=${PATIENT_AUTHORIZED}&_include:iterate=Observation:subject`,
      );
      assert.equal(response.status, 200, name);
      assert.ok(entryIds(response.json()).includes('Observation/obs-other'), name);
      assert.ok(!entryIds(response.json()).includes(OTHER), name);
      assert.doesNotMatch(response.text, /"family":"Other"/, name);
      const rev = await call(
        'GET',
        `Patient?_id=${PATIENT_AUTHORIZED}&_revinclude:iterate=Observation:subject`,
      );
      assert.ok(!entryIds(rev.json()).includes('Observation/obs-other-only'), name);
    }
  });

  test('1b. every real _has key is refused, not only the bare name', async () => {
    for (const [name, call] of both) {
      const response = await call(
        'GET',
        `Patient?_id=${PATIENT_AUTHORIZED}&_has:Observation:subject:code=weight`,
      );
      assert.equal(response.status, 400, name);
    }
    assert.deepEqual([...patient.forwarded(), ...list.forwarded()], []);
  });

  test('2. Patient searches are held to the join rules: _include=Patient:link and _revinclude=Patient:link show no other patient', async () => {
    for (const [name, call] of both) {
      for (const join of [
        '_revinclude=Patient:link',
        '_include=Patient:link',
        '_revinclude=Observation:performer',
      ]) {
        const response = await call('GET', `Patient?_id=${PATIENT_AUTHORIZED}&${join}`);
        assert.equal(response.status, 200, `${name} ${join}`);
        assert.ok(!entryIds(response.json()).includes(OTHER), `${name} ${join}`);
        assert.doesNotMatch(response.text, /"family":"Other"/);
      }
    }
  });

  test('3. a mixed reference list (subject=Group/g,Patient/p) is refused', async () => {
    for (const [name, call] of both) {
      const response = await call('GET', `Observation?subject=Group/g1,Patient/${PATIENT_AUTHORIZED}`);
      assert.equal(response.status, 403, name);
    }
    assert.deepEqual([...patient.forwarded(), ...list.forwarded()], []);
  });

  test('4. POST Patient/_search and POST Patient/$op are not creates: the list checker holds them to the search and operation rules', async () => {
    const search = await asList('POST', 'Patient/_search', {
      body: 'name=Other',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(search.status, 403);
    const op = await asList('POST', 'Patient/$validate', { body: { resourceType: 'Patient' } });
    assert.equal(op.status, 403);
    assert.deepEqual(list.forwarded(), []);
    const own = await asList('POST', 'Patient/_search', {
      body: `_id=${PATIENT_AUTHORIZED}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(own.status, 200);
  });

  test('5. identity is never taken from Content-Location: the header does not reach the FHIR server', async () => {
    for (const [name, call] of both) {
      const conditional = await call('PUT', 'Patient?identifier=x', {
        body: { resourceType: 'Patient' },
        headers: { 'content-location': `Patient/${PATIENT_AUTHORIZED}` },
      });
      assert.equal(conditional.status, 403, name);
    }
    assert.deepEqual([...patient.forwarded(), ...list.forwarded()], []);
    const granted = await asPatient()('PUT', `Patient/${PATIENT_AUTHORIZED}`, {
      body: { resourceType: 'Patient', id: PATIENT_AUTHORIZED },
      headers: { 'content-location': OTHER },
    });
    assert.equal(granted.status, 200);
    const put = patient.fhir.requests.find((r) => r.method === 'PUT')!;
    assert.equal(put.path, `/fhir/Patient/${PATIENT_AUTHORIZED}`);
    assert.equal(put.headers['content-location'], undefined);
  });

  test('6. PATCH needs the update scope even when it touches no patient reference', async () => {
    const response = await asPatient('patient/Observation.rs')(
      'PATCH',
      `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-lab`,
      {
        body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
        contentType: JSON_PATCH,
      },
    );
    assert.equal(response.status, 403);
    assert.deepEqual(patient.forwarded(), []);
  });

  test('8. a Bundle PATCH is inspected with or without fullUrl', async () => {
    const bundle = transaction([
      {
        method: 'PATCH',
        url: 'Observation/obs-auth-vital',
        resource: jsonPatchBinary([{ op: 'replace', path: '/subject/reference', value: OTHER }]),
      },
    ]);
    for (const [name, call] of both) {
      const response = await call('POST', '', { body: bundle });
      assert.equal(response.status, 403, name);
    }
    assert.ok(![...patient.forwarded(), ...list.forwarded()].some((line) => line.startsWith('POST')));
  });

  test('9. the access List cannot be overwritten by a conditional PUT', async () => {
    const response = await asList('PUT', `List?subject=Patient/${PATIENT_AUTHORIZED}`, {
      body: {
        resourceType: 'List',
        id: TEST_LIST_ID,
        status: 'current',
        mode: 'working',
        subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
      },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(list.forwarded(), []);
  });

  test('batch Bundles (refused upstream) work, each entry checked and each answer held to the compartment', async () => {
    const batch = transaction(
      [
        { method: 'GET', url: `Observation?subject=${PATIENT_AUTHORIZED}&_include=Observation:performer` },
        { method: 'GET', url: 'Observation/obs-auth-lab' },
      ],
      'batch',
    );
    for (const [name, call] of both) {
      const response = await call('POST', '', { body: batch });
      assert.equal(response.status, 200, name);
      assert.ok(entryIds(response.json()).includes('Observation/obs-auth-lab'), name);
      const refused = await call('POST', '', {
        body: transaction([{ method: 'GET', url: `Observation?subject=${OTHER}` }], 'batch'),
      });
      assert.equal(refused.status, 403, name);
    }
  });

  test('a conditional create searches only the compartment; a reference that is a search is refused', async () => {
    for (const [name, call] of both) {
      const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED);
      const wide = await call('POST', 'Observation', { body, headers: { 'if-none-exist': 'code=weight' } });
      assert.equal(wide.status, 400, name);
      const narrow = await call('POST', 'Observation', {
        body,
        headers: { 'if-none-exist': `subject=${PATIENT_AUTHORIZED}&code=nothing-like-this` },
      });
      assert.equal(narrow.status, 201, name);
      const searchRef = await call('POST', 'Observation', {
        body: { ...body, performer: [{ reference: 'Patient?name=Other' }] },
      });
      assert.equal(searchRef.status, 400, name);
    }
  });

  test('history and versions follow the current version; other compartments, system searches and unknown operations are refused', async () => {
    for (const [name, call] of both) {
      assert.equal((await call('GET', 'Observation/obs-other-only/_history')).status, 404, name);
      assert.equal((await call('GET', 'Observation/obs-other-only/_history/1')).status, 404, name);
      assert.equal((await call('GET', `Patient/${PATIENT_NON_AUTHORIZED}/Observation`)).status, 403, name);
      assert.equal((await call('GET', '?_type=Observation')).status, 403, name);
      assert.equal((await call('GET', 'Observation/_history')).status, 403, name);
      assert.equal(
        (await call('POST', '$graphql', { body: { query: '{ PatientList { id } }' } })).status,
        403,
        name,
      );
      const everything = await call('GET', `Patient/${PATIENT_AUTHORIZED}/$everything`);
      assert.equal(everything.status, 200, name);
      assert.doesNotMatch(everything.text, /obs-other-only|"family":"Other"/, name);
    }
  });
});
