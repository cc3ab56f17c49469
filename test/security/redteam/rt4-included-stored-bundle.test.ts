/**
 * RT4 — Bundle, Parameters and OperationOutcome are "response only" types that every answer may
 * carry (exempt.ts RESPONSE_ONLY_TYPES), so a *stored* Bundle tagged for L9 that a search pulls in
 * with `_include` is returned to the L1 worker, though a read by id of it answers 404 (R6). The
 * worker only needs a List of their own naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { android, L9, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { ownTag } from './redteam-kit.js';

describe('RT4 a stored out-of-scope Bundle rides an _include', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
    await s.fhir.create<Bundle>({
      resourceType: 'Bundle',
      id: 'bundle-l9',
      type: 'collection',
      identifier: { value: 'l9-household-register' },
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: L9 }] },
      entry: [{ fullUrl: 'Patient/p9', request: { method: 'GET', url: 'Patient/p9' } }],
    });
  });
  after(() => s.close());

  const lister = android('GET_LIST', 'POST_LIST', 'GET_BUNDLE');

  test('RT4 List?_id=<own list>&_include=List:item:Bundle does not return Bundle/bundle-l9', async () => {
    const direct = await s.call(lister, 'GET', 'Bundle/bundle-l9');
    assert.equal(direct.status, 404, 'control: a read by id hides it (R6)');
    const created = await s.call(lister, 'POST', 'List', {
      body: {
        resourceType: 'List',
        status: 'current',
        mode: 'working',
        meta: { tag: [ownTag] },
        entry: [{ item: { reference: 'Bundle/bundle-l9' } }],
      },
    });
    assert.equal(created.status, 201, created.text);
    const listId = created.json().id as string;
    const response = await s.call(lister, 'GET', `List?_id=${listId}&_include=List:item:Bundle`);
    assert.equal(response.status, 200, response.text);
    const included = ((response.json() as unknown as Bundle).entry ?? []).map((e) => e.resource?.resourceType);
    assert.ok(!included.includes('Bundle'), `the L9 Bundle was included: ${response.text}`);
    assert.ok(!response.text.includes('l9-household-register'), response.text);
  });
});
