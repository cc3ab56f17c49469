/**
 * What an operation or a gateway-built answer pulls in is held to the caller's scope (issue 8):
 * an exemption covers the exempt resource, not what an operation on it returns; answers that
 * cannot be checked resource by resource are refused; list-entries applies the read-by-id rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { android, type SecurityStack, startSecurityStack } from './security-stack.js';

describe('operation outputs and list-entries', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const clinician = android('GET_PATIENT', 'GET_OBSERVATION', 'GET_COMPOSITION', 'GET_LIST');

  test('R4 — $graphql on an in-scope patient cannot reach the L9 Observation about it', async () => {
    const query = encodeURIComponent('{ObservationList(_reference: subject){id}}');
    const response = await s.call(clinician, 'GET', `Patient/${s.p2}/$graphql?query=${query}`);
    assert.equal(response.status, 403, response.text);
    assert.ok(!response.text.includes('o-x9'));
    // Also by POST, and at system level.
    const posted = await s.call(clinician, 'POST', `Patient/${s.p2}/$graphql`, {
      body: { query: '{ObservationList(subject: "Patient/p9"){id}}' },
    });
    assert.equal(posted.status, 403, posted.text);
    assert.ok(!s.forwarded().some((line) => line.includes('$graphql')));
  });

  test('R5 — $document on an exempt Composition does not return the L9 resources it references', async () => {
    const response = await s.call(clinician, 'GET', 'Composition/comp-clinical/$document');
    assert.ok(response.status === 403 || response.status === 200, response.text);
    assert.ok(!response.text.includes('"p9"'), response.text.slice(0, 300));
    assert.ok(!response.text.includes('"o9"'));
    // The Composition itself stays readable: the exemption covers it.
    assert.equal((await s.call(clinician, 'GET', 'Composition/comp-clinical')).status, 200);
  });

  test('R7 — list-entries applies exactly the read-by-id rule to each entry', async () => {
    const response = await s.call(clinician, 'GET', 'List/list-own?mode=list-entries');
    assert.equal(response.status, 200, response.text);
    const ids = ((response.json() as unknown as Bundle).entry ?? []).map((e) => e.resource?.id);
    assert.ok(ids.includes(s.p2), `the in-scope patient stays: ${ids.join(', ')}`);
    for (const id of ['p-untagged', 'p-related-only']) {
      assert.ok(!ids.includes(id), `${id} is hidden from list-entries`);
      assert.equal((await s.call(clinician, 'GET', `Patient/${id}`)).status, 404, `${id} by id`);
    }
  });
});
