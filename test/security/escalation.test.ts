/**
 * Escalation (issue 8; ../shared/cases/attacks.md E1-E3): an Android user can never widen their own
 * assignment by writing what it is derived from (Practitioner, PractitionerRole, CareTeam,
 * Organization, OrganizationAffiliation, Location). Refused by default; with
 * OPENSRP_ANDROID_ASSIGNMENT_WRITES only writes that add nothing to the writer's assignment pass.
 * Writes of those types by any user clear the assignment caches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CareTeam, Resource } from '@medplum/fhirtypes';
import type { RawResponse } from '../support/http.js';
import { PERSONAS } from '../support/opensrp-dataset.js';
import { android, L9, type SecurityStack, startSecurityStack, web } from './security-stack.js';
import { backendWrites, bundle, tag } from './writes-support.js';

const OWN = PERSONAS.worker;
const OTHER = PERSONAS.other;

const diagnostics = (response: RawResponse) =>
  ((response.json() as { issue?: { diagnostics?: string }[] }).issue ?? [])
    .map((i) => i.diagnostics)
    .join(' ');

/** The three attacks of the catalogue: each would put L9 (the other team's facility) in the worker's scope. */
const ATTACKS: Record<'E1' | 'E2' | 'E3', Resource> = {
  E1: {
    resourceType: 'CareTeam',
    participant: [{ member: { reference: `Practitioner/${OWN.practitionerId}` } }],
    managingOrganization: [{ reference: `Organization/${OTHER.organizationId}` }],
  },
  E2: {
    resourceType: 'PractitionerRole',
    practitioner: { reference: `Practitioner/${OWN.practitionerId}` },
    organization: { reference: `Organization/${OTHER.organizationId}` },
  },
  E3: {
    resourceType: 'OrganizationAffiliation',
    organization: { reference: `Organization/${OWN.organizationId}` },
    location: [{ reference: `Location/${L9}` }],
  },
};

/** The catalogue's cases by name, so each test carries its id. */
const CASE_TITLES: Record<keyof typeof ATTACKS, string> = {
  E1: 'E1 — POST CareTeam {participant: own Practitioner, managingOrganization: org2}',
  E2: 'E2 — POST PractitionerRole {practitioner: own, organization: org2}',
  E3: 'E3 — POST OrganizationAffiliation {organization: own org1, location: L9}',
};

const attacker = android(
  'GET_PATIENT',
  'POST_CARETEAM',
  'PUT_CARETEAM',
  'GET_CARETEAM',
  'POST_PRACTITIONERROLE',
  'POST_ORGANIZATIONAFFILIATION',
  'POST_LOCATION',
  'PUT_LOCATION',
  'POST_PRACTITIONER',
  'PUT_PRACTITIONER',
  'DELETE_PRACTITIONER',
  'POST_ORGANIZATION',
  'POST_GROUP',
);

/** The patient ids the worker syncs. */
async function syncedPatients(s: SecurityStack): Promise<string[]> {
  const response = await s.call(attacker, 'GET', 'Patient?_count=100');
  assert.equal(response.status, 200, response.text);
  const found = response.json() as { entry?: { resource?: { id?: string } }[] };
  return (found.entry ?? []).map((e) => e.resource?.id ?? '').sort();
}

describe('escalation: Android users cannot widen their own assignment (default: refused)', () => {
  let s: SecurityStack;
  let own: string[];
  before(async () => {
    s = await startSecurityStack();
    own = await syncedPatients(s);
    assert.ok(own.length > 0 && !own.includes('p9'));
  });
  after(() => s.close());

  for (const [id, resource] of Object.entries(ATTACKS)) {
    test(`${CASE_TITLES[id as keyof typeof ATTACKS]}: joins the other team's area → 403, nothing forwarded, scope unchanged`, async () => {
      const response = await s.call(attacker, 'POST', resource.resourceType, { body: resource });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /OPENSRP_ANDROID_ASSIGNMENT_WRITES/);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.deepEqual(await syncedPatients(s), own);
    });
  }

  test('E1 variants: PUT of the other team adding the user, as a transaction entry, conditionally → 403', async () => {
    const team = await s.fhir.repo.readResource<CareTeam>('CareTeam', OTHER.careTeamId);
    const joined = {
      ...team,
      participant: [
        ...(team.participant ?? []),
        { member: { reference: `Practitioner/${OWN.practitionerId}` } },
      ],
    };
    for (const [method, path, body] of [
      ['PUT', `CareTeam/${OTHER.careTeamId}`, joined],
      ['PUT', `CareTeam?name=${OTHER.careTeamId}`, joined],
      [
        'POST',
        '',
        bundle('transaction', [{ resource: ATTACKS.E1, request: { method: 'POST', url: 'CareTeam' } }]),
      ],
    ] as const) {
      const response = await s.call(attacker, method, path, { body });
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
    }
    assert.deepEqual(await syncedPatients(s), own);
  });

  test('E variants: Location, Practitioner and Organization writes are refused too; Group is not an assignment input', async () => {
    for (const resource of [
      { resourceType: 'Location', name: 'new', partOf: { reference: `Location/${OWN.facility}` } },
      { resourceType: 'Practitioner', identifier: [{ value: OWN.sub }] },
      { resourceType: 'Organization', name: 'new' },
    ]) {
      const response = await s.call(attacker, 'POST', resource.resourceType, { body: resource });
      assert.equal(response.status, 403, `${resource.resourceType}: ${response.text}`);
      assert.deepEqual(backendWrites(s.fhir), [], resource.resourceType);
    }
    const household = await s.call(attacker, 'POST', 'Group', {
      body: {
        resourceType: 'Group',
        type: 'person',
        actual: true,
        meta: { tag: [tag('location', `${OWN.facility}-v1`)] },
      },
    });
    assert.equal(household.status, 201, household.text);
  });

  test('E control: a WEB user may write them (roles only), as upstream', async () => {
    const response = await s.call(web('POST_CARETEAM', 'GET_CARETEAM'), 'POST', 'CareTeam', {
      body: { resourceType: 'CareTeam', name: 'web-made' },
    });
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(backendWrites(s.fhir), ['POST /fhir/CareTeam']);
  });
});

