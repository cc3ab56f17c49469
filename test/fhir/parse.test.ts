import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFhirRequest } from '../../src/fhir/parse.js';
import { assertRefused, expectedShape, parse, type RawOptions, shapeOf } from './request-kit.js';

const patient = { resourceType: 'Patient', name: [{ family: 'Doe' }] };
const jsonPatch = [{ op: 'replace', path: '/active', value: false }];
const fhirPathPatch = { resourceType: 'Parameters', parameter: [{ name: 'operation' }] };
const transaction = { resourceType: 'Bundle', type: 'transaction', entry: [] };
const batch = { resourceType: 'Bundle', type: 'batch', entry: [] };
const form = (body: string): RawOptions => ({ body, type: 'application/x-www-form-urlencoded' });

describe('parseFhirRequest classifies each interaction once', () => {
  const rows: [string, string, RawOptions, Record<string, unknown>][] = [
    ['GET', '', {}, { interaction: 'search-system' }],
    ['GET', '/', {}, { interaction: 'search-system' }],
    [
      'GET',
      '?_type=Patient',
      {},
      { interaction: 'search-system', query: [{ name: '_type', value: 'Patient' }] },
    ],
    ['GET', '/_search?_id=1', {}, { interaction: 'search-system', query: [{ name: '_id', value: '1' }] }],
    [
      'POST',
      '/_search',
      form('_id=1'),
      { interaction: 'search-system', query: [{ name: '_id', value: '1' }] },
    ],
    [
      'GET',
      '?_getpages=abc&_getpagesoffset=20',
      {},
      {
        interaction: 'paging',
        query: [
          { name: '_getpages', value: 'abc' },
          { name: '_getpagesoffset', value: '20' },
        ],
      },
    ],
    ['HEAD', '/?_getpages=abc', {}, { interaction: 'paging', query: [{ name: '_getpages', value: 'abc' }] }],
    ['GET', '/metadata', {}, { interaction: 'capabilities' }],
    ['HEAD', '/metadata', {}, { interaction: 'capabilities' }],
    ['GET', '/_history', {}, { interaction: 'history-system' }],
    ['GET', '/$export', {}, { interaction: 'operation-system', operation: 'export' }],
    [
      'POST',
      '/$process-message',
      { body: batch },
      { interaction: 'operation-system', operation: 'process-message' },
    ],
    ['POST', '', { body: transaction }, { interaction: 'transaction' }],
    ['POST', '/', { body: batch, type: 'application/json' }, { interaction: 'batch' }],
    [
      'POST',
      '?_format=json',
      { body: batch },
      { interaction: 'batch', query: [{ name: '_format', value: 'json' }] },
    ],
    ['GET', '/Patient', {}, { interaction: 'search-type', resourceType: 'Patient' }],
    [
      'GET',
      '/Patient?name=doe',
      {},
      { interaction: 'search-type', resourceType: 'Patient', query: [{ name: 'name', value: 'doe' }] },
    ],
    [
      'HEAD',
      '/Patient?name=doe',
      {},
      { interaction: 'search-type', resourceType: 'Patient', query: [{ name: 'name', value: 'doe' }] },
    ],
    [
      'GET',
      '/Patient/_search?name=doe',
      {},
      { interaction: 'search-type', resourceType: 'Patient', query: [{ name: 'name', value: 'doe' }] },
    ],
    ['POST', '/Patient/_search', {}, { interaction: 'search-type', resourceType: 'Patient' }],
    ['POST', '/Patient', { body: patient }, { interaction: 'create', resourceType: 'Patient' }],
    ['GET', '/Patient/123', {}, { interaction: 'read', resourceType: 'Patient', id: '123' }],
    ['HEAD', '/Patient/123', {}, { interaction: 'read', resourceType: 'Patient', id: '123' }],
    ['GET', '/Patient/%31%32%33', {}, { interaction: 'read', resourceType: 'Patient', id: '123' }],
    ['GET', '/Patient/metadata', {}, { interaction: 'read', resourceType: 'Patient', id: 'metadata' }],
    ['GET', '/Patient/a-B.9', {}, { interaction: 'read', resourceType: 'Patient', id: 'a-B.9' }],
    [
      'GET',
      '/Patient/123?_elements=id',
      {},
      {
        interaction: 'read',
        resourceType: 'Patient',
        id: '123',
        query: [{ name: '_elements', value: 'id' }],
      },
    ],
    [
      'GET',
      '/Patient/123/_history/2',
      {},
      { interaction: 'vread', resourceType: 'Patient', id: '123', versionId: '2' },
    ],
    ['PUT', '/Patient/123', { body: patient }, { interaction: 'update', resourceType: 'Patient', id: '123' }],
    [
      'PUT',
      '/Patient?identifier=http://x|1',
      { body: patient },
      {
        interaction: 'update',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'http://x|1' }],
      },
    ],
    [
      'PATCH',
      '/Patient/123',
      { body: jsonPatch, type: 'application/json-patch+json' },
      { interaction: 'patch', resourceType: 'Patient', id: '123' },
    ],
    [
      'PATCH',
      '/Patient?identifier=x',
      { body: fhirPathPatch },
      {
        interaction: 'patch',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'x' }],
      },
    ],
    ['DELETE', '/Patient/123', {}, { interaction: 'delete', resourceType: 'Patient', id: '123' }],
    [
      'DELETE',
      '/Patient?identifier=x',
      {},
      {
        interaction: 'delete',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'x' }],
      },
    ],
    ['GET', '/Patient/_history', {}, { interaction: 'history-type', resourceType: 'Patient' }],
    [
      'GET',
      '/Patient/123/_history',
      {},
      { interaction: 'history-instance', resourceType: 'Patient', id: '123' },
    ],
    [
      'POST',
      '/Patient/$match',
      { body: fhirPathPatch },
      { interaction: 'operation-type', resourceType: 'Patient', operation: 'match' },
    ],
    [
      'GET',
      '/Patient/123/$everything',
      {},
      { interaction: 'operation-instance', resourceType: 'Patient', id: '123', operation: 'everything' },
    ],
    [
      'POST',
      '/Patient/123/$everything',
      {},
      { interaction: 'operation-instance', resourceType: 'Patient', id: '123', operation: 'everything' },
    ],
    [
      'GET',
      '/Patient/123/Observation?code=x',
      {},
      {
        interaction: 'search-compartment',
        resourceType: 'Observation',
        compartment: { resourceType: 'Patient', id: '123' },
        query: [{ name: 'code', value: 'x' }],
      },
    ],
    [
      'HEAD',
      '/Encounter/e1/Observation',
      {},
      {
        interaction: 'search-compartment',
        resourceType: 'Observation',
        compartment: { resourceType: 'Encounter', id: 'e1' },
      },
    ],
  ];
  for (const [method, target, options, expected] of rows) {
    test(`${method} ${JSON.stringify(target)} → ${String(expected['interaction'])}`, () => {
      const req = parse(method, target, options);
      assert.equal(req.method, method);
      assert.deepEqual(shapeOf(req), expectedShape(expected));
    });
  }
});

