/**
 * Red team (divergence of the request model): a conditional create whose condition holds a raw `?`.
 * The patient checker reads `If-None-Exist` (header, or a Bundle entry's `ifNoneExist`) as a whole
 * form string, strips only a leading `?`, finds it confined to the caller's patient and forwards it
 * as written. The FHIR servers read it otherwise:
 *
 * - Medplum's batch processor searches `request.url + "?" + ifNoneExist` with `parseSearchRequest`,
 *   which keeps only what lies between the first and the second `?`:
 *   `subject=Patient/<other>?&subject=Patient/<mine>` becomes `subject=Patient/<other>`. The match
 *   (another patient's Observation) becomes the entry's `fullUrl`, and a sibling's reference to that
 *   `fullUrl` is rewritten to it (RT1 again, for the patient checker).
 * - HAPI (and the local server, which answers as HAPI does) reads a condition that holds a `?` as a
 *   match URL and keeps what follows the first `?`: `subject=Patient/<mine>&x=?subject=Patient/<other>`
 *   becomes `subject=Patient/<other>`. A match outside the compartment answers 200 (its body hidden)
 *   and nothing is created; no match answers 201: an existence oracle on any criteria, and a create
 *   silently dropped.
 *
 * Safe answer: the condition refused (400), or forwarded in a form every server reads as the gateway
 * did (rebuilt, its `?` percent-encoded, as the OpenSRP checker's narrowed condition is).
 *
 * Closed: an If-None-Exist with a "?" inside is refused (400; src/fhir/parse.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  startCheckerStack,
} from '../../checkers/checker-kit.js';
import { fullUrlProbe } from '../redteam/redteam-kit.js';

describe('patient checker: an If-None-Exist condition with a "?" inside', () => {
  let s: CheckerStack;
  const claims = { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' };
  const mine = { reference: `Patient/${PATIENT_AUTHORIZED}` };
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());

  // PATIENT_IN_BUNDLE_1 (not the caller's) has one Observation, obs-bundle-1.
  for (const [n, type] of [
    [6, 'transaction'],
    [7, 'batch'],
  ] as const) {
    test(`${type} entry: a sibling's reference to the create's fullUrl does not resolve to another patient's Observation`, async () => {
      const urn = `urn:uuid:${String(n).repeat(8)}-1111-4111-8111-111111111111`;
      const response = await s.call(claims, 'POST', '', {
        body: fullUrlProbe(
          type,
          urn,
          {
            request: {
              method: 'POST',
              url: 'Observation',
              ifNoneExist: `subject=Patient/${PATIENT_IN_BUNDLE_1}?&subject=Patient/${PATIENT_AUTHORIZED}`,
            },
            resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: mine },
          },
          mine,
        ),
      });
      assert.ok(
        !response.text.includes('obs-bundle-1'),
        `the answer names another patient's Observation: ${response.text.slice(0, 600)}`,
      );
    });
  }

  test("a single request's If-None-Exist is not matched against another patient's Observation", async () => {
    const response = await s.call(claims, 'POST', 'Observation', {
      headers: {
        'if-none-exist': `subject=Patient/${PATIENT_AUTHORIZED}&x=?subject=Patient/${PATIENT_IN_BUNDLE_1}`,
      },
      body: { resourceType: 'Observation', status: 'final', code: { text: 'oracle' }, subject: mine },
    });
    // 200 means the server matched obs-bundle-1 (hidden) and created nothing.
    assert.ok(
      response.status === 201 || response.status === 400,
      `expected 201 (created) or 400, got ${response.status}: ${response.text.slice(0, 300)}`,
    );
  });
});
