/**
 * RT7 — references in a written body are forwarded unread. HAPI JPA resolves a match-URL
 * reference (`"subject": {"reference": "Patient?family=Outsider"}`, allowInlineMatchUrlReferences,
 * on by default) by searching every Patient, not narrowed to the caller: the in-scope Observation
 * the worker creates is stored, and answered, with `subject: Patient/p9`; no match answers 412
 * (HAPI-1091), several 412 (HAPI-1092). A search oracle over out-of-scope data with any criteria,
 * and the id of the match. (Likewise a literal `Patient/<id>`: HAPI's referential integrity on
 * write answers 400 HAPI-1094 for a missing target, 201 for an existing out-of-scope one.) The
 * local server stores the literal string, so the test asserts what reached the backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { bundleOf, forwardedBundle, ownTag, reached } from './redteam-kit.js';

describe('RT7 match-URL references in write bodies reach the backend', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const writer = android('GET_OBSERVATION', 'POST_OBSERVATION', 'GET_PATIENT');
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'rt7' },
    meta: { tag: [ownTag] },
    subject: { reference: 'Patient?family=Outsider' },
  };

  test('RT7 POST Observation whose subject is "Patient?family=Outsider" → refused, not forwarded', async () => {
    const response = await s.call(writer, 'POST', 'Observation', { body: observation });
    assert.ok([400, 403].includes(response.status), `${response.status}: ${response.text.slice(0, 300)}`);
    assert.deepEqual(reached(s, 'POST', '/Observation'), []);
  });

  test('RT7 variant: the same create as a transaction entry → refused, not forwarded', async () => {
    const response = await s.call(writer, 'POST', '', {
      body: bundleOf('transaction', [
        { request: { method: 'POST', url: 'Observation' }, resource: observation },
      ]),
    });
    assert.ok([400, 403].includes(response.status), `${response.status}: ${response.text.slice(0, 300)}`);
    assert.equal(forwardedBundle(s), undefined);
  });
});
