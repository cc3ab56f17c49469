/**
 * Improvements in cost: a hierarchy costs one backend search per level (the Java plugin asks once
 * per Location), a warm request costs no lookup at all, and a user with thousands of locations is
 * served through POST `_search` (the Java plugin sends one giant `_tag` URL).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Location, Patient } from '@medplum/fhirtypes';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import type { RecordedRequest } from '../../support/fhir-server.js';
import { assignedTo, idsIn, type SyncStack, searchesOf, startSyncStack, tagValuesOf } from './sync-stack.js';

const partofSearches = (received: readonly RecordedRequest[]) =>
  searchesOf(received, 'Location').filter((r) => new URLSearchParams(r.query).has('partof'));

describe('cost of the sync decision', () => {
  let s: SyncStack;
  before(async () => {
    s = await startSyncStack({ seed: assignedTo('national', 'loc-country') });
  });
  after(() => s.close());

  test('hierarchy expansion costs one backend search per level: 4 levels → 4 partof searches', async () => {
    const token = await s.token({ sub: 'kc-national' });
    const response = await s.call(token, 'Patient?_count=100');
    assert.equal(response.status, 200);
    assert.equal(idsIn(response).length, s.dataset.patientsIn(s.dataset.locations.villages).length);
    // country → districts → facilities → villages → (no children): one search per level.
    assert.equal(partofSearches(s.received()).length, 4);
    const tag = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!)[0]!;
    assert.equal(
      tag.split(',').length,
      1 +
        s.dataset.locations.districts.length +
        s.dataset.locations.facilities.length +
        s.dataset.locations.villages.length,
    );
  });

  test('a warm sync request costs zero extra backend calls', async () => {
    const token = await s.token({ sub: 'kc-national' });
    await s.call(token, 'Observation');
    const response = await s.call(token, 'Observation');
    assert.equal(response.status, 200);
    assert.deepEqual(
      s.received().map((r) => `${r.method} ${r.path}`),
      ['GET /fhir/Observation'],
    );
  });

  test('with opensrp_cache_timeout_seconds=0 every request looks the user up again', async () => {
    const cold = await startSyncStack({ env: { opensrp_cache_timeout_seconds: '0' } });
    try {
      const token = await cold.token();
      await cold.call(token, 'Patient');
      const response = await cold.call(token, 'Patient');
      assert.equal(response.status, 200);
      assert.ok(searchesOf(cold.received(), 'Composition').length === 1);
      assert.ok(searchesOf(cold.received(), 'Practitioner').length === 1);
    } finally {
      await cold.close();
    }
  });
});

describe('a user assigned 5,000 locations', () => {
  const VILLAGES = 5000;
  let s: SyncStack;
  let villages: string[];
  before(async () => {
    villages = Array.from({ length: VILLAGES }, (_, i) => `village-${String(i + 1).padStart(4, '0')}`);
    const facility: Location = { resourceType: 'Location', id: 'big-facility', name: 'Big facility' };
    const locations: Location[] = villages.map((id) => ({
      resourceType: 'Location',
      id,
      name: id,
      partOf: { reference: 'Location/big-facility' },
    }));
    const patient = (id: string, village: string): Patient => ({
      resourceType: 'Patient',
      id,
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: village }] },
    });
    const patients = [
      patient('big-first', villages[0]!),
      patient('big-middle', villages[2499]!),
      patient('big-last', villages[VILLAGES - 1]!),
    ];
    s = await startSyncStack({
      seed: [...assignedTo('big', 'big-facility'), facility, ...locations, ...patients],
    });
  });
  after(() => s.close());

  test('gets correct results through POST _search (no long URL upstream)', async () => {
    const token = await s.token({ sub: 'kc-big' });
    const response = await s.call(token, 'Patient?_count=50');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(idsIn(response), ['big-first', 'big-last', 'big-middle']);
    const posted = s.received().filter((r) => r.method === 'POST' && r.path === '/fhir/Patient/_search');
    assert.equal(posted.length, 1);
    assert.equal(searchesOf(s.received(), 'Patient').filter((r) => r.method === 'GET').length, 0);
    const tag = tagValuesOf(posted[0]!)[0]!;
    assert.equal(tag.split(',').length, VILLAGES + 1);
    // The wide level is asked in chunks (each URL short), not once per Location, and every page is followed.
    assert.ok(partofSearches(s.received()).length < 60);
    assert.ok(partofSearches(s.received()).some((r) => new URLSearchParams(r.query).has('_offset')));
  });
});
