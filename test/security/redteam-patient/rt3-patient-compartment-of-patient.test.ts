/**
 * RT3 — `GET Patient/<me>/Patient` is a compartment search, granted because the owner is the
 * caller's patient and Patient is "in a patient's compartment". But the checkers hold a Patient to
 * its own id only, while the FHIR server searches the R4 CompartmentDefinition, where Patient is a
 * member through `link`: HAPI answers with every Patient that links to <me>. The answer is a plain
 * search, so it streamed unchecked: another patient's record reached the client. (The local server
 * has no compartment search of Patient; the interceptor answers as HAPI does.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CheckerStack,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const COMPARTMENT = `/fhir/Patient/${PATIENT_AUTHORIZED}/Patient`;

function answerAsHapi(s: CheckerStack): void {
  s.fhir.intercept(async (req, res) => {
    if (req.method !== 'GET' || req.path !== COMPARTMENT) return false;
    const [me, other] = await Promise.all([
      s.fhir.repo.readResource('Patient', PATIENT_AUTHORIZED),
      s.fhir.repo.readResource('Patient', PATIENT_NON_AUTHORIZED),
    ]);
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'searchset',
        total: 2,
        entry: [me, other].map((resource) => ({ resource, search: { mode: 'match' } })),
      }),
    );
    return true;
  });
}

describe('RT3 Patient/<me>/Patient returns linked patients unchecked', () => {
  for (const [name, claims] of [
    ['patient', { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' }],
    ['list', { patient_list: TEST_LIST_ID }],
    ['patient,list', { patient_id: PATIENT_AUTHORIZED, patient_list: TEST_LIST_ID, scope: 'patient/*.*' }],
  ] as const) {
    test(`RT3 ${name}: no other patient in the answer to Patient/<me>/Patient`, async () => {
      const s = await startCheckerStack(name);
      answerAsHapi(s);
      try {
        const response = await s.call(claims, 'GET', `Patient/${PATIENT_AUTHORIZED}/Patient`);
        assert.ok([200, 400, 403].includes(response.status), response.text);
        assert.doesNotMatch(response.text, /patient-non-authorized|"family":"Other"/);
      } finally {
        await s.close();
      }
    });
  }
});
