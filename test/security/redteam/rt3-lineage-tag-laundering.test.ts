/**
 * RT3 — the location-lineage tag system is a sync system (RelatedEntityLocation users sync
 * `_tag=<lineage>|<their tree>`), but write-scope.ts does not hold lineage codes to the writer's
 * tree. A Location-strategy worker of L1 creates or changes resources tagged `lineage|L9`: they
 * land in the sync of the L9 users (W1/W2 with another tag system).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { android, L9, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { callAs, l9RelatedEntityUser, ownTag, tag } from './redteam-kit.js';

describe('RT3 sync tags of the lineage system are not held to the writer’s tree', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const writer = android('GET_PATIENT', 'POST_PATIENT', 'PUT_PATIENT', 'PATCH_PATIENT');
  const lineageL9 = tag(TAG_SYSTEMS.lineage, L9);

  test('RT3 POST Patient tagged location-lineage|L9 → 403, and the L9 user does not sync it', async () => {
    const response = await s.call(writer, 'POST', 'Patient', {
      body: { resourceType: 'Patient', name: [{ family: 'InjectedRt3' }], meta: { tag: [lineageL9] } },
    });
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(
      s.forwarded().filter((line) => line.startsWith('POST')),
      [],
    );
    const synced = await callAs(s, l9RelatedEntityUser, 'Patient?family=InjectedRt3');
    assert.equal(synced.status, 200, synced.text);
    assert.equal((synced.json().entry as unknown[] | undefined)?.length ?? 0, 0, synced.text);
  });

  test('RT3 variant: PUT Patient/<in-scope> adding location-lineage|L9 beside the own tag → 403, not written', async () => {
    const response = await s.call(writer, 'PUT', `Patient/${s.p1}`, {
      body: { resourceType: 'Patient', id: s.p1, meta: { tag: [ownTag, lineageL9] } },
    });
    assert.equal(response.status, 403, response.text);
    const stored = await s.fhir.repo.readResource('Patient', s.p1);
    assert.ok(!JSON.stringify(stored.meta?.tag).includes(TAG_SYSTEMS.lineage), 'the lineage tag was stored');
  });

  test('RT3 variant: PATCH adding location-lineage|L9 → 403, not written', async () => {
    const response = await s.call(writer, 'PATCH', `Patient/${s.p2}`, {
      body: JSON.stringify([{ op: 'add', path: '/meta/tag/-', value: lineageL9 }]),
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(response.status, 403, response.text);
    const stored = await s.fhir.repo.readResource('Patient', s.p2);
    assert.ok(!JSON.stringify(stored.meta?.tag).includes(TAG_SYSTEMS.lineage), 'the lineage tag was stored');
  });
});
