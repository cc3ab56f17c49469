/**
 * upstream's PatientAccessCheckerTest, scenario by scenario, over real HTTP against the `patient`
 * checker (token: `patient_id` + SMART `scope`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { transaction } from '../access-checker-test-base.js';
import {
  type CheckerStack,
  JSON_PATCH,
  jsonPatchBinary,
  observation,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  PATIENT_NON_AUTHORIZED,
  reason,
  startCheckerStack,
} from '../checker-kit.js';

const ALL = 'patient/*.*';

describe('PatientAccessCheckerTest', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const as =
    (scope: string) => (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call({ patient_id: PATIENT_AUTHORIZED, scope }, method, path, options);
  const call = as(ALL);
  const patientBody = (id: string) => ({
    resourceType: 'Patient',
    id,
    name: [{ family: 'Smith', given: ['Darcy'] }],
  });
  const noPost = () =>
    assert.ok(!s.forwarded().some((line) => /^(POST|PUT|PATCH|DELETE)/.test(line)), s.forwarded().join());

  test('canAccessPostPatient: a patient cannot create Patients', async () => {
    const response = await call('POST', 'Patient', { body: { resourceType: 'Patient' } });
    assert.equal(response.status, 403);
    noPost();
  });

  test('canAccessPutPatient: PUT of the own Patient', async () => {
    const response = await call('PUT', `Patient/${PATIENT_AUTHORIZED}`, {
      body: patientBody(PATIENT_AUTHORIZED),
    });
    assert.equal(response.status, 200);
  });

  test('canAccessPutUnauthorizedPatient: PUT of another Patient', async () => {
    const response = await call('PUT', `Patient/${PATIENT_NON_AUTHORIZED}`, {
      body: patientBody(PATIENT_NON_AUTHORIZED),
    });
    assert.equal(response.status, 403);
    noPost();
  });

  test("canAccessBundleGetNonPatientUnauthorized: a transaction GET of another patient's Encounters", async () => {
    const response = await call('POST', '', {
      body: transaction([{ method: 'GET', url: `Encounter?patient=${PATIENT_IN_BUNDLE_1}` }]),
    });
    assert.equal(response.status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessBundlePostPatientUnAuthorized: a transaction that creates a Patient', async () => {
    const bundle = transaction([{ method: 'POST', url: 'Patient', resource: { resourceType: 'Patient' } }]);
    assert.equal((await call('POST', '', { body: bundle })).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessBundleDeletePatientUnAuthorized: a transaction that deletes the own Patient', async () => {
    const bundle = transaction([{ method: 'DELETE', url: `Patient/${PATIENT_AUTHORIZED}` }]);
    assert.equal((await call('POST', '', { body: bundle })).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessPatchObservationUnauthorizedPatient: a patch that moves the Observation to other patients', async () => {
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
    noPost();
  });

  test('canAccessDeletePatientUnauthorized: a patient cannot delete Patients', async () => {
    assert.equal((await call('DELETE', `Patient/${PATIENT_AUTHORIZED}`)).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessDeleteObservationAuthorized: conditional DELETE of the own Observations', async () => {
    const response = await call('DELETE', `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-never-there`);
    assert.ok(response.status < 300, `${response.status} ${response.text}`);
  });

  test('canAccessPatchObservationNoValidPermissionForPatient: PATCH needs an update scope (patient/Patient.write patient/Observation.read)', async () => {
    const ops = [{ op: 'replace', path: '/status', value: 'amended' }];
    const response = await as('patient/Patient.write patient/Observation.read')(
      'PATCH',
      `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-lab`,
      { body: ops, contentType: JSON_PATCH },
    );
    assert.equal(response.status, 403);
    assert.match(reason(response), /update \(u\) of Observation/);
    noPost();
  });

  test('canAccessPutObservationInvalidPermissionScope: a malformed scope is ignored (403), never a 500', async () => {
    const body = observation('obs-auth-lab', PATIENT_AUTHORIZED);
    const response = await as('patient/Observation.invalid')(
      'PUT',
      `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-lab`,
      { body },
    );
    assert.equal(response.status, 403);
    assert.match(reason(response), /grant no update/);
    assert.equal((await as('patient/Observation.invalid')('PUT', 'Observation', { body })).status, 400);
  });

  test('canAccessBundlePutPatient: a transaction PUT of the own Patient', async () => {
    const bundle = transaction([
      { method: 'PUT', url: `Patient/${PATIENT_AUTHORIZED}`, resource: patientBody(PATIENT_AUTHORIZED) },
    ]);
    const response = await call('POST', '', { body: bundle });
    assert.equal(response.status, 200, response.text);
  });

  test("canAccessDeleteObservationUnauthorized: conditional DELETE of another patient's Observations", async () => {
    assert.equal((await call('DELETE', `Observation?subject=${PATIENT_NON_AUTHORIZED}`)).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessBundlePutPatientNoValidPermission: patient/Observation.* grants no update of Patient', async () => {
    const bundle = transaction([
      { method: 'PUT', url: `Patient/${PATIENT_AUTHORIZED}`, resource: patientBody(PATIENT_AUTHORIZED) },
    ]);
    assert.equal((await as('patient/Observation.*')('POST', '', { body: bundle })).status, 403);
    noPost();
  });

  const patchBundle = () =>
    transaction([
      {
        method: 'PATCH',
        url: `Patient/${PATIENT_AUTHORIZED}`,
        fullUrl: `Patient/${PATIENT_AUTHORIZED}`,
        resource: jsonPatchBinary([{ op: 'add', path: '/active', value: true }]),
      },
      {
        method: 'PATCH',
        url: `Observation?_id=obs-auth-vital&subject=Patient/${PATIENT_AUTHORIZED}`,
        resource: jsonPatchBinary([
          { op: 'add', path: '/performer', value: [{ reference: `Patient/${PATIENT_AUTHORIZED}` }] },
        ]),
      },
    ]);

  test('canAccessBundlePatchResources: a transaction of JSON Patches that stay in the compartment', async () => {
    const response = await call('POST', '', { body: patchBundle() });
    assert.equal(response.status, 200, response.text);
  });

  test('canAccessBundlePatchResourcesNoValidPermission: patient/Observation.* grants no patch of Patient', async () => {
    assert.equal((await as('patient/Observation.*')('POST', '', { body: patchBundle() })).status, 403);
    noPost();
  });

  test('canAccessBundleSearchResources: a transaction GET of the own Encounters', async () => {
    const response = await call('POST', '', {
      body: transaction([{ method: 'GET', url: `Encounter?patient=${PATIENT_AUTHORIZED}` }]),
    });
    assert.equal(response.status, 200, response.text);
    assert.match(response.text, /enc-auth/);
  });

  test('canAccessBundleSearchResourcesNoValidPermission: patient/Observation.* grants no search of Encounter', async () => {
    const bundle = transaction([{ method: 'GET', url: `Encounter?patient=${PATIENT_AUTHORIZED}` }]);
    assert.equal((await as('patient/Observation.*')('POST', '', { body: bundle })).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('canAccessGetObservationMultipleSubjectsUnauthorized: Observation?subject=<me>,<other>', async () => {
    const response = await call('GET', `Observation?subject=${PATIENT_AUTHORIZED},${PATIENT_NON_AUTHORIZED}`);
    assert.equal(response.status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('a token without a patient_id (or patient) claim gets 401; `patient` is accepted as the claim name', async () => {
    assert.equal((await s.call({ scope: ALL }, 'GET', `Patient/${PATIENT_AUTHORIZED}`)).status, 401);
    assert.equal(
      (await s.call({ patient_id: 'bad id!', scope: ALL }, 'GET', `Patient/${PATIENT_AUTHORIZED}`)).status,
      401,
    );
    assert.equal(
      (await s.call({ patient: PATIENT_AUTHORIZED, scope: ALL }, 'GET', `Patient/${PATIENT_AUTHORIZED}`))
        .status,
      200,
    );
  });

  test('scope as a JSON array works (upstream answered 401)', async () => {
    const response = await s.call(
      { patient_id: PATIENT_AUTHORIZED, scope: ['openid', 'patient/Patient.rs'] },
      'GET',
      `Patient/${PATIENT_AUTHORIZED}`,
    );
    assert.equal(response.status, 200);
  });
});
