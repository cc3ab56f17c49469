/**
 * Improvement over upstream (one `partof` search per Location, fhir-web #1259/#1527): a
 * 10,000-Location hierarchy is expanded with one search per level, counted at the backend.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Location } from '@medplum/fhirtypes';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { type EndpointsStack, startEndpointsStack } from './endpoints-stack.js';

const DISTRICTS = 10;
const FACILITIES_PER_DISTRICT = 10;
const TOTAL = 10_000;
const villages: string[] = [];

function location(id: string, level: number, parent?: string): Location {
  return {
    resourceType: 'Location',
    id,
    name: id,
    status: 'active',
    ...(parent ? { partOf: { reference: `Location/${parent}` } } : {}),
    type: [{ coding: [{ system: TAG_SYSTEMS.adminLevel, code: String(level) }] }],
  };
}

/** country → 10 districts → 100 facilities → the villages that make 10,000 Locations. */
function bigHierarchy(): Location[] {
  const locations = [location('big', 0)];
  const facilities: string[] = [];
  for (let d = 0; d < DISTRICTS; d++) {
    locations.push(location(`big-${d}`, 1, 'big'));
    for (let f = 0; f < FACILITIES_PER_DISTRICT; f++) {
      facilities.push(`big-${d}-${f}`);
      locations.push(location(`big-${d}-${f}`, 2, `big-${d}`));
    }
  }
  for (let v = 0; locations.length < TOTAL; v++) {
    villages.push(`big-v${v}`);
    locations.push(location(`big-v${v}`, 3, facilities[v % facilities.length]));
  }
  return locations;
}

let gw: EndpointsStack;
before(async () => {
  gw = await startEndpointsStack({ seed: bigHierarchy() });
});
after(() => gw.close());

test('a 10,000-Location hierarchy costs one backend search per level (wide levels go as POST _search)', {
  timeout: 240_000,
}, async () => {
  const res = await gw.get('/LocationHierarchy?_id=big&mode=list&_summary=count', {
    roles: ['WEB_CLIENT', 'GET_LOCATION'],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal((res.json() as { total: number }).total, TOTAL);
  // Paging through one search's results (`next` links carry _offset) is not a new search.
  const searches = gw.stack.fhir.requests
    .filter(
      (r) =>
        (r.method === 'GET' && r.path === '/fhir/Location' && !r.query.has('_offset')) ||
        (r.method === 'POST' && r.path === '/fhir/Location/_search'),
    )
    .map((r) => (r.method === 'POST' ? new URLSearchParams(r.body) : r.query));
  const received = searches.map((q) => q.toString().slice(0, 100)).join('\n');
  assert.equal(searches[0]?.get('_id'), 'big', received);
  assert.equal(searches[1]?.get('partof'), 'Location/big', received);
  assert.equal(searches[2]?.get('partof')?.split(',').length, DISTRICTS, received);
  assert.equal(searches[3]?.get('partof')?.split(',').length, DISTRICTS * FACILITIES_PER_DISTRICT, received);
  assert.equal(searches[4]?.get('partof')?.split(',').length, villages.length, received);
  assert.equal(searches.length, 5, `the root, then one search per level; received:\n${received}`);
});
