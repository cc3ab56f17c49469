/**
 * Red team (divergence of the request model, round 2): an `ifNoneExist` with only a leading `?`.
 * The gateway strips a leading `?` (parse.ts CONDITION_PREFIX; the patient checker's
 * `replace(/^\?/, '')`), finds the rest confined to the caller's patient and forwards it as written.
 * Medplum's batch processor searches `parseSearchRequest(request.url + "?" + ifNoneExist)`, i.e.
 * `AllergyIntolerance??patient=…`, and `parseSearchRequest` keeps what lies between the first and
 * second `?`: nothing. The condition becomes "every AllergyIntolerance"; when the server holds one
 * (another patient's), it becomes the entry's `fullUrl`, a sibling's reference to that `fullUrl` is
 * rewritten to it, and the create answers 200 (matched) instead of 201: RT1 through a legal prefix.
 *
 * Safe answer: 400, or the condition forwarded rebuilt without the prefix (as the OpenSRP checker's
 * narrowed condition is).
 *
 * Closed: a Bundle entry's ifNoneExist holds no "?" (400, src/fhir/bundle-entry.ts); a header's
 * leading `?` or `Type?` is removed before it is judged and forwarded (src/fhir/parse.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  seedData,
  startCheckerStack,
} from '../../checkers/checker-kit.js';
import { fullUrlProbe } from '../redteam/redteam-kit.js';

describe('patient checker: an ifNoneExist with a leading "?" in a Bundle entry', () => {
  let s: CheckerStack;
  const claims = { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' };
  const mine = { reference: `Patient/${PATIENT_AUTHORIZED}` };
  before(async () => {
    // The only AllergyIntolerance on the server belongs to another patient.
    const other = {
      resourceType: 'AllergyIntolerance',
      id: 'allergy-other',
      patient: { reference: `Patient/${PATIENT_IN_BUNDLE_1}` },
    };
    s = await startCheckerStack('patient', { seed: [...seedData(), other as never] });
  });
  after(() => s.close());

  for (const [n, type] of [
    [3, 'transaction'],
    [4, 'batch'],
  ] as const) {
    test(`${type}: the condition is not dropped, so another patient's AllergyIntolerance is not the entry's fullUrl`, async () => {
      const urn = `urn:uuid:${String(n).repeat(8)}-1111-4111-8111-111111111111`;
      const response = await s.call(claims, 'POST', '', {
        body: fullUrlProbe(
          type,
          urn,
          {
            request: {
              method: 'POST',
              url: 'AllergyIntolerance',
              ifNoneExist: `?patient=Patient/${PATIENT_AUTHORIZED}`,
            },
            resource: { resourceType: 'AllergyIntolerance', patient: mine },
          },
          mine,
        ),
      });
      assert.ok(
        !response.text.includes('allergy-other'),
        `the answer names another patient's AllergyIntolerance: ${response.text.slice(0, 600)}`,
      );
      if (response.status === 200) {
        const entries = (JSON.parse(response.text) as { entry: { response: { status: string } }[] }).entry;
        assert.equal(
          entries[0]!.response.status,
          '201',
          'the create matched a resource outside the condition',
        );
      }
    });
  }
});
