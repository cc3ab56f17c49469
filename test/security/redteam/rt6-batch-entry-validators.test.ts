/**
 * RT6 — for a single read the gateway hides `If-None-Match` from the backend and evaluates it
 * after the check (R8 variant), but a batch entry's `request.ifNoneMatch` reaches the backend as
 * sent. HAPI adds it to the entry's sub-request (BaseTransactionProcessor) and answers the entry
 * `304 Not Modified` without a resource when the version matches; the answer check keeps entries
 * without a resource, so `Patient/p9` at version 1 answers 304 while a missing id answers 404: an
 * existence (and version) oracle. The local server ignores entry validators, so the test asserts
 * what reached the backend: no validator on an entry whose answer the gateway must check.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { bundleOf, forwardedBundle } from './redteam-kit.js';

describe('RT6 batch entry validators reach the backend', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const reader = android('GET_PATIENT', 'GET_OBSERVATION');

  test('RT6 batch GET Patient/p9 with ifNoneMatch W/"1" (and ifModifiedSince) → forwarded without validators', async () => {
    const response = await s.call(reader, 'POST', '', {
      body: bundleOf('batch', [
        { request: { method: 'GET', url: 'Patient/p9', ifNoneMatch: 'W/"1"' } },
        { request: { method: 'GET', url: 'Observation/o9', ifModifiedSince: '2000-01-01T00:00:00Z' } },
      ]),
    });
    assert.equal(response.status, 200, response.text);
    const sent = forwardedBundle(s);
    assert.ok(sent, 'the batch was forwarded');
    for (const entry of sent.entry ?? []) {
      assert.equal(entry.request?.ifNoneMatch, undefined, JSON.stringify(entry));
      assert.equal(entry.request?.ifModifiedSince, undefined, JSON.stringify(entry));
    }
  });
});
