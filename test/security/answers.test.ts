/**
 * The answer side (issue 8): every resource in every answer is one the caller may see. A resource
 * out of the caller's roles or scope looks missing, whatever the shape of the request: HEAD,
 * If-None-Match, conditional creates with `Prefer: return=minimal`, write answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawResponse } from '../support/http.js';
import { android, type SecurityStack, startSecurityStack, web } from './security-stack.js';

describe('answers hold only what the caller may see', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const reader = android('GET_PATIENT', 'GET_OBSERVATION');
  const writer = android('GET_PATIENT', 'POST_PATIENT', 'PUT_PATIENT');

  const looksMissing = (response: RawResponse) => {
    assert.equal(response.status, 404, response.text);
    assert.equal(response.headers.etag, undefined);
    assert.equal(response.headers['last-modified'], undefined);
    assert.equal(response.headers.location, undefined);
  };

  test('R8 — HEAD of an out-of-scope resource answers like HEAD of a missing one', async () => {
    const hidden = await s.call(reader, 'HEAD', 'Patient/p9');
    const missing = await s.call(reader, 'HEAD', 'Patient/does-not-exist');
    looksMissing(hidden);
    looksMissing(missing);
    assert.equal(hidden.bytes.length, 0);
    const shown = await s.call(reader, 'HEAD', `Patient/${s.p1}`);
    assert.equal(shown.status, 200);
    assert.ok(shown.headers.etag, 'validators of a visible resource are kept');
    assert.equal(shown.bytes.length, 0);
  });

  test('R8 variant — If-None-Match on an out-of-scope resource is 404, not 304', async () => {
    const hidden = await s.call(reader, 'GET', 'Observation/o9', { headers: { 'if-none-match': '*' } });
    looksMissing(hidden);
    const etag = (await s.call(reader, 'GET', `Patient/${s.p1}`)).headers.etag!;
    const notModified = await s.call(reader, 'GET', `Patient/${s.p1}`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.bytes.length, 0);
    const changed = await s.call(reader, 'GET', `Patient/${s.p1}`, {
      headers: { 'if-none-match': 'W/"other"' },
    });
    assert.equal(changed.status, 200);
    // The backend was asked for the whole resource, without the validator.
    assert.equal(s.fhir.requests[0]?.headers['if-none-match'], undefined);
  });

  test('W5 — a conditional create matching an out-of-scope resource discloses neither body nor Location', async () => {
    // The condition is narrowed to the user's scope: the out-of-scope match is no match, so the
    // create proceeds, and whatever comes back is the user's own new resource.
    for (const prefer of ['return=minimal', 'return=representation', undefined]) {
      const response = await s.call(writer, 'POST', 'Patient', {
        body: { resourceType: 'Patient', name: [{ family: 'Outsider' }] },
        headers: { 'if-none-exist': '_id=p9', ...(prefer ? { prefer } : {}) },
      });
      assert.ok(response.status === 201 || response.status === 412, `${response.status} ${response.text}`);
      for (const header of ['location', 'content-location']) {
        assert.ok(!String(response.headers[header] ?? '').includes('/p9'), `${header} with ${prefer}`);
      }
      assert.ok(!response.text.includes('"p9"'), response.text);
      assert.ok(!response.text.includes('Nine'), response.text);
    }
    const upstream = s.fhir.requests.find((r) => r.method === 'POST');
    assert.match(String(upstream?.headers['if-none-exist']), /_tag=/, 'the condition went upstream narrowed');
  });

  test("W5 variant — a conditional create of the user's own match keeps its answer, minimal honoured", async () => {
    const response = await s.call(writer, 'POST', 'Patient', {
      body: { resourceType: 'Patient' },
      headers: { 'if-none-exist': `_id=${s.p1}`, prefer: 'return=minimal' },
    });
    assert.equal(response.status, 200, response.text);
    assert.ok(String(response.headers.location).includes(`Patient/${s.p1}`));
    assert.equal(response.bytes.length, 0, 'return=minimal: no body');
  });

  test('W10 — a WEB user with only POST_PATIENT cannot probe with a conditional create', async () => {
    // The condition searches Patient: it needs GET_PATIENT, or a match would be named to the caller.
    const response = await s.call(web('POST_PATIENT'), 'POST', 'Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'Outsider' }] },
      headers: { 'if-none-exist': '_id=p9' },
    });
    assert.equal(response.status, 403, response.text);
    assert.match(response.text, /GET_PATIENT/);
    assert.deepEqual(s.forwarded(), []);
    const withRead = await s.call(web('POST_PATIENT', 'GET_PATIENT'), 'POST', 'Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'Outsider' }] },
      headers: { 'if-none-exist': '_id=p9' },
    });
    assert.equal(withRead.status, 200, withRead.text);
  });

  test('W10 variant — a plain create by a user without the read role answers 201 without the record', async () => {
    const response = await s.call(web('POST_OBSERVATION'), 'POST', 'Observation', {
      body: { resourceType: 'Observation', status: 'final', code: { text: 'w10' } },
    });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.bytes.length, 0);
  });

  test('W11 — a PATCH-only user gets no record back', async () => {
    const response = await s.call(web('PATCH_PATIENT'), 'PATCH', `Patient/${s.p1}`, {
      body: JSON.stringify([{ op: 'replace', path: '/gender', value: 'other' }]),
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.bytes.length, 0, response.text);
    // With the read role the record comes back as usual.
    const withRead = await s.call(web('PATCH_PATIENT', 'GET_PATIENT'), 'PATCH', `Patient/${s.p1}`, {
      body: JSON.stringify([{ op: 'replace', path: '/gender', value: 'female' }]),
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(withRead.status, 200);
    assert.equal((withRead.json() as { gender?: string }).gender, 'female');
  });
});
