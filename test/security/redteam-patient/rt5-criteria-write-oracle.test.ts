/**
 * RT5 — granular scopes: a resource in the patient's compartment but outside every `r`
 * criterion reads as missing (404), yet a DELETE or PATCH of it answered 403 naming it
 * ("Observation/<id> does not match the criteria …"), where a missing id answers 404: an
 * existence oracle on the resources the scopes hide (a sensitive category, say). A conditional
 * PATCH named the hidden match's id for any search of the compartment.
 */
import assert from 'node:assert/strict';
import type { Observation } from '@medplum/fhirtypes';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  JSON_PATCH,
  LAB,
  PATIENT_AUTHORIZED,
  reason,
  startCheckerStack,
} from '../../checkers/checker-kit.js';

const lab = encodeURIComponent(LAB);
const patch = { body: [{ op: 'replace', path: '/status', value: 'amended' }], contentType: JSON_PATCH };
const shape = (response: { status: number }, text: string, id: string) => ({
  status: response.status,
  reason: text.split(id).join('<id>'),
});

describe('RT5 writes outside the criteria tell hidden from missing', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const as =
    (scope: string) => (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call({ patient_id: PATIENT_AUTHORIZED, scope }, method, path, options);

  test('RT5 DELETE of a hidden Observation answers as for a missing one', async () => {
    const call = as(`patient/Observation.rds?category=${lab}`);
    const hidden = await call('DELETE', 'Observation/obs-auth-vital');
    const missing = await call('DELETE', 'Observation/nobody-here');
    assert.deepEqual(
      shape(hidden, reason(hidden), 'obs-auth-vital'),
      shape(missing, reason(missing), 'nobody-here'),
    );
    assert.equal(hidden.status, 404);
    assert.ok(!s.forwarded().some((line) => line.startsWith('DELETE')));
  });

  test('RT5 variant: PATCH of a hidden Observation answers as for a missing one', async () => {
    const call = as(`patient/Observation.rus?category=${lab}`);
    const hidden = await call('PATCH', 'Observation/obs-auth-vital', patch);
    const missing = await call('PATCH', 'Observation/nobody-here', patch);
    assert.deepEqual(
      shape(hidden, reason(hidden), 'obs-auth-vital'),
      shape(missing, reason(missing), 'nobody-here'),
    );
    assert.ok(!s.forwarded().some((line) => line.startsWith('PATCH')));
  });

  test('RT5 variant: a conditional PATCH does not name a hidden match', async () => {
    const call = as(`patient/Observation.rus?category=${lab}`);
    const response = await call(
      'PATCH',
      `Observation?subject=Patient/${PATIENT_AUTHORIZED}&category=vital-signs`,
      patch,
    );
    assert.doesNotMatch(response.text, /obs-auth-vital/);
    const none = await call(
      'PATCH',
      `Observation?subject=Patient/${PATIENT_AUTHORIZED}&category=none`,
      patch,
    );
    assert.equal(response.status, none.status);
    assert.equal(reason(response), reason(none));
    assert.equal(
      (await s.fhir.repo.readResource<Observation>('Observation', 'obs-auth-vital')).status,
      'final',
    );
  });

  test('RT5 a readable Observation outside the d criteria still gets 403 with the reason', async () => {
    const call = as(`patient/Observation.rs patient/Observation.d?category=${lab}`);
    const response = await call('DELETE', 'Observation/obs-auth-vital');
    assert.equal(response.status, 403);
    assert.match(reason(response), /criteria/);
  });
});
