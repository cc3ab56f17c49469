/**
 * The scenarios of upstream's PermissionAccessCheckerTest (onaio/fhir-gateway-extension), one test
 * each, named after the upstream case. Upstream's class is @Ignore'd; here they run over real HTTP
 * with a WEB_CLIENT user (the client role upstream's mocks lacked), asserting what the backend got.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diagnostics, type PermissionStack, startPermissionStack } from './permissions-stack.js';

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack();
});
after(() => gw.close());

const as = (...roles: string[]) => ['WEB_CLIENT', ...roles];
const patientId = (n: number) => `pat-d2-f2-v${n}-1`;
const patient = (id: string) => ({ resourceType: 'Patient', id, gender: 'female' });
const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const putEntry = (resource: { resourceType: string; id: string }) => ({
  resource,
  request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
});

async function expectGranted(response: { status: number; text: string }, forwarded: string[]): Promise<void> {
  assert.ok(response.status < 300, `${response.status} ${response.text}`);
  assert.deepEqual(gw.forwarded(), forwarded);
}

function expectDenied(response: { status: number; text: string }): void {
  assert.equal(response.status, 403, response.text);
  assert.deepEqual(gw.forwarded(), []);
}

describe('PermissionAccessCheckerTest, single requests', () => {
  const read = `Patient/${patientId(1)}`;

  test('testManagePatientRoleCanAccessGetPatient', async () => {
    await expectGranted(await gw.call('GET', read, { roles: as('MANAGE_PATIENT') }), [`GET /${read}`]);
  });

  test('testGetPatientRoleCanAccessGetPatient', async () => {
    await expectGranted(await gw.call('GET', read, { roles: as('GET_PATIENT') }), [`GET /${read}`]);
  });

  test('testGetPatientWithoutRoleCannotAccessGetPatient', async () => {
    expectDenied(await gw.call('GET', read, { roles: as('') }));
  });

  test('testDeletePatientRoleCanAccessDeletePatient', async () => {
    const path = `Patient/${patientId(2)}`;
    await expectGranted(await gw.call('DELETE', path, { roles: as('DELETE_PATIENT') }), [`DELETE /${path}`]);
  });

  test('testManagePatientRoleCanAccessDeletePatient', async () => {
    const path = `Patient/${patientId(3)}`;
    await expectGranted(await gw.call('DELETE', path, { roles: as('MANAGE_PATIENT') }), [`DELETE /${path}`]);
  });

  test('testDeletePatientWithoutRoleCannotAccessDeletePatient', async () => {
    expectDenied(await gw.call('DELETE', read, { roles: as('') }));
  });

  test('testPutWithManagePatientRoleCanAccessPutPatient', async () => {
    const response = await gw.call('PUT', read, { roles: as('MANAGE_PATIENT'), body: patient(patientId(1)) });
    await expectGranted(response, [`PUT /${read}`]);
  });

  test('testPutPatientWithRoleCanAccessPutPatient', async () => {
    const response = await gw.call('PUT', read, { roles: as('PUT_PATIENT'), body: patient(patientId(1)) });
    await expectGranted(response, [`PUT /${read}`]);
  });

  test('testPutPatientWithoutRoleCannotAccessPutPatient', async () => {
    expectDenied(await gw.call('PUT', read, { roles: as(''), body: patient(patientId(1)) }));
  });

  test('testPostPatientWithRoleCanAccessPostPatient', async () => {
    const response = await gw.call('POST', 'Patient', {
      roles: as('POST_PATIENT'),
      body: { resourceType: 'Patient' },
    });
    await expectGranted(response, ['POST /Patient']);
  });

  test('testPostPatientWithoutRoleCannotAccessPostPatient', async () => {
    expectDenied(await gw.call('POST', 'Patient', { roles: as(''), body: { resourceType: 'Patient' } }));
  });
});

describe('PermissionAccessCheckerTest, transaction bundles', () => {
  const putPatients = transaction([putEntry(patient('bundle-pat-1')), putEntry(patient('bundle-pat-2'))]);
  const mixed = transaction([
    putEntry(patient('bundle-pat-3')),
    putEntry({
      resourceType: 'Observation',
      id: 'bundle-obs-1',
      status: 'final',
      code: { text: 'w' },
    } as never),
    putEntry({
      resourceType: 'Encounter',
      id: 'bundle-enc-1',
      status: 'finished',
      class: { code: 'AMB' },
    } as never),
  ]);
  // Upstream's DELETE entries had to carry a resource; here they have none, as FHIR says.
  const deletes = transaction([
    { request: { method: 'DELETE', url: 'Patient/pat-d2-f1-v1-2' } },
    { request: { method: 'DELETE', url: 'Patient/bundle-pat-2' } },
  ]);
  // test_bundle_transaction.json: a POST and a PUT of Patients.
  const postAndPut = transaction([
    { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
    putEntry(patient('bundle-pat-4')),
  ]);

  test('testManageResourceRoleCanAccessBundlePutResources', async () => {
    await expectGranted(await gw.call('POST', '', { roles: as('MANAGE_PATIENT'), body: putPatients }), [
      'POST /',
    ]);
  });

  test('testPutResourceRoleCanAccessBundlePutResources', async () => {
    await expectGranted(await gw.call('POST', '', { roles: as('PUT_PATIENT'), body: putPatients }), [
      'POST /',
    ]);
  });

  test('testDeleteResourceRoleCanAccessBundleDeleteResources', async () => {
    await expectGranted(await gw.call('POST', '', { roles: as('DELETE_PATIENT'), body: deletes }), [
      'POST /',
    ]);
  });

  test('testWithCorrectRolesCanAccessDifferentTypeBundleResources', async () => {
    const roles = as('PUT_PATIENT', 'PUT_OBSERVATION', 'PUT_ENCOUNTER');
    await expectGranted(await gw.call('POST', '', { roles, body: mixed }), ['POST /']);
  });

  test('testManageResourcesCanAccessDifferentTypeBundleResources', async () => {
    const roles = as('MANAGE_PATIENT', 'MANAGE_OBSERVATION', 'MANAGE_ENCOUNTER');
    await expectGranted(await gw.call('POST', '', { roles, body: mixed }), ['POST /']);
  });

  test('testManageResourcesWithMissingRoleCannotAccessDifferentTypeBundleResources', async () => {
    const response = await gw.call('POST', '', {
      roles: as('MANAGE_PATIENT', 'MANAGE_ENCOUNTER'),
      body: mixed,
    });
    expectDenied(response);
    assert.match(diagnostics(response), /PUT_OBSERVATION or MANAGE_OBSERVATION/);
  });

  test('testBundleResourceNonTransactionTypeThrowsException (a batch is now checked too; other types are 400)', async () => {
    const response = await gw.call('POST', '', {
      roles: as('MANAGE_PATIENT'),
      body: { resourceType: 'Bundle', type: 'collection', entry: [] },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('testAccessGrantedWhenManageResourcePresentForTypeBundleResources', async () => {
    await expectGranted(await gw.call('POST', '', { roles: as('MANAGE_PATIENT'), body: postAndPut }), [
      'POST /',
    ]);
  });

  test('testAccessGrantedWhenAllRolesPresentForTypeBundleResources', async () => {
    const response = await gw.call('POST', '', {
      roles: as('PUT_PATIENT', 'POST_PATIENT'),
      body: postAndPut,
    });
    await expectGranted(response, ['POST /']);
  });

  test('testAccessDeniedWhenSingleRoleMissingForTypeBundleResources', async () => {
    const response = await gw.call('POST', '', { roles: as('PUT_PATIENT'), body: postAndPut });
    expectDenied(response);
    assert.match(diagnostics(response), /entry 0 \(POST Patient\) needs role POST_PATIENT or MANAGE_PATIENT/);
  });
});
