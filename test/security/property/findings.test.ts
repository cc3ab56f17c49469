/**
 * What the property test (pipeline.test.ts) found in the answer check, pinned as plain cases over
 * real HTTP: a stored Bundle holds resources, so its contents are held to the caller's rule in a
 * search and in a write answer too, not only in a read by id; a post-processed search answer
 * (list-entries) is checked like any other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, List, Observation } from '@medplum/fhirtypes';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { android, type SecurityStack, startSecurityStack, web } from '../security-stack.js';

const inTree = { system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility };

describe('answers found leaking by the property test', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
    const untagged: Observation = {
      resourceType: 'Observation',
      id: 'obs-untagged',
      status: 'final',
      code: { text: 'untagged' },
    };
    await s.fhir.create(untagged);
    await s.fhir.create<Bundle>({
      resourceType: 'Bundle',
      id: 'stored-in-tree',
      type: 'collection',
      meta: { tag: [inTree] },
      entry: [
        { fullUrl: 'urn:uuid:obs-untagged', resource: untagged },
        {
          fullUrl: 'urn:uuid:list',
          resource: { resourceType: 'List', id: 'inner-list', status: 'current', mode: 'working' },
        },
      ],
    });
    await s.fhir.create<List>({
      resourceType: 'List',
      id: 'list-in-tree',
      status: 'current',
      mode: 'working',
      meta: { tag: [inTree] },
      entry: [
        { item: { reference: 'Observation/obs-untagged' } },
        { item: { reference: `Patient/${s.p1}` } },
      ],
    });
  });
  after(() => s.close());

  test('an Android search of stored Bundles does not show what an in-scope Bundle holds out of scope', async () => {
    const response = await s.call(android('GET_BUNDLE', 'GET_OBSERVATION', 'GET_LIST'), 'GET', 'Bundle');
    assert.equal(response.status, 200, response.text);
    assert.ok(response.text.includes('stored-in-tree'), 'the Bundle itself is in scope');
    assert.ok(!response.text.includes('obs-untagged'), response.text);
    // The read by id of the same Bundle agrees.
    const read = await s.call(
      android('GET_BUNDLE', 'GET_OBSERVATION', 'GET_LIST'),
      'GET',
      'Bundle/stored-in-tree',
    );
    assert.equal(read.status, 200);
    assert.ok(!read.text.includes('obs-untagged'), read.text);
  });

  test('a write answer of a stored Bundle drops what it holds of types the caller cannot read', async () => {
    const response = await s.call(
      web('GET_BUNDLE', 'PATCH_BUNDLE', 'GET_OBSERVATION'),
      'PATCH',
      'Bundle/stored-in-tree',
      {
        body: JSON.stringify([{ op: 'add', path: '/language', value: 'en' }]),
        headers: { 'content-type': 'application/json-patch+json' },
      },
    );
    assert.equal(response.status, 200, response.text);
    assert.ok(response.text.includes('obs-untagged'), 'an Observation the caller may read stays');
    assert.ok(!response.text.includes('inner-list'), `a List without GET_LIST: ${response.text}`);
  });

  test('list-entries asked as a search holds the entries to the read-by-id rule (404, not 200 without a body)', async () => {
    const response = await s.call(
      android('GET_LIST', 'GET_OBSERVATION', 'GET_PATIENT'),
      'GET',
      'List?_id=list-in-tree&mode=list-entries',
    );
    assert.equal(response.status, 200, response.text);
    const entries = (response.json() as unknown as Bundle).entry ?? [];
    assert.equal(entries.length, 2, response.text);
    assert.deepEqual(entries[0], { response: { status: '404 Not Found' } });
    assert.equal(entries[1]?.resource?.id, s.p1);
    // The same List read by id answers the same.
    const read = await s.call(
      android('GET_LIST', 'GET_OBSERVATION', 'GET_PATIENT'),
      'GET',
      'List/list-in-tree?mode=list-entries',
    );
    assert.deepEqual(((read.json() as unknown as Bundle).entry ?? [])[0], { response: { status: '404 Not Found' } });
  });
});