describe('escalation with OPENSRP_ANDROID_ASSIGNMENT_WRITES=true: only writes that keep the user inside', () => {
  let s: SecurityStack;
  let own: string[];
  before(async () => {
    s = await startSecurityStack({ OPENSRP_ANDROID_ASSIGNMENT_WRITES: 'true' });
    own = await syncedPatients(s);
  });
  after(() => s.close());

  for (const [id, resource] of Object.entries(ATTACKS)) {
    test(`${CASE_TITLES[id as keyof typeof ATTACKS]}, with the setting: the widening write is still refused (403)`, async () => {
      const response = await s.call(attacker, 'POST', resource.resourceType, { body: resource });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /would add .* to the user's assignment/);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.deepEqual(await syncedPatients(s), own);
    });
  }

  test('E1 variant with the setting: a new team naming the user adds a team even with the own organization → 403', async () => {
    const response = await s.call(attacker, 'POST', 'CareTeam', {
      body: { ...ATTACKS.E1, managingOrganization: [{ reference: `Organization/${OWN.organizationId}` }] },
    });
    assert.equal(response.status, 403, response.text);
    assert.deepEqual(backendWrites(s.fhir), []);
  });

  test('E1-E3 controls with the setting: writes that add nothing to the user’s assignment pass', async () => {
    for (const resource of [
      { resourceType: 'CareTeam', name: 'a team without the user' },
      { ...ATTACKS.E2, organization: { reference: `Organization/${OWN.organizationId}` } },
      { ...ATTACKS.E3, location: [{ reference: `Location/${OWN.facility}-v2` }] },
    ]) {
      const response = await s.call(attacker, 'POST', resource.resourceType, { body: resource });
      assert.equal(response.status, 201, `${resource.resourceType}: ${response.text}`);
      assert.deepEqual(backendWrites(s.fhir), [`POST /fhir/${resource.resourceType}`]);
    }
    assert.deepEqual(await syncedPatients(s), own);
  });

  test('E1 variants with the setting: the own team may be renamed, not handed to another organization', async () => {
    const team = await s.fhir.repo.readResource<CareTeam>('CareTeam', OWN.careTeamId);
    const renamed = await s.call(attacker, 'PUT', `CareTeam/${OWN.careTeamId}`, {
      body: { ...team, name: 'renamed' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    const moved = await s.call(attacker, 'PUT', `CareTeam/${OWN.careTeamId}`, {
      body: {
        ...team,
        managingOrganization: [
          ...(team.managingOrganization ?? []),
          { reference: `Organization/${OTHER.organizationId}` },
        ],
      },
    });
    assert.equal(moved.status, 403, moved.text);
    assert.deepEqual(backendWrites(s.fhir), []);
    const other = await s.call(attacker, 'PUT', `CareTeam/${OTHER.careTeamId}`, {
      body: { ...(await s.fhir.repo.readResource('CareTeam', OTHER.careTeamId)), name: 'x' },
    });
    assert.equal(other.status, 403, other.text);
  });

  test('E variants with the setting: a Location placed under the tree, a Practitioner claiming the sub, deleting the own Practitioner → 403', async () => {
    for (const [method, path, body] of [
      [
        'POST',
        'Location',
        { resourceType: 'Location', name: 'new', partOf: { reference: `Location/${OWN.facility}` } },
      ],
      ['POST', 'Practitioner', { resourceType: 'Practitioner', identifier: [{ value: OWN.sub }] }],
      ['DELETE', `Practitioner/${OWN.practitionerId}`, undefined],
    ] as const) {
      const response = await s.call(attacker, method, path, body === undefined ? {} : { body });
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
    }
  });
});

describe('assignment caches are cleared by writes of what assignments are derived from (any user)', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  test('E cache: a change made behind the gateway waits for the TTL; any write through it is seen at once', async () => {
    const own = await syncedPatients(s);
    assert.ok(!own.includes('p9'));
    // Written straight into the backend: the worker's cached assignment does not know it yet.
    await s.fhir.create<CareTeam>({ ...(ATTACKS.E1 as CareTeam), id: 'joined-behind' });
    assert.deepEqual(await syncedPatients(s), own);
    // A WEB admin writes one of the assignment types through the gateway: every assignment is re-read.
    const admin = web('GET_ORGANIZATION', 'PUT_ORGANIZATION');
    const org = await s.fhir.repo.readResource('Organization', OWN.organizationId);
    const write = await s.call(admin, 'PUT', `Organization/${OWN.organizationId}`, { body: org });
    assert.equal(write.status, 200, write.text);
    const widened = await syncedPatients(s);
    assert.ok(widened.includes('p9'), 'the new team (made by an admin) counts at once');

    // Removed behind the gateway again; a delete through it (of another team) clears the caches too.
    await s.fhir.repo.deleteResource('CareTeam', 'joined-behind');
    assert.ok((await syncedPatients(s)).includes('p9'), 'still cached');
    await s.fhir.create<CareTeam>({ resourceType: 'CareTeam', id: 'throwaway' });
    const cleanup = await s.call(web('DELETE_CARETEAM'), 'DELETE', 'CareTeam/throwaway');
    assert.ok(cleanup.status < 300, cleanup.text);
    assert.deepEqual(await syncedPatients(s), own);
  });
});
