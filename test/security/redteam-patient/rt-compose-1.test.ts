/**
 * RT-COMPOSE-1 — ACCESS_CHECKER=patient,list with granular `u`/`d` scopes: a resource the patient
 * checker may read (in its compartment, `r` without criteria) but the list checker hides answered a
 * DELETE or PATCH with 403 ("Observation/<id> does not match the criteria of the scopes that grant
 * delete") where a missing id answers 404. The scope half's refusal depends on the stored version
 * but was not marked `afterReading`, so the list checker's 404 never got its say (the F2 fix covered
 * only the compartment half). Fixed: src/smart/scope-access.ts marks those refusals afterReading.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  JSON_PATCH,
  LAB,
  PATIENT_AUTHORIZED,
  startCheckerStack,
} from '../../checkers/checker-kit.js';

const scope = `patient/Observation.rs patient/Observation.ud?category=${encodeURIComponent(LAB)}`;
const patch = { body: [{ op: 'replace', path: '/status', value: 'amended' }], contentType: JSON_PATCH };

describe('RT-COMPOSE-1 patient,list: a u/d-criteria refusal of a resource the list hides', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient,list');
  });
  after(() => s.close());
  // The patient checker sees obs-auth-vital (its patient's); other-list holds only another patient.
  const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    s.call({ patient_id: PATIENT_AUTHORIZED, patient_list: 'other-list', scope }, method, path, options);

  for (const [method, options] of [
    ['DELETE', undefined],
    ['PATCH', patch],
  ] as const) {
    test(`${method} of a hidden vital-sign answers 404, as a missing id does`, async () => {
      const missing = await call(method, 'Observation/nobody-here', options);
      const hidden = await call(method, 'Observation/obs-auth-vital', options);
      assert.equal(missing.status, 404, missing.text);
      assert.equal(hidden.status, 404, hidden.text);
      assert.ok(!hidden.text.includes('criteria'), hidden.text);
      assert.ok(!s.forwarded().some((line) => line.startsWith(method)), s.forwarded().join('\n'));
    });
  }

  test('a resource both checkers see still gets the 403 naming the criteria', async () => {
    const both = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call({ patient_id: PATIENT_AUTHORIZED, patient_list: 'test-list', scope }, method, path, options);
    const response = await both('DELETE', 'Observation/obs-auth-vital');
    assert.equal(response.status, 403, response.text);
    assert.ok(response.text.includes('criteria'), response.text);
  });
});
