import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAllowedQueries } from '../../src/access/allowed-queries-file.js';
import {
  ANY_VALUE as ANY,
  AllowedQueries,
  type AllowedQueryEntry,
} from '../../src/access/allowed-queries.js';
import type { QueryParam } from '../../src/fhir/request.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const shippedPagingFile = fileURLToPath(
  new URL('../../resources/hapi_page_url_allowed_queries.json', import.meta.url),
);

/** `a=1&a=2` → two QueryParams, in order. */
function query(search: string): QueryParam[] {
  return [...new URLSearchParams(search)].map(([name, value]) => ({ name, value }));
}

function request(method: string, path: string, search = '') {
  return { method, path, query: query(search) };
}

function entry(fields: Partial<AllowedQueryEntry> & { path: string }): AllowedQueryEntry {
  return {
    queryParams: {},
    allowExtraParams: false,
    allParamsRequired: false,
    allowUnauthenticatedRequests: false,
    ...fields,
  };
}

// The cases of upstream's AllowedQueriesCheckerTest, one test each, named after the upstream case.
describe('AllowedQueriesCheckerTest (upstream cases)', () => {
  test('validGetPagesQuery', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.ok(allowed.match(request('GET', '', '_getpages=A_PAGE_ID'), true));
  });

  test('validGetPagesQueryExtraValue', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.ok(allowed.match(request('GET', '', '_getpages=A_PAGE_ID&_getpages=A_SECOND_ID'), true));
  });

  test('validGetPagesQueryExtraParam', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.ok(allowed.match(request('GET', '', '_getpages=A_PAGE_ID&another_param=SOMETHING'), true));
  });

  test('validUnAuthenticatedQuery', () => {
    const allowed = loadAllowedQueries(fixture('allowed_unauthenticated_queries.json'));
    assert.ok(allowed.match(request('GET', 'Composition'), false));
  });

  test('validExactPathMatch', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.ok(allowed.match(request('GET', 'Observation'), true));
  });

  test('validPathWithVariableAnyParamValueMatch', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.ok(allowed.match(request('GET', 'Composition/233'), true));
  });

  // Upstream: `Composition/ANY_VALUE` also matches the type search `Composition`. Refused here
  // (issue 8, U8: a type search returns every resource); docs/compatibility.md says so.
  test('validBasePathAnyParamValueMatch (inverted: a type search is not an id)', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.equal(allowed.match(request('GET', 'Composition'), true), undefined);
  });

  test('validRequestTypeMatch', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.equal(allowed.match(request('GET', 'Encounter'), true)?.path, 'Encounter');
  });

  test('noMatchForObservationQuery', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.equal(allowed.match(request('GET', 'Observation', '_getpages=A_PAGE_ID'), true), undefined);
  });

  test('denyGetPagesQueryExtraParam', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_no_extra_params.json'));
    assert.equal(
      allowed.match(request('GET', '', '_getpages=A_PAGE_ID&another_param=SOMETHING'), true),
      undefined,
    );
  });

  test('denyQueryWithoutRequiredParam', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.equal(allowed.match(request('GET', '', 'another_param=SOMETHING'), true), undefined);
  });

  test('denyUnAuthenticatedQuery', () => {
    const allowed = loadAllowedQueries(fixture('allowed_unauthenticated_queries.json'));
    assert.equal(allowed.match(request('GET', 'Patient'), false), undefined);
  });

  test('denyPathMisMatch', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.equal(allowed.match(request('GET', 'Patient'), true), undefined);
  });

  test('denyRequestTypeMisMatch', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.equal(allowed.match(request('POST', 'Encounter'), true), undefined);
  });

  test('configNullPath', () => {
    assert.throws(() => loadAllowedQueries(fixture('no_path_allowed_queries.json')), {
      name: 'ConfigError',
      variable: 'ALLOWED_QUERIES_FILE',
      message: /entries\[0\]\.path: is required/,
    });
  });

  test('malformedConfig', () => {
    assert.throws(() => loadAllowedQueries(fixture('malformed_allowed_queries.json')), {
      name: 'ConfigError',
      variable: 'ALLOWED_QUERIES_FILE',
      message: /entries: must be an array of entries/,
    });
  });
});

