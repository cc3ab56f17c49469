/**
 * ACCESS_CHECKER=patient,list: both checkers must grant, and an answer holds only what both may
 * see; the SMART configuration advertises v2 scopes only while the patient checker runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack } from '../support/stack.js';
import {
  type CheckerStack,
  entryIds,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from './checker-kit.js';

describe('patient,list', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient,list');
  });
  after(() => s.close());
  const claims = (patientId: string) => ({
    patient_id: patientId,
    patient_list: TEST_LIST_ID,
    scope: 'patient/*.rs',
  });

  test("both must grant: the token's patient, and a member of the List", async () => {
    assert.equal(
      (await s.call(claims(PATIENT_AUTHORIZED), 'GET', `Patient/${PATIENT_AUTHORIZED}`)).status,
      200,
    );
    assert.equal(
      (await s.call(claims(PATIENT_AUTHORIZED), 'GET', `Patient/${PATIENT_IN_BUNDLE_1}`)).status,
      403,
    );
    assert.equal(
      (await s.call(claims(PATIENT_NON_AUTHORIZED), 'GET', `Patient/${PATIENT_NON_AUTHORIZED}`)).status,
      403,
    );
    assert.equal(
      (
        await s.call(
          { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.rs' },
          'GET',
          `Patient/${PATIENT_AUTHORIZED}`,
        )
      ).status,
      401,
    );
  });

  test('an answer holds what both may see', async () => {
    const response = await s.call(
      claims(PATIENT_AUTHORIZED),
      'GET',
      `Observation?subject=${PATIENT_AUTHORIZED}&_include=Observation:subject`,
    );
    assert.equal(response.status, 200);
    assert.ok(entryIds(response.json()).includes(`Patient/${PATIENT_AUTHORIZED}`));
    const write = await s.call(claims(PATIENT_AUTHORIZED), 'DELETE', 'Observation/obs-auth-lab');
    assert.equal(write.status, 403, 'patient/*.rs grants no delete');
  });
});

test('smart-configuration advertises permission-v2 and the enforced scopes only with the patient checker', async () => {
  const patient = await startStack({ env: { ACCESS_CHECKER: 'patient', RUN_MODE: 'PROD' } });
  try {
    const document = (await (
      await fetch(`${patient.fhirBase}/.well-known/smart-configuration`)
    ).json()) as Record<string, string[]>;
    assert.ok(document.capabilities!.includes('permission-v2'));
    assert.ok(document.capabilities!.includes('permission-v1'));
    assert.ok(document.scopes_supported!.includes('patient/*.cruds'));
    assert.ok(document.scopes_supported!.includes('openid'), "the issuer's own scopes are kept");
  } finally {
    await patient.close();
  }
  const permissive = await startStack();
  try {
    const document = (await (
      await fetch(`${permissive.fhirBase}/.well-known/smart-configuration`)
    ).json()) as Record<string, string[]>;
    assert.ok(!document.capabilities!.includes('permission-v2'));
  } finally {
    await permissive.close();
  }
});
