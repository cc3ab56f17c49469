/**
 * The `permission` factory as a whole (ACCESS_CHECKER=permission): roles before any data access
 * lookup, the sync narrowing after them, list-entries composed with the sync decision, the OpenSRP
 * endpoints registered and sharing the sync caches, state kept per gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List } from '@medplum/fhirtypes';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer } from '../support/issuer.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { type Stack, startStack } from '../support/stack.js';

const WORKER = PERSONAS.worker;
const IN_SCOPE_PATIENT = 'pat-d1-f1-v1-1';
const OUT_OF_SCOPE_PATIENT = 'pat-d2-f1-v1-1';

async function startPermission(env: Record<string, string> = {}): Promise<Stack> {
  const fhir = await startFhirServer({ seed: buildOpenSrpDataset().resources });
  const list: List = {
    resourceType: 'List',
    id: 'patients-list',
    status: 'current',
    mode: 'working',
    entry: [
      { item: { reference: `Patient/${IN_SCOPE_PATIENT}` } },
      { item: { reference: `Patient/${OUT_OF_SCOPE_PATIENT}` } },
    ],
  };
  await fhir.create(list);
  const stack = await startStack({ env: { ACCESS_CHECKER: 'permission', RUN_MODE: 'PROD', ...env }, fhir });
  const close = stack.close;
  return {
    ...stack,
    async close() {
      await close();
      await fhir.close();
    },
  };
}

function androidToken(stack: Stack, roles: string[], claims: Record<string, unknown> = {}): Promise<string> {
  return stack.issuer.mint({
    sub: WORKER.sub,
    fhir_core_app_id: APP_IDS.Location,
    realm_access: { roles: ['ANDROID_CLIENT', ...roles] },
    ...claims,
  });
}

async function get(stack: Stack, path: string, token: string, headers: Record<string, string> = {}) {
  stack.fhir.clearRequests();
  return send(stack.gatewayUrl, { path, headers: bearer(token, headers) });
}

describe('permission checker, one gateway', () => {
  let stack: Stack;
  before(async () => {
    stack = await startPermission();
  });
  after(() => stack.close());

  test('an ANDROID_CLIENT search passes the role check and is narrowed to the user’s locations', async () => {
    const response = await get(stack, '/fhir/Patient', await androidToken(stack, ['GET_PATIENT']));
    assert.equal(response.status, 200, response.text);
    const search = stack.fhir.requests.find((r) => r.path === '/fhir/Patient');
    assert.ok(search, 'the search was forwarded');
    const tag = search.query.getAll('_tag').join(',');
    assert.match(tag, new RegExp(`${TAG_SYSTEMS.location}\\|${WORKER.facility}`));
    assert.doesNotMatch(tag, /loc-d2/);
  });

  test('a missing role is refused before any data access lookup: no backend call at all', async () => {
    const token = await androidToken(stack, ['GET_OBSERVATION'], { sub: 'kc-cold-user' });
    const response = await get(stack, '/fhir/Patient', token);
    assert.equal(response.status, 403);
    assert.equal(stack.fhir.countRequests(), 0);
  });

  test('an unknown mode is a 400 before any data access lookup', async () => {
    const token = await androidToken(stack, ['GET_LIST'], { sub: 'kc-cold-user' });
    const response = await get(stack, '/fhir/List?_id=config-list&mode=everything', token);
    assert.equal(response.status, 400);
    assert.equal(stack.fhir.countRequests(), 0);
  });

  test('list-entries for an ANDROID_CLIENT user: entries in scope are returned, others are 404 entries', async () => {
    const token = await androidToken(stack, ['GET_LIST', 'GET_PATIENT']);
    const response = await get(stack, '/fhir/List/patients-list', token, {
      'fhir-gateway-mode': 'list-entries',
    });
    assert.equal(response.status, 200, response.text);
    const bundle = response.json() as {
      type: string;
      total: number;
      entry: { resource?: { id?: string }; response?: { status?: string } }[];
    };
    assert.equal(bundle.type, 'batch-response');
    assert.equal(bundle.total, 2);
    assert.equal(bundle.entry[0]?.resource?.id, IN_SCOPE_PATIENT);
    assert.equal(bundle.entry[1]?.resource, undefined);
    assert.match(bundle.entry[1]?.response?.status ?? '', /^404/);
  });

  test('list-entries: mode and _page never go upstream', async () => {
    const token = await androidToken(stack, ['GET_LIST', 'GET_QUESTIONNAIRE', 'GET_LOCATION']);
    const response = await get(stack, '/fhir/List?_id=config-list&mode=list-entries&_page=1&_count=2', token);
    assert.equal(response.status, 200, response.text);
    const listSearch = stack.fhir.requests.find((r) => r.path === '/fhir/List');
    assert.ok(listSearch);
    assert.equal(listSearch.query.has('mode'), false);
    assert.equal(listSearch.query.has('_page'), false);
    assert.equal((response.json() as { total?: number }).total, 3);
  });

  test('/PractitionerDetail is served, and an assignment loaded by a sync request costs it no backend call', async () => {
    const token = await androidToken(stack, ['GET_PATIENT']);
    await get(stack, '/fhir/Patient', token);
    const response = await get(stack, `/PractitionerDetail?keycloak-uuid=${WORKER.sub}`, token);
    assert.equal(response.status, 200, response.text);
    const detail = (response.json() as { entry?: { resource?: { resourceType?: string; id?: string } }[] })
      .entry?.[0]?.resource;
    assert.equal(detail?.resourceType, 'PractitionerDetail');
    assert.equal(detail?.id, WORKER.practitionerId);
    assert.equal(stack.fhir.countRequests(), 0);
  });
});

describe('permission checker, Location writes and the cached hierarchies', () => {
  let stack: Stack;
  before(async () => {
    stack = await startPermission();
  });
  after(() => stack.close());

  async function webToken(): Promise<string> {
    return stack.issuer.mint({
      sub: WORKER.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: { roles: ['WEB_CLIENT', 'GET_LOCATION', 'MANAGE_LOCATION'] },
    });
  }
  async function tree(token: string): Promise<string> {
    const response = await get(stack, '/LocationHierarchy?_id=loc-d1-f1', token);
    assert.equal(response.status, 200, response.text);
    return response.text;
  }

  test('a Location created, then deleted, through the gateway shows in the next /LocationHierarchy, then is gone', async () => {
    const token = await webToken();
    await tree(token);
    // Warm: the tree is cached (the TTL is 300 s by default).
    await tree(token);
    assert.equal(stack.fhir.countRequests(), 0);

    const created = await send(stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir/Location',
      headers: bearer(token, { 'content-type': 'application/fhir+json' }),
      body: JSON.stringify({
        resourceType: 'Location',
        name: 'New village',
        partOf: { reference: 'Location/loc-d1-f1' },
      }),
    });
    assert.equal(created.status, 201, created.text);
    const id = (created.json() as { id: string }).id;
    assert.match(await tree(token), new RegExp(`"${id}"`));

    // A delete is not a lineage write: forgotten all the same.
    const deleted = await send(stack.gatewayUrl, {
      method: 'DELETE',
      path: `/fhir/Location/${id}`,
      headers: bearer(token),
    });
    assert.ok(deleted.status === 200 || deleted.status === 204, deleted.text);
    assert.doesNotMatch(await tree(token), new RegExp(`"${id}"`));
  });
});

describe('permission checker, settings', () => {
  test('two gateways in one process keep their own settings', async () => {
    const custom = 'https://example.org/custom-location-tag';
    const first = await startPermission();
    const second = await startPermission({ LOCATION_TAG_URL: custom });
    try {
      for (const [stack, system] of [
        [first, TAG_SYSTEMS.location],
        [second, custom],
      ] as const) {
        await get(stack, '/fhir/Patient', await androidToken(stack, ['GET_PATIENT']));
        const tag = stack.fhir.requests.find((r) => r.path === '/fhir/Patient')?.query.get('_tag') ?? '';
        assert.ok(tag.startsWith(`${system}|`), `${system} in ${tag}`);
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('OPENSRP_CLIENT_ROLE_CLIENTS: client roles count as roles', async () => {
    const stack = await startPermission({ OPENSRP_CLIENT_ROLE_CLIENTS: 'fhir-web' });
    try {
      const token = await stack.issuer.mint({
        sub: WORKER.sub,
        realm_access: { roles: [] },
        resource_access: {
          'fhir-web': { roles: ['WEB_CLIENT', 'GET_PATIENT'] },
          other: { roles: ['GET_OBSERVATION'] },
        },
      });
      assert.equal((await get(stack, `/fhir/Patient/${OUT_OF_SCOPE_PATIENT}`, token)).status, 200);
      assert.equal((await get(stack, '/fhir/Observation', token)).status, 403);
    } finally {
      await stack.close();
    }
  });

  test('a broken setting stops the start with the variable named', async () => {
    const fhir = await startFhirServer();
    // Our own issuer: startStack does not close the one it starts when the gateway fails to start.
    const issuer = await startIssuer();
    try {
      await assert.rejects(
        startStack({
          env: { ACCESS_CHECKER: 'permission', opensrp_cache_timeout_seconds: 'soon' },
          fhir,
          issuer,
        }),
        /opensrp_cache_timeout_seconds/,
      );
    } finally {
      await issuer.close();
      await fhir.close();
    }
  });
});
