/**
 * List-entries mode over real HTTP (spec §3.8.1; upstream SyncAccessDecisionTest
 * `testPostProcessWithListMode*`), plus the fixes: roles and scope applied to each entry, 400 for
 * unknown modes and bad paging.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List } from '@medplum/fhirtypes';
import { tagScope } from '../../src/opensrp/list-entries.js';
import { buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { type EndpointsStack, startEndpointsStack } from './endpoints/endpoints-stack.js';

const dataset = buildOpenSrpDataset();
const inScope = dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility))[0]!;
const outOfScope = dataset.patientsIn(dataset.subtreeOf(PERSONAS.other.facility))[0]!;
const patientsList: List = {
  resourceType: 'List',
  id: 'patients-list',
  status: 'current',
  mode: 'working',
  entry: [
    { item: { reference: `Patient/${inScope}` } },
    { item: { reference: `Patient/${outOfScope}` } },
    { item: { reference: 'Questionnaire/q-registration' } },
    { item: { reference: '#contained' } },
  ],
};
const emptyList: List = { resourceType: 'List', id: 'empty-list', status: 'current', mode: 'working' };

const WEB = ['WEB_CLIENT', 'GET_LIST', 'GET_QUESTIONNAIRE', 'GET_LOCATION', 'GET_PATIENT'];
const MODE = { 'fhir-gateway-mode': 'list-entries' };

interface BatchResponse {
  resourceType: string;
  type: string;
  total: number;
  link: { relation: string; url: string }[];
  entry?: {
    resource?: { resourceType: string; id: string };
    response?: { status: string; outcome?: unknown };
  }[];
}

let gw: EndpointsStack;
before(async () => {
  gw = await startEndpointsStack({
    seed: [...dataset.resources, patientsList, emptyList],
    isVisible: tagScope([TAG_SYSTEMS.location], new Set(dataset.subtreeOf(PERSONAS.worker.facility))),
  });
});
after(() => gw.close());

const linksOf = (body: BatchResponse) => Object.fromEntries(body.link.map((l) => [l.relation, l.url]));
const batchPosts = () => gw.forwarded().filter((r) => r === 'POST /');
function batchUrls(): string[] {
  const post = gw.stack.fhir.requests.find(
    (r) => r.method === 'POST' && (r.path === '/fhir' || r.path === '/fhir/'),
  );
  assert.ok(post, 'a batch reached the backend');
  const bundle = JSON.parse(post.body) as {
    type: string;
    entry: { request: { method: string; url: string } }[];
  };
  assert.equal(bundle.type, 'batch');
  return bundle.entry.map((e) => `${e.request.method} ${e.request.url}`);
}

describe('list-entries mode', () => {
  test('testPostProcessWithListModeHeader: the header on a List read answers a batch-response of its entries', async () => {
    const res = await gw.get('/fhir/List/config-list', { roles: WEB, headers: MODE });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.resourceType, 'Bundle');
    assert.equal(body.type, 'batch-response');
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.entry?.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
      ['Questionnaire/q-registration', 'Location/loc-d1-f1', 'Location/loc-d2-f1'],
    );
    assert.deepEqual(body.link, [{ relation: 'self', url: `${gw.stack.fhirBase}/List/config-list` }]);
    assert.deepEqual(batchUrls(), [
      'GET Questionnaire/q-registration',
      'GET Location/loc-d1-f1',
      'GET Location/loc-d2-f1',
    ]);
    assert.equal(batchPosts().length, 1, 'one batch for the whole page');
  });

  test('testPostProcessWithListModeParam: mode=list-entries on a List search; mode never goes upstream', async () => {
    const res = await gw.get('/fhir/List?_id=config-list&mode=list-entries', { roles: WEB });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.total, 3);
    assert.equal(body.entry?.length, 3);
    assert.equal(linksOf(body).self, `${gw.stack.fhirBase}/List?_id=config-list&mode=list-entries`);
    const search = gw.forwarded().find((r) => r.startsWith('GET /List'));
    assert.equal(search, 'GET /List?_id=config-list');
  });

  test('testPostProcessWithListModePaging: _count=1&_page=2 answers only entry 2, with self, next and previous', async () => {
    const res = await gw.get('/fhir/List/config-list?_count=1&_page=2', { roles: WEB, headers: MODE });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.entry?.map((e) => e.resource?.id),
      ['loc-d1-f1'],
    );
    assert.deepEqual(batchUrls(), ['GET Location/loc-d1-f1']);
    const base = `${gw.stack.fhirBase}/List/config-list`;
    assert.deepEqual(linksOf(body), {
      self: `${base}?_count=1&_page=2`,
      next: `${base}?_count=1&_page=3`,
      previous: `${base}?_count=1&_page=1`,
    });
  });

  test('the last page has no next link; the first page no previous link', async () => {
    const last = (
      await gw.get('/fhir/List/config-list?_count=1&_page=3', { roles: WEB, headers: MODE })
    ).json();
    assert.deepEqual(Object.keys(linksOf(last as unknown as BatchResponse)).sort(), ['previous', 'self']);
    const first = (await gw.get('/fhir/List/config-list?_count=2', { roles: WEB, headers: MODE })).json();
    const links = linksOf(first as unknown as BatchResponse);
    assert.deepEqual(Object.keys(links).sort(), ['next', 'self']);
    assert.equal(links.next, `${gw.stack.fhirBase}/List/config-list?_count=2&_page=2`);
  });

  test('an unknown mode is a 400 OperationOutcome and nothing is forwarded', async () => {
    for (const [path, headers] of [
      ['/fhir/List/config-list?mode=everything', {}],
      ['/fhir/List/config-list', { 'fhir-gateway-mode': 'everything' }],
    ] as const) {
      const res = await gw.get(path, { roles: WEB, headers });
      assert.equal(res.status, 400, path);
      const outcome = res.json() as { resourceType: string; issue: { diagnostics: string }[] };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.match(outcome.issue[0]!.diagnostics, /'everything' is not recognized/);
      assert.deepEqual(gw.forwarded(), []);
    }
  });

  test('list-entries on anything but a List read or search is a 400', async () => {
    const res = await gw.get('/fhir/Questionnaire/q-registration?mode=list-entries', {
      roles: WEB,
    });
    assert.equal(res.status, 400);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('invalid _count or _page is a 400', async () => {
    for (const query of ['_count=0', '_count=abc', '_page=0', '_page=-1', '_count=10001']) {
      const res = await gw.get(`/fhir/List/config-list?${query}`, { roles: WEB, headers: MODE });
      assert.equal(res.status, 400, query);
      assert.deepEqual(gw.forwarded(), [], query);
    }
  });

  test('entries of a type the caller has no role for are 403 entries and are not fetched', async () => {
    const roles = ['WEB_CLIENT', 'GET_LIST', 'MANAGE_QUESTIONNAIRE'];
    const res = await gw.get('/fhir/List/config-list', { roles, headers: MODE });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.total, 3);
    assert.equal(body.entry?.[0]?.resource?.id, 'q-registration');
    for (const entry of body.entry!.slice(1)) {
      assert.equal(entry.resource, undefined);
      assert.equal(entry.response?.status, '403 Forbidden');
      assert.match(JSON.stringify(entry.response?.outcome), /GET_LOCATION or MANAGE_LOCATION/);
    }
    assert.deepEqual(batchUrls(), ['GET Questionnaire/q-registration']);
  });

  test('tagged entries outside the scope are 404 entries; untagged ones pass; bad references are 400 entries', async () => {
    const res = await gw.get('/fhir/List/patients-list', { roles: WEB, headers: MODE });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.total, 4);
    const summary = body.entry!.map((e) => e.resource?.id ?? e.response?.status);
    assert.deepEqual(summary, [inScope, '404 Not Found', 'q-registration', '400 Bad Request']);
    assert.ok(!res.text.includes(outOfScope), 'nothing of the out-of-scope patient is shown');
  });

  test('a List without entries answers total 0 without a batch', async () => {
    const res = await gw.get('/fhir/List/empty-list', { roles: WEB, headers: MODE });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as unknown as BatchResponse;
    assert.equal(body.total, 0);
    assert.equal(body.entry, undefined);
    assert.deepEqual(batchPosts(), []);
  });

  test('without a mode the List is answered as usual', async () => {
    const res = await gw.get('/fhir/List/config-list', { roles: WEB });
    assert.equal(res.status, 200);
    assert.equal((res.json() as { resourceType: string }).resourceType, 'List');
    assert.deepEqual(batchPosts(), []);
  });
});
