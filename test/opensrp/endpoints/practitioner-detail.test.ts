/**
 * GET /PractitionerDetail over real HTTP (spec §4.1, §6.1), named after upstream's
 * PractitionerDetailsEndpointHelperTest where a case mirrors one, plus the fixes: only a
 * SUPERVISOR may ask for someone else, errors are OperationOutcomes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from '../../support/http.js';
import { PERSONAS } from '../../support/opensrp-dataset.js';
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

  test('testGetSupervisorPractitionerDetailsWithInvalidIdReturnsEmptyBundle', async () => {
    const res = await gw.get(detailPath('kc-nobody'), {
      sub: supervisor.sub,
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
