/** PractitionerDetailsEndpointHelperTest (assignment part): sub → Practitioner → teams → orgs → locations. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OrganizationAffiliation } from '@medplum/fhirtypes';
import { Backend } from '../../../src/backend/backend.js';
import { BackendFhirClient } from '../../../src/backend/fhir-client.js';
import { resolveAssignment } from '../../../src/opensrp/sync/assignment.js';
import { expandLocations, descendantIds, treeIds } from '../../../src/opensrp/sync/locations.js';
import { type LocalFhirServer, startFhirServer } from '../../support/fhir-server.js';
import { buildOpenSrpDataset, PERSONAS } from '../../support/opensrp-dataset.js';

const ids = (items: readonly { id?: string }[]) => items.map((i) => i.id).sort();

describe('resolveAssignment and expandLocations against a real FHIR server', () => {
  let fhir: LocalFhirServer;
  let client: BackendFhirClient;
  const dataset = buildOpenSrpDataset();
  before(async () => {
    const twoLocations: OrganizationAffiliation = {
      resourceType: 'OrganizationAffiliation',
      id: 'affiliation-extra',
      organization: { reference: 'Organization/org-2' },
      location: [{ reference: 'Location/loc-d2-f1' }, { reference: 'Location/loc-d2-f2' }],
    };
    const noLocation: OrganizationAffiliation = {
      resourceType: 'OrganizationAffiliation',
      id: 'affiliation-empty',
      organization: { reference: 'Organization/org-2' },
    };
    fhir = await startFhirServer({ seed: [...dataset.resources, twoLocations, noLocation] });
    client = new BackendFhirClient(
      new Backend({ baseUrl: fhir.baseUrl, connectTimeoutMs: 2000, timeoutMs: 5000 }),
    );
  });
  after(() => fhir.close());

  test('the worker: its CareTeam, PractitionerRole, Organization, affiliation and facility', async () => {
    const assignment = await resolveAssignment(client, PERSONAS.worker.sub);
    assert.equal(assignment.practitioner?.id, PERSONAS.worker.practitionerId);
    assert.deepEqual(ids(assignment.careTeams), ['team-1']);
    assert.deepEqual(ids(assignment.practitionerRoles), ['role-prac-worker']);
    assert.deepEqual(ids(assignment.organizations), ['org-1']);
    assert.deepEqual(ids(assignment.affiliations), ['affiliation-org-1']);
    assert.deepEqual(ids(assignment.locations), ['loc-d1-f1']);
    assert.deepEqual(assignment.groups, []);
  });

  test('improvement: every location of every affiliation counts, and one without a location does not fail', async () => {
    const assignment = await resolveAssignment(client, PERSONAS.other.sub);
    assert.deepEqual(ids(assignment.locations), ['loc-d2-f1', 'loc-d2-f2']);
  });

  test('an unknown user has an empty assignment (no error)', async () => {
    const assignment = await resolveAssignment(client, 'kc-nobody');
    assert.equal(assignment.practitioner, undefined);
    assert.deepEqual(assignment.locations, []);
  });

  test('expandLocations: the tree from the country, one partof search per level', async () => {
    fhir.clearRequests();
    const tree = await expandLocations(client, ['loc-country']);
    const { districts, facilities, villages } = dataset.locations;
    assert.deepEqual(descendantIds(tree).sort(), [...districts, ...facilities, ...villages].sort());
    assert.equal(treeIds(tree).length, 1 + districts.length + facilities.length + villages.length);
    assert.deepEqual(tree.childrenOf.get('loc-d1'), ['loc-d1-f1', 'loc-d1-f2']);
    assert.equal(tree.parentOf.get('loc-d1-f1-v1'), 'loc-d1-f1');
    // Location?_id=loc-country, then 4 levels of partof.
    assert.equal(
      fhir.countRequests((r) => r.path === '/fhir/Location'),
      5,
    );
  });

  test('expandLocations with unknown or empty roots', async () => {
    const tree = await expandLocations(client, ['nowhere']);
    assert.deepEqual(tree.roots, ['nowhere']);
    assert.equal(tree.byId.size, 0);
    assert.deepEqual((await expandLocations(client, [])).roots, []);
  });
});
