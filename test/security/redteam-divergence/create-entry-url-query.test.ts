/**
 * Red team (divergence of the request model): a conditional create entry whose `request.url` carries
 * a query, `POST Patient?family=Outsider` with `ifNoneExist: family=Outsider`.
 *
 * The gateway parses the entry as a create of Patient (a create's query is ignored), narrows
 * `ifNoneExist` to the caller's scope (`family=Outsider&_tag=<scope>`, RT1) and forwards the entry
 * rebuilt as `Patient?family=Outsider`. Medplum's batch processor gives a create entry its identity
 * before running it, by searching `request.url + "?" + ifNoneExist`; `parseSearchRequest` keeps only
 * what lies between the first and the second `?`, so it searches `Patient?family=Outsider` with no
 * `_tag`: the out-of-scope match becomes the entry's `fullUrl`, and every sibling reference to that
 * `fullUrl` is rewritten to it. The create itself then runs with the narrowed condition and makes a
 * new in-scope Patient, so nothing looks wrong in its own entry (RT1 again, through the URL).
 *
 * Safe answer: nothing in the answer or the stored data names the out-of-scope match (a create entry
 * with a query refused with 400, or forwarded without it).
 *
 * Closed: a create takes no search params, and a create entry's request.url no "?" (400; src/fhir/route.ts, bundle-entry.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  startCheckerStack,
} from '../../checkers/checker-kit.js';
import { bundleOf, fullUrlProbe, ownTag } from '../redteam/redteam-kit.js';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';

const urn = (n: number) => `urn:uuid:${String(n).repeat(8)}-1111-4111-8111-111111111111`;

describe('OpenSRP Android user: a conditional create entry `POST Patient?family=Outsider`', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());
  const writer = android('GET_PATIENT', 'POST_PATIENT', 'GET_OBSERVATION', 'POST_OBSERVATION');

  for (const [n, type] of [
    [1, 'transaction'],
    [2, 'batch'],
  ] as const) {
    test(`${type}: a sibling Observation's subject does not resolve to out-of-scope p9`, async () => {
      const probe = `probe-${type}`;
      const response = await s.call(writer, 'POST', '', {
        body: bundleOf(type, [
          {
            fullUrl: urn(n),
            request: { method: 'POST', url: 'Patient?family=Outsider', ifNoneExist: 'family=Outsider' },
            // Another family, so the new Patient never matches the next test's condition.
            resource: { resourceType: 'Patient', meta: { tag: [ownTag] }, name: [{ family: 'Insider' }] },
          },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: probe },
              meta: { tag: [ownTag] },
              subject: { reference: urn(n) },
            },
          },
        ]),
      });
      assert.ok(!response.text.includes('Patient/p9'), `the answer names p9: ${response.text.slice(0, 600)}`);
      const stored = (await s.fhir.repo.searchResources({
        resourceType: 'Observation',
        count: 10_000,
      })) as Observation[];
      assert.equal(
        stored.filter((o) => o.code?.text === probe && o.subject?.reference === 'Patient/p9').length,
        0,
        'an in-scope Observation of the caller now references the out-of-scope patient p9',
      );
    });
  }
});

describe('patient checker: a conditional create entry `POST Observation?subject=Patient/<another>`', () => {
  let s: CheckerStack;
  const claims = { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' };
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const mine = { reference: `Patient/${PATIENT_AUTHORIZED}` };

  // `subject=Patient/<in-bundle-1>` matches one Observation, obs-bundle-1, of a patient the caller may
  // not see; the condition the checker judges (ifNoneExist) names the caller's own patient.
  for (const [n, type] of [
    [3, 'transaction'],
    [4, 'batch'],
  ] as const) {
    test(`${type}: a sibling Observation's derivedFrom does not resolve to another patient's Observation`, async () => {
      const response = await s.call(claims, 'POST', '', {
        body: fullUrlProbe(
          type,
          urn(n),
          {
            request: {
              method: 'POST',
              url: `Observation?subject=Patient/${PATIENT_IN_BUNDLE_1}`,
              ifNoneExist: `subject=Patient/${PATIENT_AUTHORIZED}&code=no-such-code`,
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
});
