/**
 * RT6 — granular scopes: a conditional create searches the patient's compartment with the
 * client's `If-None-Exist`, whatever the app may read: 200 (a match exists; its body is removed)
 * or 201 tells whether a resource the scopes hide matches any criteria (`_id`, a code, a date).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  category,
  LAB,
  observation,
  PATIENT_AUTHORIZED,
  startCheckerStack,
} from '../../checkers/checker-kit.js';

describe('RT6 If-None-Exist is an oracle on what the scopes hide', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED, category('laboratory'));
  const create = (scope: string, condition: string) =>
    s.call({ patient_id: PATIENT_AUTHORIZED, scope }, 'POST', 'Observation', {
      body,
      headers: { 'if-none-exist': condition },
    });

  for (const scope of [
    `patient/Observation.crs?category=${encodeURIComponent(LAB)}`,
    `patient/Observation.c?category=${encodeURIComponent(LAB)}`,
    'patient/Observation.c',
  ]) {
    test(`RT6 ${scope}: a hidden match and no match answer alike`, async () => {
      const before = (await s.fhir.repo.searchResources({ resourceType: 'Observation' })).length;
      const hidden = await create(scope, `subject=Patient/${PATIENT_AUTHORIZED}&_id=obs-auth-vital`);
      const none = await create(scope, `subject=Patient/${PATIENT_AUTHORIZED}&_id=nobody-here`);
      assert.equal(hidden.status, none.status, `${hidden.status} ${hidden.text}`);
      const after = (await s.fhir.repo.searchResources({ resourceType: 'Observation' })).length;
      assert.equal(after - before, hidden.status === 201 ? 2 : 0);
    });
  }

  test('RT6 with an unconstrained read scope the conditional create works', async () => {
    const response = await create(
      'patient/Observation.crs',
      `subject=Patient/${PATIENT_AUTHORIZED}&_id=obs-auth-vital`,
    );
    assert.equal(response.status, 200);
  });
});
