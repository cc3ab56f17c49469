/**
 * Improvement: batch and transaction entries are narrowed and checked exactly as the same requests
 * alone (the Java plugin grants Bundles with a role check only).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { PERSONAS } from '../../support/opensrp-dataset.js';
import { diagnostics, type SyncStack, startSyncStack } from './sync-stack.js';

const batch = (type: 'batch' | 'transaction', entry: Bundle['entry']): Bundle => ({
  resourceType: 'Bundle',
  type,
  entry,
});

describe('Bundles are narrowed entry by entry', () => {
  let s: SyncStack;
  let token: string;
  let inside: string;
  let outside: string;
  let workerPatients: string[];
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    workerPatients = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility)).sort();
    inside = workerPatients[0]!;
    outside = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.other.facility))[0]!;
  });
  after(() => s.close());

  test('batch: searches get _tag in their url, out-of-scope reads become 404 entries, exempt entries untouched', async () => {
    const response = await s.call(token, '', {
      method: 'POST',
      body: batch('batch', [
        { request: { method: 'GET', url: 'Patient?_count=100&_syncLocations=x' } },
        { request: { method: 'GET', url: `Patient/${outside}` } },
        { request: { method: 'GET', url: `Patient/${inside}` } },
        { request: { method: 'GET', url: 'Questionnaire?_id=q-registration' } },
      ]),
    });
    assert.equal(response.status, 200, response.text);
    const forwarded = s.received().find((r) => r.method === 'POST' && r.path === '/fhir/');
    const urls = (JSON.parse(forwarded!.body) as Bundle).entry!.map((e) => e.request!.url);
    assert.match(urls[0]!, /^Patient\?_count=100&_tag=https:\/\/smartregister\.org\/location-tag-id\|/);
    assert.doesNotMatch(urls[0]!, /_syncLocations/);
    assert.deepEqual(urls.slice(1), [
      `Patient/${outside}`,
      `Patient/${inside}`,
      'Questionnaire?_id=q-registration',
    ]);

    const entries = (response.json() as unknown as Bundle).entry!;
    const searchset = entries[0]!.resource as Bundle;
    assert.deepEqual(searchset.entry!.map((e) => e.resource!.id).sort(), workerPatients);
    assert.equal(entries[1]!.response!.status, '404 Not Found');
    assert.equal(entries[1]!.resource, undefined);
    assert.equal((entries[2]!.resource as Patient).id, inside);
    assert.equal((entries[3]!.resource as Bundle).entry?.length, 1);
  });

  test('transaction with one out-of-scope write → 403 for the whole Bundle, nothing forwarded', async () => {
    const stored = (await s.fhir.repo.readResource<Patient>('Patient', outside)) as Patient;
    const mine = (await s.fhir.repo.readResource<Patient>('Patient', inside)) as Patient;
    const response = await s.call(token, '', {
      method: 'POST',
      body: batch('transaction', [
        { resource: { ...mine, gender: 'other' }, request: { method: 'PUT', url: `Patient/${inside}` } },
        { resource: { ...stored, gender: 'other' }, request: { method: 'PUT', url: `Patient/${outside}` } },
      ]),
    });
    assert.equal(response.status, 403);
    assert.match(diagnostics(response), /^Bundle entry 1: Patient\/.* is outside the user's assignment/);
    // Only the gateway's own read of both stored versions, in one batch, reached the backend.
    const sent = s.received().filter((r) => r.method !== 'GET');
    assert.equal(sent.length, 1);
    const reads = JSON.parse(sent[0]!.body) as Bundle;
    assert.equal(reads.type, 'batch');
    assert.deepEqual(
      reads.entry!.map((e) => `${e.request!.method} ${e.request!.url}`),
      [`GET Patient/${inside}`, `GET Patient/${outside}`],
    );
  });

  test('a Bundle entry that cannot be narrowed denies the Bundle', async () => {
    const response = await s.call(token, '', {
      method: 'POST',
      body: batch('batch', [{ request: { method: 'GET', url: 'Patient/_history' } }]),
    });
    assert.equal(response.status, 403);
    assert.equal(s.received().length, 0);
  });

  test('WEB_CLIENT Bundles are forwarded as sent', async () => {
    const web = await s.token({ roles: ['WEB_CLIENT'] });
    const sent = batch('batch', [{ request: { method: 'GET', url: `Patient/${outside}` } }]);
    const response = await s.call(web, '', { method: 'POST', body: sent });
    assert.equal(response.status, 200);
    assert.equal(((response.json() as unknown as Bundle).entry![0]!.resource as Patient).id, outside);
    assert.deepEqual(JSON.parse(s.received()[0]!.body), sent);
  });
});
