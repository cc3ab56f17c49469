/**
 * RT1 — a conditional create that matches an out-of-scope resource is hidden in its own entry
 * (W5), but a sibling entry that references the conditional entry's `fullUrl` is resolved by the
 * FHIR server to the match: the in-scope resource the caller creates comes back (and is stored)
 * pointing at the out-of-scope patient. If-None-Exist takes any search criteria, so this names the
 * out-of-scope patient that matches a family name, a birth date, an identifier.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { bundleOf, ownTag } from './redteam-kit.js';

describe('RT1 transaction: a conditional-create match leaks through a sibling urn:uuid reference', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const writer = android('GET_PATIENT', 'POST_PATIENT', 'GET_OBSERVATION', 'POST_OBSERVATION');
  const patientUrn = 'urn:uuid:11111111-1111-4111-8111-111111111111';

  for (const type of ['transaction', 'batch'] as const) {
    test(`RT1 ${type}: POST Patient (If-None-Exist family=Outsider) + POST Observation subject=<its fullUrl> does not name p9`, async () => {
      const response = await s.call(writer, 'POST', '', {
        body: bundleOf(type, [
          {
            fullUrl: patientUrn,
            request: { method: 'POST', url: 'Patient', ifNoneExist: 'family=Outsider' },
            resource: { resourceType: 'Patient', meta: { tag: [ownTag] }, name: [{ family: 'Outsider' }] },
          },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'probe' },
              meta: { tag: [ownTag] },
              subject: { reference: patientUrn },
            },
          },
        ]),
      });
      assert.ok(!response.text.includes('p9'), `the answer names the out-of-scope match: ${response.text}`);
      const stored = (await s.fhir.repo.searchResources({
        resourceType: 'Observation',
        count: 10_000,
      })) as Observation[];
      assert.equal(
        stored.filter((o) => o.code?.text === 'probe' && o.subject?.reference === 'Patient/p9').length,
        0,
        'an in-scope Observation of the caller now references the out-of-scope patient',
      );
    });
  }
});
