/**
 * RT4 — a Bundle entry's fullUrl is trusted as an alias whatever it is. An entry
 * `PUT Patient/<me>` with `fullUrl: "Patient/<other>"` made the gateway resolve every reference
 * `Patient/<other>` in the Bundle to `Patient/<me>`; the FHIR server substitutes only the
 * placeholders it assigns (`urn:uuid:`), so an Encounter about the other patient (whose only
 * compartment param is its subject) was written into their record.
 */
import assert from 'node:assert/strict';
import type { Encounter } from '@medplum/fhirtypes';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const ME = `Patient/${PATIENT_AUTHORIZED}`;
const OTHER = `Patient/${PATIENT_NON_AUTHORIZED}`;

function aliasing(alias: string, reference: string) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: alias,
        resource: { resourceType: 'Patient', id: PATIENT_AUTHORIZED, name: [{ family: 'Authorized' }] },
        request: { method: 'PUT', url: ME },
      },
      {
        fullUrl: 'urn:uuid:4b0f0c4e-2f33-4d5b-9d3c-0b3a4f1c9e01',
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference },
        },
        request: { method: 'POST', url: 'Encounter' },
      },
    ],
  };
}

describe('RT4 a fullUrl that is not a placeholder aliases another patient', () => {
  let patient: CheckerStack;
  let list: CheckerStack;
  before(async () => {
    [patient, list] = await Promise.all([startCheckerStack('patient'), startCheckerStack('list')]);
  });
  after(async () => {
    await Promise.all([patient.close(), list.close()]);
  });
  const encountersOfOther = async (s: CheckerStack) =>
    (await s.fhir.repo.searchResources<Encounter>({ resourceType: 'Encounter' })).filter((e) =>
      e.subject?.reference?.endsWith(PATIENT_NON_AUTHORIZED),
    );
  for (const [name, claims] of [
    ['patient', { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' }],
    ['list', { patient_list: TEST_LIST_ID }],
  ] as const) {
    for (const alias of [OTHER, `${'http://fhir.example.org/fhir'}/${OTHER}`]) {
      test(`RT4 ${name}: fullUrl ${alias} does not make ${OTHER} the caller's patient`, async () => {
        const s = name === 'patient' ? patient : list;
        const response = await s.call(claims, 'POST', '', { body: aliasing(alias, alias) });
        assert.equal(response.status, 403, response.text);
        assert.ok(!s.forwarded().some((line) => line.startsWith('POST')));
        assert.deepEqual(await encountersOfOther(s), []);
      });
    }
  }
});