describe('allowed-queries matching rules', () => {
  test('the shipped paging file admits only GET (upstream admits any method)', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.equal(allowed.match(request('POST', '', '_getpages=A_PAGE_ID'), true), undefined);
    assert.equal(allowed.match(request('DELETE', '', '_getpages=A_PAGE_ID'), true), undefined);
  });

  test('the shipped paging file admits nothing without a token', () => {
    const allowed = loadAllowedQueries(shippedPagingFile);
    assert.equal(allowed.match(request('GET', '', '_getpages=A_PAGE_ID'), false), undefined);
    assert.deepEqual(allowed.warnings(), []);
  });

  test('an entry without requestType matches every method, as upstream', () => {
    const allowed = new AllowedQueries([entry({ path: 'Observation' })]);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      assert.ok(allowed.match(request(method, 'Observation'), true), method);
    }
  });

  test('requestType is compared case-insensitively', () => {
    const allowed = new AllowedQueries([entry({ path: 'Encounter', requestType: 'pOsT' })]);
    assert.ok(allowed.match(request('POST', 'Encounter'), true));
    assert.equal(allowed.match(request('GET', 'Encounter'), true), undefined);
  });

  test('an empty requestType never matches, as upstream', () => {
    const allowed = new AllowedQueries([entry({ path: 'Encounter', requestType: '' })]);
    assert.equal(allowed.match(request('GET', 'Encounter'), true), undefined);
  });

  test('a path without /ANY_VALUE matches only exactly', () => {
    const allowed = new AllowedQueries([entry({ path: 'Composition' })]);
    assert.ok(allowed.match(request('GET', 'Composition'), true));
    assert.equal(allowed.match(request('GET', 'Composition/1'), true), undefined);
    assert.equal(allowed.match(request('GET', 'CompositionX'), true), undefined);
  });

  test('/ANY_VALUE matches one id: not the type, a sub-path, an operation nor a longer name', () => {
    const allowed = new AllowedQueries([entry({ path: 'Composition/ANY_VALUE' })]);
    assert.ok(allowed.match(request('GET', 'Composition/1'), true));
    assert.ok(allowed.match(request('GET', 'Composition/a-B.9'), true));
    for (const path of [
      'Composition',
      'Composition/1/_history/2',
      'Composition/1/_history',
      'Composition/1/$document',
      'Composition/$document',
      'Composition/_history',
      'Composition/_search',
      'CompositionX',
      'CompositionX/1',
      '',
    ]) {
      assert.equal(allowed.match(request('GET', path), true), undefined, path);
    }
  });

  test('ANY_VALUE inside a path matches one id there', () => {
    const allowed = new AllowedQueries([entry({ path: 'Composition/ANY_VALUE/_history/ANY_VALUE' })]);
    assert.ok(allowed.match(request('GET', 'Composition/c1/_history/2'), true));
    assert.equal(allowed.match(request('GET', 'Composition/c1/_history'), true), undefined);
    assert.equal(allowed.match(request('GET', 'Composition/c1'), true), undefined);
    assert.equal(allowed.match(request('GET', 'Composition/c1/_history/2/x'), true), undefined);
    const compartment = new AllowedQueries([entry({ path: 'Patient/ANY_VALUE/Observation' })]);
    assert.ok(compartment.match(request('GET', 'Patient/p1/Observation'), true));
    assert.equal(compartment.match(request('GET', 'Patient/p1/Condition'), true), undefined);
  });

  test('ANY_VALUE as a param value needs a value: blank values and blank list items do not match', () => {
    const allowed = new AllowedQueries([
      entry({ path: 'Binary', queryParams: { _id: ANY }, allParamsRequired: true }),
    ]);
    assert.ok(allowed.match(request('GET', 'Binary', '_id=a'), true));
    assert.ok(allowed.match(request('GET', 'Binary', '_id=a,b'), true));
    for (const search of ['_id=', '_id=%20', '_id=,', '_id=a,', '_id=a&_id=']) {
      assert.equal(allowed.match(request('GET', 'Binary', search), true), undefined, search);
    }
  });

  test('ANY_VALUE alone is a literal path, not a wildcard', () => {
    const allowed = new AllowedQueries([entry({ path: 'ANY_VALUE' })]);
    assert.equal(allowed.match(request('GET', 'Patient'), true), undefined);
    assert.ok(allowed.match(request('GET', 'ANY_VALUE'), true));
  });

  test('an exact param value must match the whole decoded value', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', queryParams: { _sort: 'name' } })]);
    assert.ok(allowed.match(request('GET', 'Patient', '_sort=name'), true));
    assert.equal(allowed.match(request('GET', 'Patient', '_sort=-name'), true), undefined);
  });

  test('a comma list is one value, compared as a whole string', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', queryParams: { _id: 'a,b' } })]);
    assert.ok(allowed.match(request('GET', 'Patient', '_id=a,b'), true));
    assert.equal(allowed.match(request('GET', 'Patient', '_id=a'), true), undefined);
    assert.equal(allowed.match(request('GET', 'Patient', '_id=b,a'), true), undefined);
  });

  test('a repeated param matches ANY_VALUE only, never an exact value', () => {
    const exact = new AllowedQueries([entry({ path: 'Patient', queryParams: { _id: 'a' } })]);
    assert.equal(exact.match(request('GET', 'Patient', '_id=a&_id=a'), true), undefined);
    const any = new AllowedQueries([entry({ path: 'Patient', queryParams: { _id: ANY } })]);
    assert.ok(any.match(request('GET', 'Patient', '_id=a&_id=b'), true));
  });

  test('allParamsRequired false: configured params are optional but must match when present', () => {
    const allowed = new AllowedQueries([
      entry({ path: 'Patient', queryParams: { _sort: 'name', _count: ANY } }),
    ]);
    assert.ok(allowed.match(request('GET', 'Patient'), true));
    assert.ok(allowed.match(request('GET', 'Patient', '_count=5'), true));
    assert.equal(allowed.match(request('GET', 'Patient', '_count=5&_sort=date'), true), undefined);
  });

  test('allParamsRequired true: every configured param must be present', () => {
    const allowed = new AllowedQueries([
      entry({ path: 'Patient', queryParams: { _sort: 'name', _count: ANY }, allParamsRequired: true }),
    ]);
    assert.equal(allowed.match(request('GET', 'Patient', '_count=5'), true), undefined);
    assert.ok(allowed.match(request('GET', 'Patient', '_count=5&_sort=name'), true));
  });

  test('allowExtraParams false: no param beyond the configured ones', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', queryParams: { _count: ANY } })]);
    assert.ok(allowed.match(request('GET', 'Patient', '_count=5&_count=6'), true));
    assert.equal(allowed.match(request('GET', 'Patient', '_count=5&name=x'), true), undefined);
    assert.equal(allowed.match(request('GET', 'Patient', 'name=x'), true), undefined);
  });

  test('allowExtraParams true: other params are let through', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', allowExtraParams: true })]);
    assert.ok(allowed.match(request('GET', 'Patient', 'name=x&_count=5&_format=json&_elements=id'), true));
    assert.ok(allowed.match(request('GET', 'Patient', 'name=x&_getpagesoffset=20&_summary=count'), true));
    assert.ok(allowed.match(request('GET', 'Patient', 'subject:Patient=p1&name:exact=x'), true));
  });

  test('allowExtraParams never admits joins, chains, filters, named queries or paging', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', allowExtraParams: true })]);
    for (const name of [
      '_include',
      '_include:iterate',
      '_INCLUDE',
      ' _include',
      '_revinclude',
      '_revinclude:iterate',
      '_has:Observation:subject:code',
      '_has',
      'general-practitioner.name',
      'organization:Organization.name',
      '_contained',
      '_containedType',
      '_filter',
      '_query',
      '_getpages',
    ]) {
      const search = `name=x&${encodeURIComponent(name)}=v`;
      assert.equal(allowed.match(request('GET', 'Patient', search), true), undefined, name);
    }
  });

  test('an entry that names a join param admits it (and only with the named value)', () => {
    const allowed = new AllowedQueries([
      entry({ path: 'Patient', queryParams: { _include: 'Patient:organization' }, allowExtraParams: true }),
    ]);
    assert.ok(allowed.match(request('GET', 'Patient', '_include=Patient:organization&name=x'), true));
    assert.equal(allowed.match(request('GET', 'Patient', '_include=*'), true), undefined);
    assert.equal(
      allowed.match(request('GET', 'Patient', '_include=Patient:organization&_revinclude=*'), true),
      undefined,
    );
  });

  test('without a token only allowUnauthenticatedRequests entries count; with one, all do', () => {
    const open = entry({ path: 'Composition', allowUnauthenticatedRequests: true });
    const closed = entry({ path: 'Binary/ANY_VALUE' });
    const allowed = new AllowedQueries([closed, open]);
    assert.equal(allowed.match(request('GET', 'Binary/1'), false), undefined);
    assert.equal(allowed.match(request('GET', 'Binary/1'), true), closed);
    assert.equal(allowed.match(request('GET', 'Composition'), false), open);
    assert.equal(allowed.match(request('GET', 'Composition'), true), open);
  });

  test('the first matching entry wins', () => {
    const first = entry({ path: 'Patient/ANY_VALUE', requestType: 'GET' });
    const second = entry({ path: 'Patient/1' });
    const allowed = new AllowedQueries([first, second]);
    assert.equal(allowed.match(request('GET', 'Patient/1'), true), first);
    assert.equal(allowed.match(request('PUT', 'Patient/1'), true), second);
  });

  test('NONE matches nothing', () => {
    assert.equal(AllowedQueries.NONE.match(request('GET', '', '_getpages=x'), true), undefined);
    assert.deepEqual(AllowedQueries.NONE.warnings(), []);
  });
});

