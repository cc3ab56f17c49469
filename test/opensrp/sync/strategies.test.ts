/**
 * SyncAccessDecisionTest, over real HTTP: each sync strategy narrows searches to the user's tags,
 * and only the tags of that strategy are sent upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { idsIn, type SyncStack, searchesOf, startSyncStack, tagValuesOf } from './sync-stack.js';

const systemsIn = (tag: string) => new Set(tag.split(',').map((value) => value.split('|')[0]));
const idsOfSystem = (tag: string, system: string) =>
  tag
    .split(',')
    .filter((value) => value.startsWith(`${system}|`))
    .map((value) => value.slice(system.length + 1))
    .sort();

describe('sync strategies narrow searches to the user assignment', () => {
  let s: SyncStack;
  let workerPatients: string[];
  let district1Patients: string[];
  before(async () => {
    s = await startSyncStack();
    const { dataset } = s;
    workerPatients = dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility)).sort();
    district1Patients = dataset
      .patientsIn(dataset.locations.villages.filter((v) => v.startsWith('loc-d1-')))
      .sort();
  });
  after(() => s.close());

  test('getRequestMutation with Location ids: _tag has every location-tag-id of the subtree and no other system', async () => {
    const response = await s.call(await s.token({ strategy: 'Location' }), 'Patient');
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), workerPatients);
    const [search] = searchesOf(s.received(), 'Patient');
    const [tag] = tagValuesOf(search!);
    assert.deepEqual([...systemsIn(tag!)], [TAG_SYSTEMS.location]);
    assert.deepEqual(
      idsOfSystem(tag!, TAG_SYSTEMS.location),
      s.dataset.subtreeOf(PERSONAS.worker.facility).sort(),
    );
  });

  test('getRequestMutation with Organization ids: only organisation-tag-id|org-1', async () => {
    const response = await s.call(await s.token({ strategy: 'Organization' }), 'Patient');
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), district1Patients);
    const [tag] = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!);
    assert.equal(tag, `${TAG_SYSTEMS.organisation}|${PERSONAS.worker.organizationId}`);
  });

  test('getRequestMutation with CareTeam ids: only care-team-tag-id|team-1', async () => {
    const response = await s.call(await s.token({ strategy: 'CareTeam' }), 'Observation');
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), district1Patients.map((id) => `obs-${id.slice(4)}`).sort());
    const [tag] = tagValuesOf(searchesOf(s.received(), 'Observation')[0]!);
    assert.equal(tag, `${TAG_SYSTEMS.careTeam}|${PERSONAS.worker.careTeamId}`);
  });

  test('Practitioner strategy (the Java plugin fails on it): practitioner-tag-id with the practitioner id', async () => {
    const response = await s.call(
      await s.token({ strategy: 'Practitioner', sub: PERSONAS.other.sub }),
      'Patient',
    );
    assert.equal(response.status, 200);
    const district2 = s.dataset
      .patientsIn(s.dataset.locations.villages.filter((v) => v.startsWith('loc-d2-')))
      .sort();
    assert.deepEqual(idsIn(response), district2);
    const [tag] = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!);
    assert.equal(tag, `${TAG_SYSTEMS.practitioner}|${PERSONAS.other.practitionerId}`);
  });

  test('getRequestMutation with RelatedEntityLocation ids: both REL and lineage systems carry every id', async () => {
    const response = await s.call(await s.token({ strategy: 'RelatedEntityLocation' }), 'Patient');
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), workerPatients);
    const [tag] = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!);
    const subtree = s.dataset.subtreeOf(PERSONAS.worker.facility).sort();
    assert.deepEqual(idsOfSystem(tag!, TAG_SYSTEMS.relatedEntityLocation), subtree);
    assert.deepEqual(idsOfSystem(tag!, TAG_SYSTEMS.lineage), subtree);
  });

  test('RelatedEntityLocation with ALL_LOCATIONS and _syncLocations: tags come from the selected locations', async () => {
    const token = await s.token({
      strategy: 'RelatedEntityLocation',
      roles: ['ANDROID_CLIENT', 'ALL_LOCATIONS'],
    });
    const response = await s.call(token, `Patient?_syncLocations=${PERSONAS.other.facility}`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      idsIn(response),
      s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.other.facility)).sort(),
    );
    const [search] = searchesOf(s.received(), 'Patient');
    assert.equal(new URLSearchParams(search!.query).has('_syncLocations'), false);
    assert.deepEqual(
      idsOfSystem(tagValuesOf(search!)[0]!, TAG_SYSTEMS.relatedEntityLocation),
      s.dataset.subtreeOf(PERSONAS.other.facility).sort(),
    );
  });

  test('RelatedEntityLocation: _syncLocations without ALL_LOCATIONS is ignored (assigned locations)', async () => {
    const token = await s.token({ strategy: 'RelatedEntityLocation' });
    const response = await s.call(token, `Patient?_syncLocations=${PERSONAS.other.facility}`);
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), workerPatients);
  });

  test('RelatedEntityLocation: empty or blank _syncLocations does not error', async () => {
    const token = await s.token({
      strategy: 'RelatedEntityLocation',
      roles: ['ANDROID_CLIENT', 'ALL_LOCATIONS'],
    });
    for (const value of ['', '%20,%20']) {
      const response = await s.call(token, `Patient?_syncLocations=${value}`);
      assert.equal(response.status, 200, value);
      assert.deepEqual(idsIn(response), workerPatients, value);
    }
  });

  test('improvement: a client _tag out of scope is ANDed with ours and returns nothing extra', async () => {
    const token = await s.token({ strategy: 'Location' });
    const outside = `${TAG_SYSTEMS.location}|${PERSONAS.other.facility}-v1`;
    const response = await s.call(token, `Patient?_tag=${encodeURIComponent(outside)}`);
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), []);
    const tags = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!);
    assert.equal(tags.length, 2);
    assert.equal(tags[0], outside);
  });

  test('improvement: a client _tag inside the scope narrows further', async () => {
    const token = await s.token({ strategy: 'Location' });
    const village = `${PERSONAS.worker.facility}-v1`;
    const response = await s.call(
      token,
      `Patient?_tag=${encodeURIComponent(`${TAG_SYSTEMS.location}|${village}`)}`,
    );
    assert.deepEqual(idsIn(response), s.dataset.patientsIn([village]).sort());
  });

  test('improvement: POST Patient/_search is narrowed like GET (the Java plugin forgets it)', async () => {
    const response = await s.call(await s.token(), 'Patient/_search', {
      method: 'POST',
      body: 'gender=female',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(response.status, 200);
    const females = (response.json().entry as { resource: { gender: string; id: string } }[]).map(
      (e) => e.resource,
    );
    assert.ok(females.length > 0);
    for (const patient of females) assert.ok(workerPatients.includes(patient.id), patient.id);
    const [search] = searchesOf(s.received(), 'Patient');
    assert.equal(tagValuesOf(search!).length, 1);
  });

  test('GET Location/_search is filtered', async () => {
    const response = await s.call(await s.token(), 'Location/_search?name=x');
    assert.equal(response.status, 200);
    assert.equal(tagValuesOf(searchesOf(s.received(), 'Location').at(-1)!).length, 1);
  });

  test('compartment searches are narrowed: Patient/<out of scope>/Observation returns nothing', async () => {
    const token = await s.token();
    const outsider = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.other.facility))[0]!;
    const insider = workerPatients[0]!;
    assert.deepEqual(idsIn(await s.call(token, `Patient/${outsider}/Observation`)), []);
    assert.deepEqual(idsIn(await s.call(token, `Patient/${insider}/Observation`)), [
      `obs-${insider.slice(4)}`,
    ]);
    assert.equal(tagValuesOf(s.received().at(-1)!).length, 1);
  });

  test('WEB_CLIENT users are not narrowed', async () => {
    const token = await s.token({ roles: ['WEB_CLIENT'] });
    const response = await s.call(token, 'Patient?_count=100');
    assert.equal(response.status, 200);
    assert.equal(idsIn(response).length, s.dataset.patientsIn(s.dataset.locations.villages).length);
    assert.deepEqual(tagValuesOf(searchesOf(s.received(), 'Patient')[0]!), []);
  });

  test('preProcessWhenNotOneClientRoleIsAddedShouldThrowError: both or neither client role → 403, not 500', async () => {
    for (const roles of [['ANDROID_CLIENT', 'WEB_CLIENT'], []]) {
      const response = await s.call(await s.token({ roles }), 'Patient');
      assert.equal(response.status, 403, roles.join());
      assert.match(response.text, /exactly one of the client roles/);
    }
    assert.equal(s.received().length, 0);
  });

  test('a token without fhir_core_app_id → 403 naming the claim, nothing forwarded', async () => {
    const token = await s.stack.issuer.mint({
      sub: PERSONAS.worker.sub,
      realm_access: { roles: ['ANDROID_CLIENT'] },
    });
    const response = await s.call(token, 'Patient');
    assert.equal(response.status, 403);
    assert.match(response.text, /fhir_core_app_id/);
    assert.equal(searchesOf(s.received(), 'Patient').length, 0);
  });

  test('a user with no assignment → 403 naming the misconfiguration', async () => {
    const response = await s.call(await s.token({ sub: 'kc-nobody' }), 'Patient');
    assert.equal(response.status, 403);
    assert.match(response.text, /no Location assignment/);
    assert.equal(searchesOf(s.received(), 'Patient').length, 0);
  });

  test('gateway-only params (_syncLocations, filter_mode_lineage, mode) are never forwarded', async () => {
    const token = await s.token();
    for (const path of [
      'Patient?_syncLocations=loc-d1-f1&filter_mode_lineage=true&mode=x&gender=male',
      'Questionnaire?_syncLocations=loc-d1-f1&mode=list-entries',
    ]) {
      const response = await s.call(token, path);
      assert.equal(response.status, 200, path);
      const upstream = s.received().filter((r) => r.path === `/fhir/${path.split('?')[0]}`);
      assert.equal(upstream.length, 1, path);
      for (const name of ['_syncLocations', 'filter_mode_lineage', 'mode']) {
        assert.equal(new URLSearchParams(upstream[0]!.query).has(name), false, `${path}: ${name}`);
      }
    }
  });

  test('lineage mode: one Location _tag search on the lineage system, and the assigned location itself is in scope', async () => {
    s.sync().lookups.forgetLocations();
    const token = await s.token({ strategy: 'Location' });
    const response = await s.call(token, 'Patient?filter_mode_lineage=true');
    assert.equal(response.status, 200);
    assert.deepEqual(idsIn(response), workerPatients);
    const lineageSearches = searchesOf(s.received(), 'Location').filter((r) =>
      tagValuesOf(r).some((t) => t.startsWith(TAG_SYSTEMS.lineage)),
    );
    assert.equal(lineageSearches.length, 1);
    assert.equal(tagValuesOf(lineageSearches[0]!)[0], `${TAG_SYSTEMS.lineage}|${PERSONAS.worker.facility}`);
    const tag = tagValuesOf(searchesOf(s.received(), 'Patient')[0]!)[0]!;
    assert.ok(idsOfSystem(tag, TAG_SYSTEMS.location).includes(PERSONAS.worker.facility));
  });
});
