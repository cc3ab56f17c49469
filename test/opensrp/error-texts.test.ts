/**
 * Denial texts read as sentences (issue 9): the request is named once, articles agree, and an
 * Android refusal names the operation it refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diagnostics, type PermissionStack, startPermissionStack } from './permissions-stack.js';
import { startSyncStack, type SyncStack } from './sync/sync-stack.js';

describe('permission checker texts', () => {
  let gw: PermissionStack;
  before(async () => {
    gw = await startPermissionStack();
  });
  after(() => gw.close());

  test('a request on the FHIR base names it once', async () => {
    const response = await gw.call('GET', '?_id=x', { roles: ['WEB_CLIENT', 'GET_PATIENT'] });
    assert.equal(response.status, 403);
    assert.equal(
      diagnostics(response),
      'User is not authorized to GET the FHIR base: it names no resource type, so no role can grant it',
    );
  });

  test('a system operation names it once', async () => {
    const response = await gw.call('GET', '$meta', { roles: ['WEB_CLIENT'] });
    assert.equal(
      diagnostics(response),
      'User is not authorized to GET $meta: it names no resource type, so no role can grant it',
    );
  });

  test('a body of another type than the URL names', async () => {
    const body = { resourceType: 'Observation', status: 'final', code: {} };
    const response = await gw.call('POST', 'Patient', { roles: ['WEB_CLIENT', 'POST_PATIENT'], body });
    assert.equal(response.status, 400);
    assert.equal(
      diagnostics(response),
      'The body\'s resourceType is "Observation", but the URL names Patient',
    );
  });
});

describe('Android texts', () => {
  let sync: SyncStack;
  before(async () => {
    sync = await startSyncStack();
  });
  after(() => sync.close());

  const cases: [string, string][] = [
    ['Patient/$validate', 'An operation-type request ($validate) on Patient'],
    ['$meta', 'An operation-system request ($meta)'],
    ['_history', 'A history-system request'],
    ['Patient/_history', 'A history-type request on Patient'],
  ];
  for (const [path, named] of cases) {
    test(`${path}: "${named} cannot be narrowed ..."`, async () => {
      const token = await sync.token({ roles: ['ANDROID_CLIENT', 'GET_PATIENT'] });
      const response = await sync.call(token, path);
      assert.equal(response.status, 403);
      assert.equal(
        diagnostics(response),
        `${named} cannot be narrowed to the user's assignment; ANDROID_CLIENT users may search one resource type or address one resource by id`,
      );
    });
  }
});
