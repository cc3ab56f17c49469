/**
 * testPostProcessCallsUpdateLocationLineage / testGetLocationId: a Location write makes the Location
 * and its whole subtree carry their ancestors as lineage tags (spec §3.8.4), for any client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Location } from '@medplum/fhirtypes';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { type SyncStack, startSyncStack } from './sync-stack.js';

const lineageOf = (location: Location | undefined) =>
  (location?.meta?.tag ?? []).filter((t) => t.system === TAG_SYSTEMS.lineage).map((t) => t.code);

describe('Location writes maintain lineage tags', () => {
  let s: SyncStack;
  before(async () => {
    s = await startSyncStack();
  });
  after(() => s.close());
  const read = (id: string) => s.fhir.repo.readResource<Location>('Location', id);

  test('POST Location under a facility: the new Location gets country, district and facility as lineage', async () => {
    const token = await s.token({ roles: ['WEB_CLIENT'] });
    const response = await s.call(token, 'Location', {
      method: 'POST',
      body: { resourceType: 'Location', name: 'New village', partOf: { reference: 'Location/loc-d1-f1' } },
    });
    assert.equal(response.status, 201, response.text);
    const created = response.json() as unknown as Location;
    assert.deepEqual(lineageOf(created), ['loc-country', 'loc-d1', 'loc-d1-f1']);
    assert.deepEqual(lineageOf(await read(created.id!)), ['loc-country', 'loc-d1', 'loc-d1-f1']);
  });

  test('PUT moving a facility to another district rewrites the lineage of its whole subtree', async () => {
    const token = await s.token({ roles: ['ANDROID_CLIENT'] });
    const facility = await read('loc-d1-f2');
    const moved = { ...facility, partOf: { reference: 'Location/loc-d2' } };
    const response = await s.call(token, 'Location/loc-d1-f2', { method: 'PUT', body: moved });
    // Locations carry no location-tag-id of their own in the dataset, so the Android user may not
    // update it; the WEB user can.
    assert.equal(response.status, 403);
    const web = await s.token({ roles: ['WEB_CLIENT'] });
    const accepted = await s.call(web, 'Location/loc-d1-f2', { method: 'PUT', body: moved });
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual(lineageOf(accepted.json() as unknown as Location), ['loc-country', 'loc-d2']);
    assert.deepEqual(lineageOf(await read('loc-d1-f2')), ['loc-country', 'loc-d2']);
    for (const village of s.dataset.subtreeOf('loc-d1-f2').slice(1)) {
      assert.deepEqual(lineageOf(await read(village)), ['loc-country', 'loc-d2', 'loc-d1-f2'], village);
    }
    // Only the Locations whose lineage changed were written.
    const puts = s
      .received()
      .filter((r) => r.method === 'PUT')
      .map((r) => r.path);
    assert.equal(puts.length, 1 + 1 + s.dataset.subtreeOf('loc-d1-f2').length - 1);
  });

  test('a failure of the maintenance is logged and the write still answers', async () => {
    const token = await s.token({ roles: ['WEB_CLIENT'] });
    s.fhir.intercept((req, res) => {
      if (req.method !== 'GET' || !req.path.startsWith('/fhir/Location/')) return false;
      res.writeHead(500, { 'content-type': 'application/fhir+json' });
      res.end('{"resourceType":"OperationOutcome","issue":[]}');
      return true;
    });
    try {
      const response = await s.call(token, 'Location', {
        method: 'POST',
        body: { resourceType: 'Location', name: 'Orphan', partOf: { reference: 'Location/loc-d2-f1' } },
      });
      assert.equal(response.status, 201);
      assert.deepEqual(lineageOf(response.json() as unknown as Location), []);
    } finally {
      s.fhir.intercept(undefined);
    }
  });
});
