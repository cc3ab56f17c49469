/**
 * GET /PractitionerDetail over real HTTP (spec §4.1, §6.1), named after upstream's
 * PractitionerDetailsEndpointHelperTest where a case mirrors one, plus the fixes: the own uuid
 * needs only a token and one client role (issue 7), only a SUPERVISOR may ask for someone else
 * and only within the supervisor's own tree (attack P1), errors are OperationOutcomes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  CareTeam,
  Organization,
  OrganizationAffiliation,
  Practitioner,
  PractitionerRole,
  Resource,
} from '@medplum/fhirtypes';
import { send } from '../../support/http.js';
import { buildOpenSrpDataset, PERSONAS } from '../../support/opensrp-dataset.js';
import { type EndpointsStack, startEndpointsStack } from './endpoints-stack.js';

interface DetailBundle {
  resourceType: string;
  total?: number;
  type?: string;
  link?: { relation: string; url: string }[];
  entry?: { resource: Detail }[];
}
interface Detail {
  resourceType: string;
  id: string;
  meta: { profile: string[] };
  contained: { resourceType: string; id: string }[];
  fhir: Record<string, unknown>;
}

const { worker, supervisor } = PERSONAS;
const ANDROID = ['ANDROID_CLIENT'];

let gw: EndpointsStack;
before(async () => {
  gw = await startEndpointsStack();
});
after(() => gw.close());

const detailPath = (uuid: string) => `/PractitionerDetail?keycloak-uuid=${uuid}`;

describe('PractitionerDetailsEndpointHelperTest', () => {
  test('testGetPractitionerDetailsByKeycloakIdReturnsCorrectPractitioner: own uuid → Bundle of one PractitionerDetail', async () => {
    const res = await gw.get(detailPath(worker.sub), { roles: ANDROID });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as DetailBundle;
    assert.deepEqual(Object.keys(body).sort(), ['entry', 'resourceType', 'total']);
    assert.equal(body.resourceType, 'Bundle');
    assert.equal(body.total, 1);
    const detail = body.entry![0]!.resource;
    assert.equal(detail.resourceType, 'PractitionerDetail');
    assert.equal(detail.id, worker.practitionerId);
    assert.deepEqual(detail.meta, { profile: ['http://hl7.org/fhir/profiles/custom-resource'] });
    assert.deepEqual(
      detail.contained.map((r) => `${r.resourceType}/${r.id}`),
      [
        `CareTeam/${worker.careTeamId}`,
        `Practitioner/${worker.practitionerId}`,
        `Organization/${worker.organizationId}`,
        `PractitionerRole/role-${worker.practitionerId}`,
        `OrganizationAffiliation/affiliation-${worker.organizationId}`,
        `Location/${worker.facility}`,
      ],
    );
    const ids = (key: string) => (detail.fhir[key] as { id: string }[]).map((r) => r.id);
    assert.equal(detail.fhir.id, worker.practitionerId);
    assert.deepEqual(ids('careteams'), [worker.careTeamId]);
    assert.deepEqual(ids('teams'), [worker.organizationId]);
    assert.deepEqual(ids('locations'), [worker.facility]);
    assert.deepEqual(ids('practitioner'), [worker.practitionerId]);
    assert.deepEqual(ids('practitionerRoles'), [`role-${worker.practitionerId}`]);
    assert.deepEqual(ids('organizationAffiliation'), [`affiliation-${worker.organizationId}`]);
    assert.deepEqual(detail.fhir.groups, []);
    assert.deepEqual(detail.fhir.locationHierarchyList, []);
  });

  test('testGetPractitionerDetailsByKeycloakIdNotFound: unknown own uuid → empty searchset with a self link', async () => {
    const res = await gw.get(detailPath('kc-nobody'), { sub: 'kc-nobody', roles: ANDROID });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as DetailBundle;
    assert.equal(body.type, 'searchset');
    assert.equal(body.total, 0);
    assert.equal(body.entry, undefined);
    assert.deepEqual(body.link, [
      { relation: 'self', url: `${gw.stack.gatewayUrl}/PractitionerDetail?keycloak-uuid=kc-nobody` },
    ]);
  });

  test("another user's uuid without SUPERVISOR is a 403 OperationOutcome and nothing is looked up", async () => {
    const res = await gw.get(detailPath(PERSONAS.other.sub), { roles: ANDROID });
    assert.equal(res.status, 403);
    const outcome = res.json() as { resourceType: string; issue: { code: string; diagnostics: string }[] };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(outcome.issue[0]!.diagnostics, /Only a SUPERVISOR/);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('a missing keycloak-uuid is a 400', async () => {
    const res = await gw.get('/PractitionerDetail', { roles: ANDROID });
    assert.equal(res.status, 400);
    assert.equal((res.json() as { resourceType: string }).resourceType, 'OperationOutcome');
  });

  test('without a token the endpoint answers 401', async () => {
    const res = await send(gw.stack.gatewayUrl, { path: detailPath(worker.sub) });
    assert.equal(res.status, 401);
    assert.equal((res.json() as { resourceType: string }).resourceType, 'OperationOutcome');
  });

  test('testGetSupervisorPractitionerDetailsByKeycloakIdReturnsBundle: a supervisor gets the details of the team', async () => {
    const res = await gw.get(detailPath(supervisor.sub), {
      sub: supervisor.sub,
      roles: [...ANDROID, 'SUPERVISOR'],
    });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as DetailBundle;
    assert.equal(body.resourceType, 'Bundle');
    const ids = body.entry!.map((e) => e.resource.id).sort();
    assert.deepEqual(ids, [supervisor.practitionerId, worker.practitionerId].sort());
    assert.equal(body.total, 2);
    for (const { resource } of body.entry!) assert.equal(resource.resourceType, 'PractitionerDetail');
  });

  test('testGetSupervisorPractitionerDetailsWithInvalidIdReturnsEmptyBundle: a supervisor without a Practitioner', async () => {
    const res = await gw.get(detailPath('kc-nobody'), {
      sub: 'kc-nobody',
      roles: [...ANDROID, 'SUPERVISOR'],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { resourceType: 'Bundle' });
  });

  test('a warm second call costs no backend request (cached assignment)', async () => {
    const sub = PERSONAS.other.sub;
    await gw.get(detailPath(sub), { sub, roles: ANDROID });
    assert.ok(gw.forwarded().length > 0);
    const res = await gw.get(detailPath(sub), { sub, roles: ANDROID });
    assert.equal(res.status, 200);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('CORS headers follow CORS_ALLOW_ORIGIN (core registration covers the root routes)', async () => {
    const res = await gw.get(detailPath(worker.sub), {
      roles: ANDROID,
      headers: { origin: 'https://web.example.org' },
    });
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const preflight = await send(gw.stack.gatewayUrl, {
      method: 'OPTIONS',
      path: '/PractitionerDetail',
      headers: {
        origin: 'https://web.example.org',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.ok(preflight.status === 204 || preflight.status === 200, String(preflight.status));
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
  });
});

const SUPERVISOR_ROLES = ['ANDROID_CLIENT', 'SUPERVISOR'];
const asSupervisor = (uuid: string) =>
  gw.get(detailPath(uuid), { sub: supervisor.sub, roles: SUPERVISOR_ROLES });
const diagnostics = (res: { json(): unknown }) =>
  (res.json() as { resourceType: string; issue: { diagnostics: string }[] }).issue[0]!.diagnostics;

describe('issue 7: the own uuid needs a token and one client role', () => {
  test('ANDROID_CLIENT + GET_PATIENT (no GET_LOCATION, no GET_PRACTITIONER) gets the own detail', async () => {
    const res = await gw.get(detailPath(worker.sub), { roles: ['ANDROID_CLIENT', 'GET_PATIENT'] });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as DetailBundle;
    assert.deepEqual(Object.keys(body).sort(), ['entry', 'resourceType', 'total']);
    assert.equal(body.entry![0]!.resource.resourceType, 'PractitionerDetail');
    assert.equal(body.entry![0]!.resource.id, worker.practitionerId);
  });

  test('WEB_CLIENT gets the own detail too', async () => {
    const res = await gw.get(detailPath(worker.sub), { roles: ['WEB_CLIENT'] });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json() as unknown as DetailBundle).total, 1);
  });

  test('no client role, or both, is a 403 naming them, before any lookup', async () => {
    for (const roles of [['GET_PATIENT'], ['ANDROID_CLIENT', 'WEB_CLIENT']]) {
      const res = await gw.get(detailPath(worker.sub), { roles });
      assert.equal(res.status, 403, roles.join());
      assert.match(diagnostics(res), /exactly one of the roles ANDROID_CLIENT and WEB_CLIENT/);
      assert.deepEqual(gw.forwarded(), []);
    }
  });
});

describe('a SUPERVISOR reaches only practitioners within the own tree', () => {
  test(`P1: SUPERVISOR assigned ${supervisor.facility} asking for the practitioner of ${PERSONAS.other.facility} → 403; inside its tree → 200`, async () => {
    const outside = await asSupervisor(PERSONAS.other.sub);
    assert.equal(outside.status, 403, outside.text);
    assert.equal((outside.json() as { resourceType: string }).resourceType, 'OperationOutcome');
    assert.match(diagnostics(outside), /only practitioners assigned within the supervisor's own locations/);
    assert.doesNotMatch(
      outside.text,
      new RegExp(`${PERSONAS.other.practitionerId}|${PERSONAS.other.facility}|org-2|team-2`),
    );

    const inside = await asSupervisor(worker.sub);
    assert.equal(inside.status, 200, inside.text);
    const body = inside.json() as unknown as DetailBundle;
    assert.equal(body.resourceType, 'Bundle');
    const ids = body.entry!.map((e) => e.resource.id).sort();
    assert.deepEqual(ids, [supervisor.practitionerId, worker.practitionerId].sort());
    assert.equal(body.total, 2);
  });

  test('an unknown uuid gets the very same 403 as one outside the tree (existence is not disclosed)', async () => {
    const outside = await asSupervisor(PERSONAS.other.sub);
    const unknown = await asSupervisor('kc-nobody');
    assert.equal(unknown.status, 403);
    assert.equal(unknown.text, outside.text);
  });
});

/**
 * A district lead (assigned loc-d1, above the facility teams) and a practitioner who works both in
 * district 1 (CareTeam with the worker, managed by org-1) and district 2 (PractitionerRole in
 * org-2). Only these extra records are added; the personas' own records are unchanged.
 */
