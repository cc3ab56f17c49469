/**
 * GET /LocationHierarchy over real HTTP (spec §4.2, §6.2), named after upstream's
 * LocationHierarchyEndpointHelperTest where a case mirrors one, plus the fixes: the own tree
 * needs only a token and one client role (issue 7), other Locations need a Location read role
 * and WEB_CLIENT, ALL_LOCATIONS or SUPERVISOR, 400 for bad parameters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List } from '@medplum/fhirtypes';
import { buildOpenSrpDataset, PERSONAS } from '../../support/opensrp-dataset.js';
import { type EndpointsStack, startEndpointsStack } from './endpoints-stack.js';

interface Node {
  nodeId: string;
  label: string;
  node: { resourceType: string; id: string };
  parent?: string;
  children?: { childId: string; treeNode: Node }[];
}
interface Hierarchy {
  resourceType: string;
  id: string;
  locationId?: string;
  meta: { profile: string[] };
  LocationHierarchyTree?: {
    locationsHierarchy: {
      listOfNodes: { treeNodeId: string; treeNode: Node[] };
      parentChildren?: { identifier: string; childIdentifiers: string[] }[];
    };
  };
}
interface HierarchyBundle {
  resourceType: string;
  total: number;
  entry?: { resource: Hierarchy }[];
}
interface ListBundle {
  resourceType: string;
  id?: string;
  type?: string;
  total: number;
  link: { relation: string; url: string }[];
  entry?: { resource: { id: string } }[];
}

const dataset = buildOpenSrpDataset();
const WEB = ['WEB_CLIENT', 'GET_LOCATION'];
const ANDROID = ['ANDROID_CLIENT', 'GET_LOCATION'];
const inventory: List = {
  resourceType: 'List',
  id: 'inventory-v1',
  status: 'current',
  mode: 'working',
  subject: { reference: 'Location/loc-d1-f1-v1' },
};

let gw: EndpointsStack;
before(async () => {
  gw = await startEndpointsStack({ seed: [...dataset.resources, inventory] });
});
after(() => gw.close());

async function hierarchies(query: string, roles = WEB, sub?: string): Promise<HierarchyBundle> {
  const res = await gw.get(`/LocationHierarchy${query}`, { roles, ...(sub ? { sub } : {}) });
  assert.equal(res.status, 200, res.text);
  return res.json() as unknown as HierarchyBundle;
}
async function list(query: string, roles = WEB): Promise<ListBundle> {
  const res = await gw.get(`/LocationHierarchy?mode=list&${query}`, { roles });
  assert.equal(res.status, 200, res.text);
  return res.json() as unknown as ListBundle;
}
const locationSearches = () => gw.forwarded().filter((r) => r.startsWith('GET /Location'));
const childIds = (node: Node) => (node.children ?? []).map((c) => c.childId);

describe('LocationHierarchyEndpointHelperTest', () => {
  test('testGetLocationHierarchyFound: the tree of loc-country, 4 levels, in the documented shape', async () => {
    const body = await hierarchies('?_id=loc-country');
    assert.deepEqual(Object.keys(body).sort(), ['entry', 'resourceType', 'total']);
    assert.equal(body.total, 1);
    const hierarchy = body.entry![0]!.resource;
    assert.equal(hierarchy.resourceType, 'LocationHierarchy');
    assert.equal(hierarchy.id, 'Location Resource : loc-country');
    assert.equal(hierarchy.locationId, 'loc-country');
    assert.deepEqual(hierarchy.meta.profile, ['http://hl7.org/fhir/profiles/custom-resource']);

    const { listOfNodes, parentChildren } = hierarchy.LocationHierarchyTree!.locationsHierarchy;
    assert.equal(listOfNodes.treeNodeId, 'Location/loc-country');
    assert.ok(Array.isArray(listOfNodes.treeNode), 'treeNode is an array at the root');
    const root = listOfNodes.treeNode[0]!;
    assert.equal(root.nodeId, 'Location/loc-country');
    assert.equal(root.label, 'Country');
    assert.equal(root.node.resourceType, 'Location');
    assert.equal(root.node.id, 'loc-country');
    assert.equal(root.parent, undefined);
    assert.deepEqual(childIds(root), ['Location/loc-d1', 'Location/loc-d2']);

    const district = root.children![0]!.treeNode;
    assert.ok(!Array.isArray(district), 'treeNode is an object inside children');
    assert.equal(district.parent, 'Location/loc-country');
    assert.equal(district.label, 'District 1');
    const facility = district.children![0]!.treeNode;
    assert.equal(facility.nodeId, 'Location/loc-d1-f1');
    assert.deepEqual(childIds(facility), [
      'Location/loc-d1-f1-v1',
      'Location/loc-d1-f1-v2',
      'Location/loc-d1-f1-v3',
    ]);
    const village = facility.children![0]!.treeNode;
    assert.equal(village.parent, 'Location/loc-d1-f1');
    assert.equal(village.children, undefined, 'a leaf has no children');

    assert.equal(parentChildren?.length, 7, 'one row per parent: country, 2 districts, 4 facilities');
    assert.deepEqual(parentChildren![0], {
      identifier: 'Location/loc-country',
      childIdentifiers: ['Location/loc-d1', 'Location/loc-d2'],
    });
    // One search for the root, then one per level (the last finds no children).
    assert.equal(locationSearches().length, 5, locationSearches().join('\n'));
  });

  test('a warm identical request costs no backend call (cached hierarchy)', async () => {
    await hierarchies('?_id=loc-country');
    assert.deepEqual(gw.forwarded(), []);
  });

  test('a root with a parent out of the tree names it (parent and a parentChildren row)', async () => {
    const hierarchy = (await hierarchies('?_id=loc-d1')).entry![0]!.resource;
    const tree = hierarchy.LocationHierarchyTree!.locationsHierarchy;
    assert.equal(tree.listOfNodes.treeNode[0]!.parent, 'Location/loc-country');
    assert.deepEqual(tree.parentChildren![0], {
      identifier: 'Location/loc-country',
      childIdentifiers: ['Location/loc-d1'],
    });
  });

  test('testGetLocationHierarchyNotFound: an unknown _id answers the not-found placeholder', async () => {
    const body = await hierarchies('?_id=loc-missing');
    assert.deepEqual(body.entry![0]!.resource, {
      resourceType: 'LocationHierarchy',
      id: 'Location Resource : Not Found',
      meta: { profile: ['http://hl7.org/fhir/profiles/custom-resource'] },
    });
  });

  test('testGetPaginatedLocations: list mode pages in level order with self, next and previous links', async () => {
    const body = await list('_id=loc-d1&_count=2&_page=2');
    assert.equal(body.total, 9);
    assert.equal(body.type, undefined);
    assert.deepEqual(
      body.entry?.map((e) => e.resource.id),
      ['loc-d1-f2', 'loc-d1-f1-v1'],
    );
    const base = `${gw.stack.gatewayUrl}/LocationHierarchy?mode=list&_id=loc-d1&_count=2`;
    assert.deepEqual(body.link, [
      { relation: 'self', url: `${base}&_page=2` },
      { relation: 'next', url: `${base}&_page=3` },
      { relation: 'previous', url: `${base}&_page=1` },
    ]);
  });

  test('testSummaryCount: _summary=count answers only the total', async () => {
    const body = await list('_id=loc-d1&_summary=count');
    assert.equal(body.type, 'searchset');
    assert.equal(body.total, 9);
    assert.equal(body.entry, undefined);
    assert.equal(
      body.link[0]!.url,
      `${gw.stack.gatewayUrl}/LocationHierarchy?mode=list&_id=loc-d1&_summary=count`,
    );
  });

  test('testAdminLevelFilters: administrativeLevelMin/Max keep Locations of those levels', async () => {
    assert.equal((await list('_id=loc-country&administrativeLevelMin=1&administrativeLevelMax=2')).total, 6);
    assert.equal((await list('_id=loc-country&administrativeLevelMin=3&_summary=count')).total, 12);
    const tree = (await hierarchies('?_id=loc-country&administrativeLevelMax=1')).entry![0]!.resource;
    const root = tree.LocationHierarchyTree!.locationsHierarchy.listOfNodes.treeNode[0]!;
    assert.deepEqual(childIds(root), ['Location/loc-d1', 'Location/loc-d2']);
    assert.equal(root.children![0]!.treeNode.children, undefined, 'facilities and villages are filtered out');
    // Left-out levels do not cut the tree: villages hang from the nearest kept ancestor.
    const villages = (await hierarchies('?_id=loc-d1&administrativeLevelMin=3')).entry![0]!.resource;
    const anchor = villages.LocationHierarchyTree!.locationsHierarchy.listOfNodes.treeNode[0]!;
    assert.equal(childIds(anchor).length, 6);
  });

  test('testFilterInventory: filterInventory=true keeps Locations that are the subject of a List', async () => {
    const body = await list('_id=loc-d1-f1&filterInventory=true');
    assert.deepEqual(
      body.entry?.map((e) => e.resource.id),
      ['loc-d1-f1-v1'],
    );
    assert.equal(
      gw.forwarded().filter((r) => r.startsWith('GET /List')).length,
      1,
      'one search, not one per Location',
    );
  });

  test('testLastUpdatedFilter: _lastUpdated keeps Locations updated at or after it (list mode)', async () => {
    assert.equal((await list('_id=loc-d1-f1&_lastUpdated=2000-01-01')).total, 4);
    const none = await list('_id=loc-d1-f1&_lastUpdated=2999-01-01T00:00:00Z');
    assert.equal(none.total, 0);
    assert.equal(none.type, 'searchset');
  });

  test('filter_mode_lineage lists by lineage tag in one search', async () => {
    const body = await list('_id=loc-d1&filter_mode_lineage=true&_summary=count');
    assert.equal(body.total, 9);
    assert.ok(
      locationSearches().some((r) => r.includes('_tag=')),
      locationSearches().join('\n'),
    );
  });

  test('bad parameters are 400 OperationOutcomes', async () => {
    for (const [query, message] of [
      ['?_id=loc-country&administrativeLevelMin=abc', /Invalid value for administrativeLevelMin: abc/],
      ['?_id=loc-country&administrativeLevelMin=5&administrativeLevelMax=2', /cannot be greater than/],
      ['?_id=loc-country&mode=list&_count=0', /_count/],
      ['?_id=loc-country&mode=list&_page=x', /_page/],
      ['?_id=loc-country&mode=list&_lastUpdated=yesterday', /_lastUpdated/],
      ['?_id=loc-country&mode=graph', /mode/],
      ['?_id=a%20b', /_id/],
      ['?mode=list&_syncLocations=ok,no%20way', /_syncLocations/],
    ] as const) {
      const res = await gw.get(`/LocationHierarchy${query}`, { roles: WEB });
      assert.equal(res.status, 400, query);
      const outcome = res.json() as { resourceType: string; issue: { diagnostics: string }[] };
      assert.equal(outcome.resourceType, 'OperationOutcome', query);
      assert.match(outcome.issue[0]!.diagnostics, message, query);
    }
  });
});

describe('LocationHierarchy authorization (fix: upstream checks nothing but the token)', () => {
  test('naming a Location outside the own tree needs GET_LOCATION or MANAGE_LOCATION, even for WEB_CLIENT', async () => {
    const res = await gw.get('/LocationHierarchy?_id=loc-country', { roles: ['WEB_CLIENT', 'GET_PATIENT'] });
    assert.equal(res.status, 403);
    assert.match(res.text, /GET_LOCATION or MANAGE_LOCATION/);
    assert.deepEqual(
      gw.forwarded().filter((r) => r.includes('loc-country')),
      [],
    );
    assert.equal(
      (await gw.get('/LocationHierarchy?_id=loc-country', { roles: ['WEB_CLIENT', 'MANAGE_LOCATION'] }))
        .status,
      200,
    );
  });

  test('an Android user may name only Locations of their own assignment tree', async () => {
    const outside = await gw.get('/LocationHierarchy?_id=loc-country', { roles: ANDROID });
    assert.equal(outside.status, 403);
    assert.match(outside.text, /loc-country/);
    assert.equal((await gw.get('/LocationHierarchy?_id=loc-d1-f1-v2', { roles: ANDROID })).status, 200);
    const selected = await gw.get('/LocationHierarchy?mode=list&_syncLocations=loc-d1-f1,loc-d2-f1', {
      roles: ANDROID,
    });
    assert.equal(selected.status, 403);
    assert.match(selected.text, /loc-d2-f1/);
    assert.doesNotMatch(selected.text, /loc-d1-f1[^-]/);
  });

  test('ALL_LOCATIONS and SUPERVISOR users may name any Location (with a Location read role)', async () => {
    for (const role of ['ALL_LOCATIONS', 'SUPERVISOR']) {
      const res = await gw.get('/LocationHierarchy?_id=loc-country', { roles: [...ANDROID, role] });
      assert.equal(res.status, 200, role);
      const without = await gw.get('/LocationHierarchy?_id=loc-country', {
        roles: ['ANDROID_CLIENT', 'GET_PATIENT', role],
      });
      assert.equal(without.status, 403, role);
    }
  });

  test("without _id, the tree of the caller's assigned Locations", async () => {
    const body = await hierarchies('', ANDROID);
    assert.equal(body.total, 1);
    const hierarchy = body.entry![0]!.resource;
    assert.equal(hierarchy.locationId, PERSONAS.worker.facility);
    const root = hierarchy.LocationHierarchyTree!.locationsHierarchy.listOfNodes.treeNode[0]!;
    assert.deepEqual(
      childIds(root),
      dataset
        .subtreeOf(PERSONAS.worker.facility)
        .slice(1)
        .map((id) => `Location/${id}`),
    );
  });

  test('without _id, list mode lists the selected _syncLocations, else the assigned ones', async () => {
    assert.equal((await list('_syncLocations=loc-d1-f1-v1,loc-d1-f1-v2', ANDROID)).total, 2);
    const assigned = await list('_count=100', ANDROID);
    assert.deepEqual(
      assigned.entry?.map((e) => e.resource.id),
      dataset.subtreeOf(PERSONAS.worker.facility),
    );
  });
});

describe('issue 7: the own tree needs a token and one client role, no GET_LOCATION', () => {
  const APP_USER = ['ANDROID_CLIENT', 'GET_PATIENT'];
  const own = PERSONAS.worker.facility;
  const ownTree = dataset.subtreeOf(own);

  async function asAppUser(query: string, roles: readonly string[] = APP_USER) {
    return gw.get(`/LocationHierarchy${query}`, { roles });
  }

  test('?_id=<own> answers the tree in the documented shape', async () => {
    const res = await asAppUser(`?_id=${own}`);
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as HierarchyBundle;
    assert.deepEqual(Object.keys(body).sort(), ['entry', 'resourceType', 'total']);
    assert.equal(body.total, 1);
    const hierarchy = body.entry![0]!.resource;
    assert.equal(hierarchy.resourceType, 'LocationHierarchy');
    assert.equal(hierarchy.locationId, own);
    const root = hierarchy.LocationHierarchyTree!.locationsHierarchy.listOfNodes.treeNode[0]!;
    assert.equal(root.nodeId, `Location/${own}`);
    assert.deepEqual(
      childIds(root),
      ownTree.slice(1).map((id) => `Location/${id}`),
    );
  });

  test('?_id=<own>&mode=list answers the paged list, and _summary=count its total', async () => {
    const listed = await asAppUser(`?_id=${own}&mode=list&_count=100`);
    assert.equal(listed.status, 200, listed.text);
    const body = listed.json() as unknown as ListBundle;
    assert.equal(body.total, ownTree.length);
    assert.deepEqual(
      body.entry?.map((e) => e.resource.id),
      ownTree,
    );
    assert.equal(body.link[0]!.relation, 'self');

    const counted = await asAppUser(`?_id=${own}&mode=list&_summary=count`);
    assert.equal(counted.status, 200, counted.text);
    const count = counted.json() as unknown as ListBundle;
    assert.equal(count.type, 'searchset');
    assert.equal(count.total, ownTree.length);
    assert.equal(count.entry, undefined);
  });

  test('a Location below the own assignment, and the forms without _id, are served too', async () => {
    assert.equal((await asAppUser(`?_id=${ownTree[1]}`)).status, 200);
    const assigned = await asAppUser('');
    assert.equal(assigned.status, 200, assigned.text);
    assert.equal((assigned.json() as unknown as HierarchyBundle).entry![0]!.resource.locationId, own);
    const counted = await asAppUser('?mode=list&_summary=count');
    assert.equal(counted.status, 200, counted.text);
    assert.equal((counted.json() as unknown as ListBundle).total, ownTree.length);
  });

  test('another tree is a 403 OperationOutcome in every form, and is never searched', async () => {
    for (const query of [
      '?_id=loc-d2-f1',
      '?_id=loc-d2-f1&mode=list',
      '?_id=loc-d2-f1&mode=list&_summary=count',
      '?mode=list&_syncLocations=loc-d2-f1',
      '?_id=loc-d1',
    ]) {
      const res = await asAppUser(query);
      assert.equal(res.status, 403, query);
      const outcome = res.json() as { resourceType: string; issue: { diagnostics: string }[] };
      assert.equal(outcome.resourceType, 'OperationOutcome', query);
      assert.match(outcome.issue[0]!.diagnostics, /outside the user's assigned locations/, query);
      assert.deepEqual(
        gw.forwarded().filter((r) => r.includes('loc-d2')),
        [],
        query,
      );
    }
  });

  test('no client role, or both, is a 403 naming them', async () => {
    for (const roles of [['GET_LOCATION'], ['ANDROID_CLIENT', 'WEB_CLIENT', 'GET_LOCATION']]) {
      const res = await asAppUser(`?_id=${own}`, roles);
      assert.equal(res.status, 403, roles.join());
      assert.match(res.text, /exactly one of the roles ANDROID_CLIENT and WEB_CLIENT/);
      assert.deepEqual(gw.forwarded(), []);
    }
  });

  test('a WEB_CLIENT user without GET_LOCATION gets the own tree, nothing outside', async () => {
    const webUser = ['WEB_CLIENT', 'GET_PATIENT'];
    assert.equal((await asAppUser(`?_id=${own}&mode=list&_summary=count`, webUser)).status, 200);
    assert.equal((await asAppUser('?_id=loc-d2-f1', webUser)).status, 403);
  });
});