describe('allowed-queries warnings', () => {
  test('unauthenticated writes and the unauthenticated base path are reported', () => {
    const allowed = loadAllowedQueries(fixture('opensrp_shipped_allowed_queries.json'));
    const warnings = allowed.warnings();
    assert.deepEqual(warnings, [
      'ALLOWED_QUERIES_FILE: entries[0] (path ""): lets callers without a token reach the FHIR base path with GET',
      'ALLOWED_QUERIES_FILE: entries[1] (path ""): lets callers without a token send POST',
      'ALLOWED_QUERIES_FILE: entries[1] (path ""): lets callers without a token reach the FHIR base path with POST',
    ]);
  });

  test('an unauthenticated entry without requestType is reported as allowing any method', () => {
    const allowed = new AllowedQueries([
      entry({
        path: 'Composition',
        allowUnauthenticatedRequests: true,
        queryParams: { identifier: ANY },
        allParamsRequired: true,
      }),
    ]);
    assert.deepEqual(allowed.warnings(), [
      'ALLOWED_QUERIES_FILE: entries[0] (path "Composition"): lets callers without a token send any method (no requestType)',
    ]);
  });

  test('an unauthenticated search of a whole type (or its history) is reported', () => {
    const open = (fields: Partial<AllowedQueryEntry> & { path: string }) =>
      new AllowedQueries([
        entry({ requestType: 'GET', allowUnauthenticatedRequests: true, ...fields }),
      ]).warnings();
    const wholeType =
      /lets callers without a token reach every resource under "(Binary|Binary\/_history|Patient\/ANY_VALUE\/Observation)"/;
    assert.match(open({ path: 'Binary' }).join('\n'), wholeType);
    assert.match(open({ path: 'Binary', queryParams: { _id: ANY } }).join('\n'), wholeType);
    assert.match(open({ path: 'Binary/_history' }).join('\n'), wholeType);
    assert.match(open({ path: 'Patient/ANY_VALUE/Observation' }).join('\n'), wholeType);
    assert.deepEqual(open({ path: 'Binary', queryParams: { _id: ANY }, allParamsRequired: true }), []);
    assert.deepEqual(open({ path: 'Binary/ANY_VALUE' }), []);
    assert.deepEqual(
      new AllowedQueries([entry({ path: 'Binary', requestType: 'GET' })]).warnings(),
      [],
      'authenticated read-only entries are not reported',
    );
  });

  test('a path with a leading slash is reported as never matching (upstream: /ANY_VALUE matched everything)', () => {
    const allowed = new AllowedQueries([
      entry({ path: '/ANY_VALUE', requestType: 'GET', allowUnauthenticatedRequests: true }),
    ]);
    assert.match(allowed.warnings().join('\n'), /starts with "\/".*never matches/);
    assert.equal(allowed.match(request('GET', ''), false), undefined);
    assert.equal(allowed.match(request('GET', 'Patient'), false), undefined);
  });

  test('authenticated entries that skip the checkers for writes are reported', () => {
    const allowed = loadAllowedQueries(fixture('allowed_queries_with_path_type.json'));
    assert.deepEqual(allowed.warnings(), [
      'ALLOWED_QUERIES_FILE: entries[0] (path "Observation"): lets every authenticated caller send any method (no requestType) without any access checker',
      'ALLOWED_QUERIES_FILE: entries[1] (path "Composition/ANY_VALUE"): lets every authenticated caller send any method (no requestType) without any access checker',
    ]);
  });

  test('a requestType that is not an HTTP method is reported as never matching', () => {
    const allowed = new AllowedQueries([entry({ path: 'Patient', requestType: 'FETCH' })]);
    assert.deepEqual(allowed.warnings(), [
      'ALLOWED_QUERIES_FILE: entries[0] (path "Patient"): requestType "FETCH" is not an HTTP method; the entry never matches',
    ]);
  });

  test('authenticated read-only entries are not reported', () => {
    const allowed = new AllowedQueries([entry({ path: 'Binary/ANY_VALUE', requestType: 'get' })]);
    assert.deepEqual(allowed.warnings(), []);
  });
});
