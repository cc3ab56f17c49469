import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FhirRequest } from '../../src/fhir/request.js';
import { formatPath, formatQuery, isFormSearch, upstreamTarget } from '../../src/fhir/serialize.js';
import { assertRefused, parse, type RawOptions, shapeOf } from './request-kit.js';

const patient = { resourceType: 'Patient' };
const bundle = { resourceType: 'Bundle', type: 'batch', entry: [] };
const jsonPatch = { body: [], type: 'application/json-patch+json' };

describe('formatPath: the canonical path below the base, without a leading slash', () => {
  const rows: [string, string, RawOptions, string][] = [
    ['GET', '', {}, ''],
    ['GET', '/?_id=1', {}, ''],
    ['GET', '/_search?_id=1', {}, ''],
    ['POST', '/_search', {}, '_search'],
    ['GET', '?_getpages=x', {}, ''],
    ['POST', '/', { body: bundle }, ''],
    ['GET', '/metadata', {}, 'metadata'],
    ['GET', '/_history', {}, '_history'],
    ['POST', '/$export', {}, '$export'],
    ['GET', '/Observation', {}, 'Observation'],
    ['GET', '/Observation/_search?code=x', {}, 'Observation'],
    ['HEAD', '/Observation/_search', {}, 'Observation'],
    ['POST', '/Observation/_search', {}, 'Observation/_search'],
    ['POST', '/Observation', { body: { resourceType: 'Observation' } }, 'Observation'],
    ['GET', '/Patient/123', {}, 'Patient/123'],
    ['PUT', '/Patient/123', { body: patient }, 'Patient/123'],
    ['PUT', '/Patient?identifier=x', { body: patient }, 'Patient'],
    ['PATCH', '/Patient/123', jsonPatch, 'Patient/123'],
    ['PATCH', '/Patient?identifier=x', jsonPatch, 'Patient'],
    ['DELETE', '/Patient/123', {}, 'Patient/123'],
    ['DELETE', '/Patient?identifier=x', {}, 'Patient'],
    ['GET', '/Patient/123/_history/2', {}, 'Patient/123/_history/2'],
    ['GET', '/Patient/123/_history', {}, 'Patient/123/_history'],
    ['GET', '/Patient/_history', {}, 'Patient/_history'],
    ['GET', '/Patient/$match', {}, 'Patient/$match'],
    ['GET', '/Patient/123/$everything', {}, 'Patient/123/$everything'],
    ['GET', '/Patient/123/Observation', {}, 'Patient/123/Observation'],
    ['GET', '/Patient/%31', {}, 'Patient/1'],
  ];
  for (const [method, target, options, expected] of rows) {
    test(`${method} ${JSON.stringify(target)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(formatPath(parse(method, target, options)), expected);
    });
  }
});

describe('formatQuery', () => {
  const rows: [[string, string][], string][] = [
    [[], ''],
    [
      [
        ['a', '1'],
        ['a', '2'],
      ],
      'a=1&a=2',
    ],
    [[['code', 'a,b']], 'code=a,b'],
    [[['identifier', 'http://x.org/id|1']], 'identifier=http://x.org/id|1'],
    [
      [
        ['subject', 'Patient/1'],
        ['_include', 'Observation:subject'],
      ],
      'subject=Patient/1&_include=Observation:subject',
    ],
    [
      [
        ['email', 'a@b.c'],
        ['_has:x', "$ ! ' ( ) * - . _ ~"],
      ],
      "email=a@b.c&_has:x=$%20!%20'%20(%20)%20*%20-%20.%20_%20~",
    ],
    [[['name', 'John Smith']], 'name=John%20Smith'],
    [[['name', 'a+b']], 'name=a%2Bb'],
    [[['q', 'a&b=c#d%e?f']], 'q=a%26b%3Dc%23d%25e%3Ff'],
    [
      [
        ['a&b', 'x'],
        ['c=d', ''],
      ],
      'a%26b=x&c%3Dd=',
    ],
    [[['name', 'José']], 'name=Jos%C3%A9'],
    [[['flag', '']], 'flag='],
    [[['q', '[x];{y}"\\<>^`']], 'q=%5Bx%5D%3B%7By%7D%22%5C%3C%3E%5E%60'],
  ];
  for (const [params, expected] of rows) {
    test(JSON.stringify(expected), () => {
      assert.equal(formatQuery(params.map(([name, value]) => ({ name, value }))), expected);
    });
  }
});

describe('upstreamTarget', () => {
  const canonical = [
    '/',
    '/metadata',
    '/?_getpages=abc&_getpagesoffset=20&_count=10',
    '/Patient/123?_elements=id,name',
    '/Observation?subject=Patient/1&code=http://loinc.org|1234-5&code=x',
    '/Observation?code=a,b&_include:iterate=Observation:subject',
    '/Patient/1/_history/2',
    '/Patient/1/Observation?code=a,b',
    '/Patient/1/$everything?_count=10',
    '/$export?_type=Patient',
    '/Patient?name=John%20Smith&name=a%2Bb&q=a%26b',
    '/Patient?name=Jos%C3%A9',
    '/Patient?_has:Observation:patient:code=1234',
  ];
  for (const target of canonical) {
    test(`round-trips ${target}`, () => {
      assert.equal(upstreamTarget(parse('GET', target)), target);
    });
  }

  const normalized: [string, string][] = [
    ['', '/'],
    ['?name=John+Smith', '/?name=John%20Smith'],
    ['/Patient/_search?x=1', '/Patient?x=1'],
    ['/Patient/%31?flag', '/Patient/1?flag='],
    ['/Patient?a=1&&b=2&', '/Patient?a=1&b=2'],
    ['/Patient?identifier=http%3A%2F%2Fx%7C1', '/Patient?identifier=http://x|1'],
    ['/Patient?na%6De=x', '/Patient?name=x'],
  ];
  for (const [target, expected] of normalized) {
    test(`writes ${JSON.stringify(target)} canonically as ${expected}, and that parses the same`, () => {
      const req = parse('GET', target);
      assert.equal(upstreamTarget(req), expected);
      assert.deepEqual(shapeOf(parse('GET', expected)), shapeOf(req));
    });
  }

  test('a form POST _search goes to the path only; its params become the form body', () => {
    const req = parse('POST', '/Patient/_search?_count=5', {
      body: 'name=a+b&identifier=x%7C1',
      type: 'application/x-www-form-urlencoded',
    });
    assert.ok(isFormSearch(req));
    assert.equal(upstreamTarget(req), '/Patient/_search');
    assert.equal(formatQuery(req.query), '_count=5&name=a%20b&identifier=x|1');
    assert.equal(upstreamTarget(parse('POST', '/_search?_id=1')), '/_search');
  });

  test('writes are not form searches and keep their query', () => {
    const req = parse('DELETE', '/Patient?identifier=x');
    assert.equal(isFormSearch(req), false);
    assert.equal(upstreamTarget(req), '/Patient?identifier=x');
  });

  test('a request model no parser would produce is refused, not serialized', () => {
    const read = parse('GET', '/Patient/1');
    const broken: FhirRequest[] = [
      { ...read, id: '../x' },
      { ...read, id: undefined },
      { ...read, resourceType: 'Patient/1/..' },
      { ...read, interaction: 'operation-type', operation: 'x/../y' },
      { ...read, interaction: 'search-compartment', compartment: undefined },
      { ...read, interaction: 'search-compartment', compartment: { resourceType: 'Patient', id: '1?x' } },
    ];
    for (const req of broken) {
      assertRefused(
        () => upstreamTarget(req),
        500,
        'invalid_request_model',
        /could not build the upstream request/,
      );
    }
  });
});