describe('supervisor reach follows the tree downward only, whole assignments only', () => {
  const lead = { sub: 'kc-lead', practitionerId: 'prac-lead', organizationId: 'org-lead' };
  const float = { sub: 'kc-float', practitionerId: 'prac-float' };
  const practitioner = (p: { sub: string; practitionerId: string }): Practitioner => ({
    resourceType: 'Practitioner',
    id: p.practitionerId,
    identifier: [
      { use: 'official', value: p.practitionerId },
      { use: 'secondary', value: p.sub },
    ],
    active: true,
  });
  const extra: Resource[] = [
    practitioner(lead),
    practitioner(float),
    { resourceType: 'Organization', id: lead.organizationId, active: true } satisfies Organization,
    {
      resourceType: 'PractitionerRole',
      id: 'role-prac-lead',
      practitioner: { reference: `Practitioner/${lead.practitionerId}` },
      organization: { reference: `Organization/${lead.organizationId}` },
    } satisfies PractitionerRole,
    {
      resourceType: 'OrganizationAffiliation',
      id: 'affiliation-org-lead',
      organization: { reference: `Organization/${lead.organizationId}` },
      location: [{ reference: 'Location/loc-d1' }],
    } satisfies OrganizationAffiliation,
    {
      resourceType: 'PractitionerRole',
      id: 'role-prac-float',
      practitioner: { reference: `Practitioner/${float.practitionerId}` },
      organization: { reference: `Organization/${PERSONAS.other.organizationId}` },
    } satisfies PractitionerRole,
    {
      resourceType: 'CareTeam',
      id: 'team-mixed',
      status: 'active',
      managingOrganization: [{ reference: `Organization/${worker.organizationId}` }],
      participant: [
        { member: { reference: `Practitioner/${worker.practitionerId}` } },
        { member: { reference: `Practitioner/${float.practitionerId}` } },
      ],
    } satisfies CareTeam,
  ];
  let wide: EndpointsStack;
  before(async () => {
    wide = await startEndpointsStack({ seed: [...buildOpenSrpDataset().resources, ...extra] });
  });
  after(() => wide.close());
  const ask = (asker: string, uuid: string) =>
    wide.get(detailPath(uuid), { sub: asker, roles: SUPERVISOR_ROLES });

  test('a district lead reaches a facility worker; the answer leaves out a teammate assigned partly outside', async () => {
    const res = await ask(lead.sub, worker.sub);
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as DetailBundle;
    assert.deepEqual(
      body.entry!.map((e) => e.resource.id).sort(),
      [supervisor.practitionerId, worker.practitionerId].sort(),
    );
    assert.equal(body.total, 2);
    // The worker's CareTeam still names the teammate; nothing of the teammate's own assignment shows.
    assert.ok(!/loc-d2|org-2|role-prac-float/.test(res.text), 'no trace of the assignment outside the tree');
  });

  test('the same teammate, asked for directly, is a 403 (one of their Locations is outside)', async () => {
    const res = await ask(lead.sub, float.sub);
    assert.equal(res.status, 403, res.text);
  });

  test('a facility supervisor does not reach the district lead above it, nor another district', async () => {
    assert.equal((await ask(supervisor.sub, lead.sub)).status, 403);
    assert.equal((await ask(lead.sub, PERSONAS.other.sub)).status, 403);
  });
});
