/**
 * XML asks are never a 5xx (issue 7, cases R10 and U5): answers the gateway must read are served
 * as JSON or refused with 406 before anything is forwarded; answers it passes through stream XML
 * with the backend base URL rewritten. XML bodies are checked like JSON ones (W9).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from '../support/http.js';
import { android, type SecurityStack, startSecurityStack, web } from './security-stack.js';

const XML = 'application/fhir+xml';

describe('XML asks', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const reader = android('GET_PATIENT', 'GET_LIST');
  const reads = (path: string) => s.forwarded().filter((line) => line.startsWith(`GET /${path}`));

  test('R10 — an Android read by id asked as XML → 406 naming JSON, the read not forwarded', async () => {
    for (const ask of [
      { headers: { accept: XML } },
      { query: '?_format=xml' },
      { query: '?_format=application/fhir+xml' },
    ]) {
      const response = await s.call(reader, 'GET', `Patient/${s.p2}${ask.query ?? ''}`, {
        headers: ask.headers ?? {},
      });
      assert.equal(response.status, 406, response.text);
      assert.match(String(response.headers['content-type']), /application\/fhir\+json/);
      assert.match(response.text, /application\/fhir\+json/);
      assert.deepEqual(reads(`Patient/${s.p2}`), []);
    }
  });

  test('R10 variant — a client that also accepts JSON gets JSON, checked', async () => {
    const response = await s.call(reader, 'GET', `Patient/${s.p2}`, {
      headers: { accept: `${XML};q=1.0, application/fhir+json;q=0.9` },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal((response.json() as { id?: string }).id, s.p2);
    const hidden = await s.call(reader, 'GET', 'Patient/p9', { headers: { accept: `${XML}, */*;q=0.1` } });
    assert.equal(hidden.status, 404);
  });

  test('R10 variant — list-entries asked as XML → 406, never 5xx', async () => {
    const response = await s.call(reader, 'GET', 'List/any-list?mode=list-entries&_format=xml');
    assert.equal(response.status, 406, response.text);
  });

  test('U5 — metadata asked as XML → 406 (the gateway amends it as JSON), never 5xx', async () => {
    for (const ask of [
      { path: '/fhir/metadata?_format=xml' },
      { path: '/fhir/metadata', headers: { accept: XML } },
    ]) {
      const response = await send(s.stack.gatewayUrl, ask);
      assert.equal(response.status, 406, response.text);
    }
    const json = await send(s.stack.gatewayUrl, {
      path: '/fhir/metadata',
      headers: { accept: `${XML}, application/json;q=0.5` },
    });
    assert.equal(json.status, 200);
    assert.equal((json.json() as { resourceType?: string }).resourceType, 'CapabilityStatement');
  });

  test('a pass-through search streams XML with the gateway base URL', async () => {
    const response = await s.call(web('GET_PATIENT'), 'GET', 'Patient?_count=2', {
      headers: { accept: XML },
    });
    assert.equal(response.status, 200, response.text);
    assert.match(String(response.headers['content-type']), /xml/);
    assert.ok(response.text.includes(`value="${s.stack.fhirBase}/Patient`), response.text.slice(0, 400));
    assert.ok(!response.text.includes(s.fhir.baseUrl), 'no backend URL');
  });

  test('an Android search as XML is narrowed, and its links carry no injected _tag', async () => {
    const response = await s.call(reader, 'GET', 'Patient?_count=1&_format=xml');
    assert.equal(response.status, 200, response.text);
    assert.ok(!response.text.includes('p9'));
    const links = [...response.text.matchAll(/<url value="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(links.length > 0, 'the answer has links');
    for (const link of links) assert.ok(!link.includes('_tag'), link);
  });

  test('W9 — an XML body of another type than the URL is not forwarded', async () => {
    const response = await s.call(web('POST_PATIENT'), 'POST', 'Patient', {
      body: '<Observation xmlns="http://hl7.org/fhir"><status value="final"/></Observation>',
      headers: { 'content-type': XML },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(s.forwarded(), []);
  });

  test('W9 variant — an XML body an Android write needs to read is refused with 415, not forwarded', async () => {
    const response = await s.call(android('GET_PATIENT', 'PUT_PATIENT'), 'PUT', `Patient/${s.p1}`, {
      body: `<Patient xmlns="http://hl7.org/fhir"><id value="${s.p1}"/></Patient>`,
      headers: { 'content-type': XML },
    });
    assert.equal(response.status, 415, response.text);
    assert.match(response.text, /reads only JSON/);
    assert.ok(!s.forwarded().some((line) => line.startsWith('PUT')));
  });
});