describe('query parameters', () => {
  const rows: [string, [string, string][]][] = [
    [
      'a=1&a=2',
      [
        ['a', '1'],
        ['a', '2'],
      ],
    ],
    ['a=1,2', [['a', '1,2']]],
    [
      'b=2&a=1&b=3',
      [
        ['b', '2'],
        ['a', '1'],
        ['b', '3'],
      ],
    ],
    ['name=John+Smith', [['name', 'John Smith']]],
    ['name=a%2Bb', [['name', 'a+b']]],
    ['name%3Aexact=x', [['name:exact', 'x']]],
    ['flag', [['flag', '']]],
    ['flag=', [['flag', '']]],
    ['a=b=c', [['a', 'b=c']]],
    [
      'a=1&&b=2&',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['subject=Patient%2F123', [['subject', 'Patient/123']]],
    ['identifier=http%3A%2F%2Fx%7C1', [['identifier', 'http://x|1']]],
    ['name=Jos%C3%A9', [['name', 'José']]],
    ['q=a?b', [['q', 'a?b']]],
  ];
  for (const [raw, expected] of rows) {
    test(`?${raw}`, () => {
      const req = parse('GET', `/Observation?${raw}`);
      assert.deepEqual(
        req.query,
        expected.map(([name, value]) => ({ name, value })),
      );
    });
  }

  test('POST Type/_search with a form body: body params follow URL params, and the body is dropped', () => {
    const req = parse('POST', '/Patient/_search?_count=10', {
      body: 'name=a+b&name=c&_sort=%2Dbirthdate',
      type: 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    assert.equal(req.interaction, 'search-type');
    assert.deepEqual(req.query, [
      { name: '_count', value: '10' },
      { name: 'name', value: 'a b' },
      { name: 'name', value: 'c' },
      { name: '_sort', value: '-birthdate' },
    ]);
    assert.equal(req.body, undefined);
  });

  test('a trailing newline in a form body is not part of the last value', () => {
    assert.deepEqual(parse('POST', '/_search', form('_id=1\r\n')).query, [{ name: '_id', value: '1' }]);
  });
});

describe('bodies', () => {
  test('json() parses lazily, once, and keeps the bytes and the bare media type', () => {
    const req = parse('POST', '/Patient', {
      body: patient,
      type: 'Application/FHIR+JSON; charset=utf-8; fhirVersion=4.0',
    });
    assert.ok(req.body);
    assert.equal(req.body.mediaType, 'application/fhir+json');
    assert.deepEqual(req.body.bytes, Buffer.from(JSON.stringify(patient)));
    const first = req.body.json();
    assert.deepEqual(first, patient);
    assert.equal(req.body.json(), first);
  });

  test('bad JSON is found only when someone asks, then refused with 400', () => {
    const req = parse('POST', '/Patient/$validate', { body: '{"resourceType":', type: 'application/json' });
    assert.ok(req.body);
    assertRefused(() => req.body?.json(), 400, 'invalid_json', /not valid JSON/);
  });

  test('a byte-order mark before JSON is accepted', () => {
    const req = parse('POST', '/Patient', { body: `\uFEFF${JSON.stringify(patient)}` });
    assert.deepEqual(req.body?.json(), patient);
  });

  test('XML is passed through as bytes and refuses a JSON view', () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"/>';
    for (const type of ['application/fhir+xml', 'application/xml; charset=utf-8']) {
      const req = parse('PUT', '/Patient/1', { body: xml, type });
      assert.equal(req.body?.bytes.toString(), xml);
      assert.equal(req.body?.mediaType, type.split(';')[0]);
      assertRefused(() => req.body?.json(), 415, 'body_not_json', /reads only JSON/);
    }
  });

  test('bad JSON in a create or update is refused at parse time', () => {
    for (const [method, target] of [
      ['PUT', '/Patient/1'],
      ['POST', '/Patient'],
    ] as const) {
      assertRefused(
        () => parse(method, target, { body: '{"resourceType":', type: 'application/json' }),
        400,
        'invalid_json',
        /not valid JSON/,
      );
    }
  });

  test('W4 W9 — a create or update body must be the resource the URL names (JSON and XML)', () => {
    const xml = (root: string, id?: string) =>
      `<?xml version="1.0"?><${root} xmlns="http://hl7.org/fhir">${id ? `<id value="${id}"/>` : ''}</${root}>`;
    const json = (resourceType: string, id?: string) =>
      JSON.stringify({ resourceType, ...(id ? { id } : {}) });
    const XML = 'application/fhir+xml';
    assertRefused(
      () => parse('PUT', '/Patient/p1', { body: json('Patient', 'p9') }),
      400,
      'body_id_mismatch',
      /"p9"/,
    );
    assertRefused(
      () => parse('PUT', '/Patient/p1', { body: json('Observation', 'p1') }),
      400,
      'body_type_mismatch',
      /URL names Patient/,
    );
    assertRefused(
      () => parse('POST', '/Patient', { body: json('Observation') }),
      400,
      'body_type_mismatch',
      /URL names Patient/,
    );
    assertRefused(() => parse('POST', '/Patient', { body: '[1]' }), 400, 'not_a_resource', /no resourceType/);
    assertRefused(
      () => parse('POST', '/Patient', { body: xml('Observation'), type: XML }),
      400,
      'body_type_mismatch',
      /URL names Patient/,
    );
    assertRefused(
      () => parse('PUT', '/Patient/p1', { body: xml('Patient', 'p9'), type: XML }),
      400,
      'body_id_mismatch',
      /differs/,
    );
    assertRefused(
      () => parse('PUT', '/Patient/p1', { body: '<Patient>', type: XML }),
      400,
      'invalid_xml',
      /well-formed|root/,
    );
    assertRefused(
      () => parse('POST', '/Patient', { body: `<!DOCTYPE x [<!ENTITY a "b">]>${xml('Patient')}`, type: XML }),
      400,
      'invalid_xml',
      /DOCTYPE/,
    );
    const deep = `${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}`;
    assertRefused(
      () => parse('POST', '/Patient', { body: `<Patient>${deep}</Patient>`, type: XML }),
      400,
      'invalid_xml',
      /cannot be read|well-formed/,
    );
    // Matching bodies pass; an update body without an id is left to the server; conditional updates have no URL id.
    assert.equal(parse('PUT', '/Patient/p1', { body: xml('Patient', 'p1'), type: XML }).id, 'p1');
    assert.equal(parse('POST', '/Patient', { body: xml('Patient', 'any'), type: XML }).interaction, 'create');
    assert.equal(parse('PUT', '/Patient/p1', { body: json('Patient') }).id, 'p1');
    assert.equal(parse('PUT', '/Patient?identifier=x', { body: json('Patient', 'p2') }).conditional, true);
  });

  test('an empty body counts as no body', () => {
    const req = parseFhirRequest({ method: 'GET', target: '/Patient', headers: {}, body: Buffer.alloc(0) });
    assert.equal(req.body, undefined);
  });

  test('headers are kept, as a copy', () => {
    const headers = { accept: 'application/fhir+json', 'x-request-id': 'r1' };
    const req = parseFhirRequest({ method: 'GET', target: '/Patient', headers });
    assert.deepEqual(req.headers, headers);
    assert.notEqual(req.headers, headers);
  });
});
