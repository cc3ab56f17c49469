/**
 * RT2 — `ACCESS_CHECKER=patient,list`: each checker decides a Bundle alone and, when it narrows an
 * entry, returns the whole rewritten Bundle as `replaceBody`; composition kept only the last
 * checker's. The list checker's rewrite (a bare id typed to `Patient/<id>`) replaced the patient
 * checker's, which carried the SMART criterion appended to a conditional DELETE entry: the entry
 * reached the FHIR server without it, and an Observation outside the `d` criteria was deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  LAB,
  PATIENT_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

describe('RT2 patient,list composition drops the scope narrowing of Bundle entries', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient,list');
  });
  after(() => s.close());
  const claims = {
    patient_list: TEST_LIST_ID,
    patient_id: PATIENT_AUTHORIZED,
    scope: `patient/Observation.rds?category=${encodeURIComponent(LAB)}`,
  };
  const posted = () => s.fhir.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body));

  for (const type of ['batch', 'transaction'] as const) {
    test(`RT2 ${type}: a conditional DELETE entry keeps the criterion when another entry is retyped`, async () => {
      const response = await s.call(claims, 'POST', '', {
        body: {
          resourceType: 'Bundle',
          type,
          entry: [
            { request: { method: 'GET', url: `Observation?subject=${PATIENT_AUTHORIZED}` } },
            {
              request: {
                method: 'DELETE',
                url: `Observation?subject=Patient/${PATIENT_AUTHORIZED}&_id=obs-auth-vital`,
              },
            },
          ],
        },
      });
      assert.ok(response.status < 500, response.text);
      const [bundle] = posted();
      if (bundle !== undefined) {
        const url = bundle.entry[1].request.url as string;
        assert.match(decodeURIComponent(url), /category=.*\|laboratory/, url);
        assert.match(decodeURIComponent(bundle.entry[0].request.url), /subject=Patient\//);
      }
      assert.ok(
        (await s.fhir.repo.readResource('Observation', 'obs-auth-vital')).id,
        'the vital-signs Observation (outside the d criteria) still exists',
      );
    });
  }
});
