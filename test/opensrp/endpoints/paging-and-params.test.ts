/**
 * The pure parts of the endpoints: page links (upstream UtilsTest / addPaginationLinks), the
 * /LocationHierarchy parameters (upstream `generateAdminLevels` cases) and the list-entries scope rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHierarchyParams } from '../../../src/opensrp/endpoints/location-hierarchy-params.js';
import { pageLinks, parsePaging } from '../../../src/opensrp/endpoints/paging.js';
import { tagScope } from '../../../src/opensrp/list-entries.js';
import type { QueryParam } from '../../../src/fhir/request.js';

const q = (raw: string): QueryParam[] =>
  [...new URLSearchParams(raw)].map(([name, value]) => ({ name, value }));

describe('paging', () => {
  test('defaults are _count=20 and _page=1', () => {
    assert.deepEqual(parsePaging([]), { count: 20, page: 1 });
  });

  test('links keep every parameter in order and replace _page in place', () => {
    const query = q('_page=2&x=a|b&_count=1');
    const links = pageLinks('http://gw/fhir/List', query, { count: 1, page: 2 }, 3);
    assert.deepEqual(links, [
      { relation: 'self', url: 'http://gw/fhir/List?_page=2&x=a|b&_count=1' },
      { relation: 'next', url: 'http://gw/fhir/List?_page=3&x=a|b&_count=1' },
      { relation: 'previous', url: 'http://gw/fhir/List?_page=1&x=a|b&_count=1' },
    ]);
  });

  test('no next link on an exact last page; _page is appended when absent', () => {
    assert.deepEqual(pageLinks('http://gw/x', [], { count: 2, page: 1 }, 2), [
      { relation: 'self', url: 'http://gw/x' },
    ]);
    assert.equal(pageLinks('http://gw/x', [], { count: 1, page: 1 }, 2)[1]?.url, 'http://gw/x?_page=2');
  });
});

describe('LocationHierarchy parameters (generateAdminLevels cases)', () => {
  test('no level parameter: no level filter (upstream filters 0..10 always since v3.0.4)', () => {
    assert.equal(parseHierarchyParams([]).adminLevels, undefined);
  });

  test('one bound given: the other defaults to 0 or 10', () => {
    assert.deepEqual(parseHierarchyParams(q('administrativeLevelMin=2')).adminLevels, { min: 2, max: 10 });
    assert.deepEqual(parseHierarchyParams(q('administrativeLevelMax=3')).adminLevels, { min: 0, max: 3 });
    assert.deepEqual(parseHierarchyParams(q('administrativeLevelMax=')).adminLevels, undefined);
  });

  test('min greater than max, or a non-integer, is a 400', () => {
    assert.throws(() => parseHierarchyParams(q('administrativeLevelMin=4&administrativeLevelMax=1')), {
      status: 400,
      message: 'administrativeLevelMin cannot be greater than administrativeLevelMax',
    });
    assert.throws(() => parseHierarchyParams(q('administrativeLevelMax=x')), {
      status: 400,
      message: 'Invalid value for administrativeLevelMax: x',
    });
  });

  test('testExtractSyncLocations: comma lists, blanks dropped, repeats removed', () => {
    const params = parseHierarchyParams(q('_syncLocations=a,,b&_syncLocations=b,c&_syncLocations='));
    assert.deepEqual(params.syncLocations, ['a', 'b', 'c']);
  });

  test('_lastUpdated takes a date or dateTime with an optional ge/gt prefix', () => {
    assert.deepEqual(parseHierarchyParams(q('_lastUpdated=gt2024-01-01T00:00:00Z')).lastUpdated, {
      at: Date.parse('2024-01-01T00:00:00Z'),
      strict: true,
    });
    assert.throws(() => parseHierarchyParams(q('_lastUpdated=lt2024-01-01')), { status: 400 });
  });

  test('filter_mode_lineage counts when empty or true', () => {
    assert.equal(parseHierarchyParams(q('filter_mode_lineage=')).lineage, true);
    assert.equal(parseHierarchyParams(q('filter_mode_lineage=true')).lineage, true);
    assert.equal(parseHierarchyParams(q('filter_mode_lineage=false')).lineage, false);
  });
});

describe('list-entries scope rule', () => {
  const visible = tagScope(['https://s/location'], new Set(['v1']));
  const tagged = (system: string, code: string) => ({
    resourceType: 'Patient',
    meta: { tag: [{ system, code }] },
  });

  test('a resource tagged in the scope system must carry an assigned id', () => {
    assert.equal(visible(tagged('https://s/location', 'v1')), true);
    assert.equal(visible(tagged('https://s/location', 'v2')), false);
  });

  test('untagged resources and tags of other systems pass (configuration)', () => {
    assert.equal(visible({ resourceType: 'Questionnaire' }), true);
    assert.equal(visible(tagged('https://s/other', 'v2')), true);
  });
});
