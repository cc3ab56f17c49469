/**
 * RT5 — "out of scope looks missing" holds for the status but not for the answer: a hidden
 * resource gets the gateway's own 404 (`diagnostics: "Resource Patient/p9 is not known"`,
 * `Content-Type: application/fhir+json; charset=utf-8`), a missing one the FHIR server's 404
 * (here `details.text: "Not found"`, `application/fhir+json;charset=utf-8`; HAPI's says
 * `HAPI-2001: …` and HAPI answers 410 for a deleted one). Any id can be tested for existence by
 * reading it, with HEAD, or as a batch entry. The safe answer is the same answer, byte for byte
 * (modulo the id).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawResponse } from '../../support/http.js';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { bundleOf } from './redteam-kit.js';

const shape = (response: RawResponse, id: string) => ({
  status: response.status,
  contentType: response.headers['content-type'],
  body: response.text.split(id).join('<id>'),
});

describe('RT5 hidden and missing resources answer differently', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const reader = android('GET_PATIENT', 'GET_OBSERVATION');

  test('RT5 GET Patient/p9 and GET Patient/<missing> answer alike (status, headers, body)', async () => {
    const hidden = await s.call(reader, 'GET', 'Patient/p9');
    const missing = await s.call(reader, 'GET', 'Patient/nobody-here');
    assert.deepEqual(shape(hidden, 'p9'), shape(missing, 'nobody-here'));
  });

  test('RT5 variant: HEAD Observation/o9 and HEAD Observation/<missing> carry the same headers', async () => {
    const hidden = await s.call(reader, 'HEAD', 'Observation/o9');
    const missing = await s.call(reader, 'HEAD', 'Observation/nobody-here');
    assert.deepEqual(shape(hidden, 'o9'), shape(missing, 'nobody-here'));
  });

  test('RT5 variant: as batch entries, GET Patient/p9 and GET Patient/<missing> answer alike', async () => {
    const response = await s.call(reader, 'POST', '', {
      body: bundleOf('batch', [
        { request: { method: 'GET', url: 'Patient/p9' } },
        { request: { method: 'GET', url: 'Patient/nobody-here' } },
      ]),
    });
    assert.equal(response.status, 200, response.text);
    const [hidden, missing] = response.json().entry as unknown[];
    assert.deepEqual(
      JSON.stringify(hidden).split('p9').join('<id>'),
      JSON.stringify(missing).split('nobody-here').join('<id>'),
    );
  });
});
