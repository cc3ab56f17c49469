/**
 * upstream's ListAccessCheckerTest and AccessGrantedAndUpdateListTest, scenario by scenario, over
 * real HTTP against the `list` checker: the List `test-list` holds PATIENT_AUTHORIZED and
 * PATIENT_IN_BUNDLE_1; PATIENT_NON_AUTHORIZED and PATIENT_IN_BUNDLE_2 are outside it.
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
  PATIENT_IN_BUNDLE_1,
  PATIENT_IN_BUNDLE_2,
  PATIENT_NON_AUTHORIZED,
  reason,
  startCheckerStack,
  TEST_LIST_ID,
} from '../checker-kit.js';

describe('ListAccessCheckerTest', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('list');
  });
  after(() => s.close());
  const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    s.call({ patient_list: TEST_LIST_ID }, method, path, options);
  const listed = async () => {
    const list = (await s.fhir.repo.readResource('List', TEST_LIST_ID)) as {
      entry?: { item?: { reference?: string } }[];
    };
    return (list.entry ?? []).map((entry) => entry.item?.reference);
  };
  const writes = () => s.forwarded().filter((line) => /^(POST|PUT|PATCH|DELETE)/.test(line));
  const patientBody = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: 'Smith' }] });

  test('canAccessList: the own List', async () => {
    const response = await call('GET', `List/${TEST_LIST_ID}`);
    assert.equal(response.status, 200);
    assert.equal(response.json().id, TEST_LIST_ID);
  });

  test('canAccessListNotAuthorized: another List is not shown', async () => {
    assert.equal((await call('GET', 'List/other-list')).status, 404);
    assert.equal((await call('GET', 'List?_id=other-list')).status, 403);
  });

  test('canAccessPostPatient: a new Patient is created and added to the List', async () => {
    const response = await call('POST', 'Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'New' }] },
    });
    assert.equal(response.status, 201);
    const id = response.json().id as string;
    assert.ok(id, 'the created Patient is shown to its creator');
    assert.ok((await listed()).includes(`Patient/${id}`));
    assert.equal((await call('GET', `Patient/${id}`)).status, 200, 'the gateway forgot the cached List');
  });

  test('canAccessPutExistingPatient: PUT of a Patient in the List', async () => {
    assert.equal(
      (await call('PUT', `Patient/${PATIENT_AUTHORIZED}`, { body: patientBody(PATIENT_AUTHORIZED) })).status,
      200,
    );
    assert.equal(
      (await listed()).filter((ref) => ref === `Patient/${PATIENT_AUTHORIZED}`).length,
      1,
      'not added twice',
    );
  });

  test('canAccessPutNewPatient: PUT of a Patient id that does not exist creates it and adds it to the List', async () => {
    const response = await call('PUT', 'Patient/put-new-patient', { body: patientBody('put-new-patient') });
    assert.ok(response.status === 200 || response.status === 201, response.text);
    assert.ok((await listed()).includes('Patient/put-new-patient'));
  });

  test('PUT of an existing Patient outside the List is refused (upstream too)', async () => {
    assert.equal(
      (await call('PUT', `Patient/${PATIENT_NON_AUTHORIZED}`, { body: patientBody(PATIENT_NON_AUTHORIZED) }))
        .status,
      403,
    );
    assert.deepEqual(writes(), []);
  });

  test('canAccessPatientWithMultipleIdSearch: Patient?_id=a,b, both in the List', async () => {
    const response = await call('GET', `Patient?_id=${PATIENT_AUTHORIZED},${PATIENT_IN_BUNDLE_1}`);
    assert.equal(response.status, 200);
    assert.equal(entryIds(response.json()).length, 2);
  });

  test('canAccessPatientWithMultipleIdSearchUnauthorized: Patient?_id=a,<outside>', async () => {
    assert.equal(
      (await call('GET', `Patient?_id=${PATIENT_AUTHORIZED},${PATIENT_NON_AUTHORIZED}`)).status,
      403,
    );
  });

  test('canAccessGetObservations: Observation?subject=a,b of two members', async () => {
    const response = await call('GET', `Observation?subject=${PATIENT_AUTHORIZED},${PATIENT_IN_BUNDLE_1}`);
    assert.equal(response.status, 200);
    assert.ok(entryIds(response.json()).includes('Observation/obs-bundle-1'));
  });

  test('canAccessBundleGetNonPatientUnAuthorized: a transaction GET about a patient outside the List', async () => {
    const bundle = transaction([{ method: 'GET', url: `Encounter?patient=${PATIENT_IN_BUNDLE_2}` }]);
    assert.equal((await call('POST', '', { body: bundle })).status, 403);
  });

  test('canAccessBundleGetNonPatientAuthorized: a transaction GET about two members', async () => {
    const bundle = transaction([
      { method: 'GET', url: `Encounter?patient=${PATIENT_AUTHORIZED},${PATIENT_IN_BUNDLE_1}` },
    ]);
    const response = await call('POST', '', { body: bundle });
    assert.equal(response.status, 200);
    assert.deepEqual(entryIds(response.json()).sort(), ['Encounter/enc-auth', 'Encounter/enc-bundle-1']);
  });

  test('canAccessBundleGetPatientNonAuthorized: a GET entry without a url is a 400', async () => {
    const response = await call('POST', '', { body: transaction([{ method: 'GET', url: '' }]) });
    assert.equal(response.status, 400);
  });

  test('canAccessBundlePutExistingPatient: transaction PUTs of two members', async () => {
    const bundle = transaction([
      { method: 'PUT', url: `Patient/${PATIENT_AUTHORIZED}`, resource: patientBody(PATIENT_AUTHORIZED) },
      { method: 'PUT', url: `Patient/${PATIENT_IN_BUNDLE_1}`, resource: patientBody(PATIENT_IN_BUNDLE_1) },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 200);
  });

  test('canAccessBundlePutNewPatient: a transaction PUT of a new Patient adds it to the List', async () => {
    const bundle = transaction([
      { method: 'PUT', url: 'Patient/bundle-new-patient', resource: patientBody('bundle-new-patient') },
      { method: 'PUT', url: `Patient/${PATIENT_IN_BUNDLE_1}`, resource: patientBody(PATIENT_IN_BUNDLE_1) },
    ]);
    const response = await call('POST', '', { body: bundle });
    assert.equal(response.status, 200, response.text);
    assert.ok((await listed()).includes('Patient/bundle-new-patient'));
  });

  test('canAccessBundlePutExistingPatientUnauthorized: a transaction PUT of an existing Patient outside the List', async () => {
    const bundle = transaction([
      {
        method: 'PUT',
        url: `Patient/${PATIENT_NON_AUTHORIZED}`,
        resource: patientBody(PATIENT_NON_AUTHORIZED),
      },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 403);
    assert.deepEqual(writes(), []);
  });

  test('canAccessBundleNonPatientResourcesUnauthorized: a conditional PUT entry that names no patient is a 400', async () => {
    const bundle = transaction([
      {
        method: 'PUT',
        url: 'Encounter?_id=enc-bundle-1',
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: `Patient/${PATIENT_IN_BUNDLE_1}` },
        },
      },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 400);
  });

  test("canAccessBundleNonPatientResourcesAndNewPatient: members' data and a new Patient referenced by urn:uuid", async () => {
    const bundle = transaction([
      {
        method: 'POST',
        url: 'Patient',
        fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
        resource: { resourceType: 'Patient', name: [{ family: 'Fresh' }] },
      },
      {
        method: 'POST',
        url: 'Observation',
        resource: {
          ...observation('x', 'x'),
          id: undefined,
          subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
        },
      },
      {
        method: 'PUT',
        url: `Encounter?_id=enc-bundle-1&patient=Patient/${PATIENT_IN_BUNDLE_1}`,
        resource: {
          resourceType: 'Encounter',
          id: 'enc-bundle-1',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: `Patient/${PATIENT_IN_BUNDLE_1}` },
        },
      },
    ]);
    const response = await call('POST', '', { body: bundle });
    assert.equal(response.status, 200, response.text);
    const created = /Patient\/([A-Za-z0-9-]+)/.exec(
      (response.json().entry as { response: { location: string } }[])[0]!.response.location,
    )![1];
    assert.ok((await listed()).includes(`Patient/${created}`));
  });

  test('canAccessBundlePatchUnauthorized: a transaction patch that moves an Observation to patients outside the List', async () => {
    const bundle = transaction([
      {
        method: 'PATCH',
        url: `Observation?_id=obs-auth-lab&subject=Patient/${PATIENT_AUTHORIZED}`,
        resource: jsonPatchBinary([
          { op: 'replace', path: '/subject/reference', value: 'Patient/bob' },
          { op: 'add', path: '/performer', value: [{ reference: 'Patient/michael' }] },
        ]),
      },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 403);
    assert.deepEqual(writes(), []);
  });

  test('canAccessBundlePostPatient: a transaction that creates a Patient', async () => {
    const bundle = transaction([
      { method: 'POST', url: 'Patient', resource: { resourceType: 'Patient', name: [{ family: 'Darcy' }] } },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 200);
  });

  test('canAccessBundleDeletePatient: a transaction DELETE of a member', async () => {
    const bundle = transaction([{ method: 'DELETE', url: 'Patient/put-new-patient' }]);
    assert.equal((await call('POST', '', { body: bundle })).status, 200);
  });

  test('canAccessBundleDeleteMultiplePatients: a conditional DELETE of two members', async () => {
    const bundle = transaction([
      { method: 'DELETE', url: `Patient?_id=bundle-new-patient,${PATIENT_IN_BUNDLE_1}&name=nobody` },
    ]);
    assert.equal((await call('POST', '', { body: bundle })).status, 200);
  });

  test('canAccessPatchObservationUnauthorizedPatient: a patch to patients outside the List', async () => {
    const ops = [
      { op: 'replace', path: '/subject/reference', value: 'Patient/bob' },
      { op: 'add', path: '/performer', value: [] },
      { op: 'add', path: '/performer/0', value: { reference: 'Patient/michael' } },
    ];
    const response = await call('PATCH', `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-lab`, {
      body: ops,
      contentType: JSON_PATCH,
    });
    assert.equal(response.status, 403);
    assert.deepEqual(writes(), []);
  });

  test('canAccessDeletePatient: DELETE of a member', async () => {
    const response = await call('DELETE', 'Patient/bundle-new-patient');
    assert.ok(response.status < 300, response.text);
  });

  test('canAccessDeletePatientUnauthorized: DELETE of a Patient outside the List looks missing', async () => {
    assert.equal((await call('DELETE', `Patient/${PATIENT_NON_AUTHORIZED}`)).status, 404);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessDeleteAccessListUnauthorized: the own List cannot be deleted, nor overwritten', async () => {
    const response = await call('DELETE', `List/${TEST_LIST_ID}`);
    assert.equal(response.status, 403);
    assert.match(reason(response), /grants your access/);
    const overwrite = await call('PUT', `List?subject=Patient/${PATIENT_AUTHORIZED}`, {
      body: {
        resourceType: 'List',
        id: TEST_LIST_ID,
        status: 'current',
        mode: 'working',
        subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
      },
    });
    assert.equal(overwrite.status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test("canAccessDeleteObservation: conditional DELETE of a member's Observations", async () => {
    const response = await call('DELETE', `Observation?subject=${PATIENT_AUTHORIZED}&_id=nothing-here`);
    assert.ok(response.status < 300, response.text);
  });

  test('canAccessDeleteObservationsForMultiplePatients: subject=a,b of two members', async () => {
    const response = await call(
      'DELETE',
      `Observation?subject=${PATIENT_AUTHORIZED},${PATIENT_IN_BUNDLE_1}&_id=nothing-here`,
    );
    assert.ok(response.status < 300, response.text);
  });

  test('canAccessDeleteObservationsForMultiplePatientsUnauthorized: subject=<outside>,<member>', async () => {
    assert.equal(
      (await call('DELETE', `Observation?subject=${PATIENT_NON_AUTHORIZED},${PATIENT_AUTHORIZED}`)).status,
      403,
    );
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessDeleteObservationUnauthorized: subject=<outside>', async () => {
    assert.equal((await call('DELETE', `Observation?subject=${PATIENT_NON_AUTHORIZED}`)).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('the List is read once and kept; a write of the List through the gateway forgets it', async () => {
    await call('GET', `Patient/${PATIENT_AUTHORIZED}`);
    await call('GET', `Patient/${PATIENT_AUTHORIZED}`);
    assert.deepEqual(
      s.forwarded(),
      [`GET /Patient/${PATIENT_AUTHORIZED}`],
      'the second request read no List',
    );
    // Another user's List about a member, written through the gateway by this user.
    const other = { patient_list: 'shared-list' };
    assert.equal((await s.call(other, 'GET', `Patient/${PATIENT_NON_AUTHORIZED}`)).status, 200);
    const emptied = {
      resourceType: 'List',
      id: 'shared-list',
      status: 'current',
      mode: 'working',
      subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
    };
    assert.equal((await call('PUT', 'List/shared-list', { body: emptied })).status, 200);
    assert.equal(
      (await s.call(other, 'GET', `Patient/${PATIENT_NON_AUTHORIZED}`)).status,
      403,
      'shared-list was read again',
    );
  });
});

describe('AccessGrantedAndUpdateListTest', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('list');
  });
  after(() => s.close());

  test('postProcessNewPatientPost and postProcessNewPatientPut: the List is patched after the create; when that fails, the answer does not show the Patient', async () => {
    const claims = { patient_list: TEST_LIST_ID };
    const post = await s.call(claims, 'POST', 'Patient', {
      body: { resourceType: 'Patient' },
      headers: { prefer: 'return=minimal' },
    });
    assert.equal(post.status, 201);
    assert.deepEqual(s.forwarded().slice(-2), ['POST /Patient', `PATCH /List/${TEST_LIST_ID}`]);
    const put = await s.call(claims, 'PUT', 'Patient/pp-new', {
      body: { resourceType: 'Patient', id: 'pp-new' },
    });
    assert.ok(put.status < 300);
    assert.ok(s.forwarded().includes(`PATCH /List/${TEST_LIST_ID}`));
    // A List the FHIR server does not have: the Patient is created, but it is outside the List, so
    // the answer does not show it (no body; the Location of a create is the client's own).
    const orphan = await s.call({ patient_list: 'no-such-list' }, 'POST', 'Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'Orphan' }] },
    });
    assert.equal(orphan.status, 201);
    assert.doesNotMatch(orphan.text, /Orphan|"resourceType":"Patient"/);
    const orphanPut = await s.call({ patient_list: 'no-such-list' }, 'PUT', 'Patient/pp-orphan', {
      body: { resourceType: 'Patient', id: 'pp-orphan', name: [{ family: 'Orphan' }] },
    });
    assert.ok(orphanPut.status < 300);
    assert.doesNotMatch(orphanPut.text, /Orphan|"resourceType":"Patient"/);
  });
});
