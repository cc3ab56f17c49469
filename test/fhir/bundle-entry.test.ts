import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bundleEntries, parseEntryRequest } from '../../src/fhir/bundle-entry.js';
import { assertRefused, expectedShape, parse, type RawOptions, shapeOf } from './request-kit.js';

const patient = { resourceType: 'Patient', active: true };
const jsonPatch = [{ op: 'replace', path: '/active', value: false }];
const patchBinary = {
  resourceType: 'Binary',
  contentType: 'application/json-patch+json',
  data: Buffer.from(JSON.stringify(jsonPatch)).toString('base64'),
};
const fhirPathPatch = { resourceType: 'Parameters', parameter: [{ name: 'operation' }] };

const entry = (method: string, url: unknown, extra: Record<string, unknown> = {}) => ({
  ...('resource' in extra ? { resource: extra['resource'] } : {}),
  request: {
    method,
    url,
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'resource')),
  },
});

describe('parseEntryRequest gives what the standalone request would give', () => {
  // [entry, equivalent standalone request, expected shape]
  const rows: [unknown, [string, string, RawOptions], Record<string, unknown>][] = [
    [
      entry('GET', 'Patient/1'),
      ['GET', '/Patient/1', {}],
      { interaction: 'read', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('GET', '/Patient/1'),
      ['GET', '/Patient/1', {}],
      { interaction: 'read', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('HEAD', 'Patient/1'),
      ['HEAD', '/Patient/1', {}],
      { interaction: 'read', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('GET', 'Patient?name=John Smith&name=a+b'),
      ['GET', '/Patient?name=John%20Smith&name=a+b', {}],
      {
        interaction: 'search-type',
        resourceType: 'Patient',
        query: [
          { name: 'name', value: 'John Smith' },
          { name: 'name', value: 'a b' },
        ],
      },
    ],
    [
      entry('GET', 'Patient?name=José'),
      ['GET', '/Patient?name=Jos%C3%A9', {}],
      { interaction: 'search-type', resourceType: 'Patient', query: [{ name: 'name', value: 'José' }] },
    ],
    [
      entry('GET', 'Patient/1/_history/3'),
      ['GET', '/Patient/1/_history/3', {}],
      { interaction: 'vread', resourceType: 'Patient', id: '1', versionId: '3' },
    ],
    [
      entry('GET', 'Patient/1/Observation'),
      ['GET', '/Patient/1/Observation', {}],
      {
        interaction: 'search-compartment',
        resourceType: 'Observation',
        compartment: { resourceType: 'Patient', id: '1' },
      },
    ],
    [entry('GET', 'metadata'), ['GET', '/metadata', {}], { interaction: 'capabilities' }],
    [
      entry('GET', '?_getpages=abc'),
      ['GET', '?_getpages=abc', {}],
      { interaction: 'paging', query: [{ name: '_getpages', value: 'abc' }] },
    ],
    [
      entry('POST', 'Patient', { resource: patient }),
      ['POST', '/Patient', { body: patient }],
      { interaction: 'create', resourceType: 'Patient' },
    ],
    [
      entry('PUT', 'Patient/1', { resource: patient }),
      ['PUT', '/Patient/1', { body: patient }],
      { interaction: 'update', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('PUT', 'Patient?identifier=x|1', { resource: patient }),
      ['PUT', '/Patient?identifier=x|1', { body: patient }],
      {
        interaction: 'update',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'x|1' }],
      },
    ],
    [
      entry('PATCH', 'Patient/1', { resource: patchBinary }),
      ['PATCH', '/Patient/1', { body: jsonPatch, type: 'application/json-patch+json' }],
      { interaction: 'patch', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('PATCH', 'Patient?identifier=x', { resource: fhirPathPatch }),
      ['PATCH', '/Patient?identifier=x', { body: fhirPathPatch }],
      {
        interaction: 'patch',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'x' }],
      },
    ],
    [
      entry('DELETE', 'Patient/1'),
      ['DELETE', '/Patient/1', {}],
      { interaction: 'delete', resourceType: 'Patient', id: '1' },
    ],
    [
      entry('DELETE', 'Patient?identifier=x'),
      ['DELETE', '/Patient?identifier=x', {}],
      {
        interaction: 'delete',
        resourceType: 'Patient',
        conditional: true,
        query: [{ name: 'identifier', value: 'x' }],
      },
    ],
    [
      entry('POST', 'Patient/1/$validate', { resource: fhirPathPatch }),
      ['POST', '/Patient/1/$validate', { body: fhirPathPatch }],
      { interaction: 'operation-instance', resourceType: 'Patient', id: '1', operation: 'validate' },
    ],
    [
      entry('POST', 'Observation/_search'),
      ['POST', '/Observation/_search', {}],
      { interaction: 'search-type', resourceType: 'Observation' },
    ],
  ];
  rows.forEach(([input, [method, target, options], expected], index) => {
    test(`${method} ${target} → ${String(expected['interaction'])}`, () => {
      const fromEntry = parseEntryRequest(input, index);
      const standalone = parse(method, target, options);
      assert.deepEqual(shapeOf(fromEntry), expectedShape(expected));
      assert.deepEqual(shapeOf(fromEntry), shapeOf(standalone));
      assert.equal(fromEntry.method, method);
      assert.deepEqual(fromEntry.body?.bytes, standalone.body?.bytes);
      assert.equal(fromEntry.body?.mediaType, standalone.body?.mediaType);
      assert.equal(fromEntry.headers['content-type'], standalone.body?.mediaType);
    });
  });

  test('POST and PUT bodies are the resource as fhir+json', () => {
    const req = parseEntryRequest(entry('POST', 'Patient', { resource: patient }), 0);
    assert.equal(req.body?.mediaType, 'application/fhir+json');
    assert.deepEqual(req.body?.json(), patient);
  });

  test('a PATCH Binary is decoded into the JSON Patch body (base64 may be wrapped)', () => {
    const data = patchBinary.data.replace(/(.{8})/g, '$1\n');
    const req = parseEntryRequest(entry('PATCH', 'Patient/1', { resource: { ...patchBinary, data } }), 0);
    assert.equal(req.body?.mediaType, 'application/json-patch+json');
    assert.deepEqual(req.body?.json(), jsonPatch);
  });

  test('entry conditions become headers; the outer request lends only its other headers', () => {
    const outer = {
      accept: 'application/fhir+json',
      'content-type': 'application/json',
      'if-match': 'W/"9"',
    };
    const create = parseEntryRequest(
      entry('POST', 'Patient', { resource: patient, ifNoneExist: 'identifier=x|1' }),
      0,
      outer,
    );
    assert.deepEqual(create.headers, {
      accept: 'application/fhir+json',
      'content-type': 'application/fhir+json',
      'if-none-exist': 'identifier=x|1',
    });
    const update = parseEntryRequest(
      entry('PUT', 'Patient/1', { resource: patient, ifMatch: 'W/"2"' }),
      1,
      outer,
    );
    assert.equal(update.headers['if-match'], 'W/"2"');
    const read = parseEntryRequest(entry('GET', 'Patient/1', { ifNoneMatch: 'W/"2"' }), 2, outer);
    assert.deepEqual(read.headers, { accept: 'application/fhir+json', 'if-none-match': 'W/"2"' });
  });
});

describe('parseEntryRequest refuses malformed entries with 400, naming the index', () => {
  const rows: [unknown, RegExp][] = [
    [null, /request is missing/],
    [[], /request is missing/],
    [{ resource: patient }, /request is missing/],
    [{ request: 'GET Patient/1' }, /request is missing/],
    [entry('FOO', 'Patient/1'), /request.method must be one of GET, HEAD/],
    [entry('get', 'Patient/1'), /request.method must be one of/],
    [{ request: { url: 'Patient/1' } }, /request.method must be one of/],
    [entry('GET', undefined), /request.url is missing/],
    [entry('GET', ''), /request.url is missing/],
    [entry('GET', 7), /request.url is missing/],
    [entry('GET', 'http://other.example/fhir/Patient/1'), /relative to the FHIR base/],
    [entry('GET', 'urn:uuid:6b2ae3a1-1d3c-4f54-9b7a-0c1bb2a8e3a0'), /relative to the FHIR base/],
    [entry('GET', '//other.example/Patient/1'), /relative to the FHIR base/],
    [entry('GET', 'Patient/../Observation'), /"\." and "\.\." segments/],
    [entry('GET', 'Patient%2F1'), /%2F/],
    [entry('GET', 'Patinet/1'), /Unknown resource type "Patinet"/],
    [entry('GET', 'Patient?name=\ud800'), /not valid Unicode/],
    [entry('GET', 'Patient/1', { resource: patient }), /a GET entry must not carry a resource/],
    [entry('DELETE', 'Patient/1', { resource: patient }), /a DELETE entry must not carry a resource/],
    [entry('POST', 'Patient', { resource: [patient] }), /resource must be a JSON object/],
    [entry('POST', 'Patient', { resource: 'x' }), /resource must be a JSON object/],
    [entry('POST', 'Patient'), /A create request needs a body/],
    [entry('PUT', 'Patient/1'), /An update request needs a body/],
    [entry('PATCH', 'Patient/1'), /A patch request needs a body/],
    [entry('POST', 'Patient/1', { resource: patient }), /POST is not allowed on a resource instance/],
    [entry('POST', 'Patient/_search', { resource: patient }), /not accepted for POST _search/],
    [entry('PATCH', 'Patient/1', { resource: { ...patchBinary, contentType: 'text/plain' } }), /contentType/],
    [entry('PATCH', 'Patient/1', { resource: { ...patchBinary, data: 'not base64!' } }), /base64 data/],
    [entry('PATCH', 'Patient/1', { resource: { ...patchBinary, data: undefined } }), /base64 data/],
    [entry('PUT', 'Patient/1', { resource: patient, ifMatch: 2 }), /request.ifMatch must be a string/],
    [entry('POST', '', { resource: { resourceType: 'Bundle', type: 'batch' } }), /request.url is missing/],
    [
      entry('POST', '/', { resource: { resourceType: 'Bundle', type: 'batch' } }),
      /batch or transaction inside/,
    ],
    [entry('POST', '?_format=json', { resource: { resourceType: 'Bundle', type: 'transaction' } }), /inside/],
    // Forwarded as written, some servers read `Type/id?…` as a conditional write.
    [
      entry('PUT', 'Patient/1?', { resource: { ...patient, id: '1' } }),
      /PUT of Patient\/1 must not have a query/,
    ],
    [
      entry('PATCH', 'Patient/1?_format=json', { resource: patchBinary }),
      /PATCH of Patient\/1 must not have a query/,
    ],
    [entry('DELETE', 'Patient/1?_cascade=delete'), /DELETE of Patient\/1 must not have a query/],
    [entry('DELETE', 'Patient/1?_id=2'), /A delete of Patient\/1 takes no search parameter/],
    [entry('POST', 'Patient?_format=json', { resource: patient }), /POST of Patient must not have a query/],
    [entry('GET', 'Patient?name=a?b'), /second "\?"/],
    [
      entry('PUT', 'Observation?_id=o1?&subject=Patient/1', { resource: { resourceType: 'Observation' } }),
      /second "\?"/,
    ],
    [
      entry('POST', 'Patient', { resource: patient, ifNoneExist: 'name=a?b' }),
      /ifNoneExist is the query part/,
    ],
    [
      entry('POST', 'Patient', { resource: patient, ifNoneExist: '?name=a' }),
      /ifNoneExist is the query part/,
    ],
    [
      entry('POST', 'Patient', { resource: patient, ifNoneExist: 'Patient?name=a' }),
      /ifNoneExist is the query part/,
    ],
  ];
  rows.forEach(([input, message], index) => {
    test(`entry ${index}: ${JSON.stringify(input)}`, () => {
      const error = assertRefused(
        () => parseEntryRequest(input, index + 3),
        400,
        'invalid_bundle_entry',
        message,
      );
      assert.ok(error.message.startsWith(`Bundle entry ${index + 3}: `), error.message);
    });
  });
});

describe('bundleEntries', () => {
  test('returns the entries of a batch or transaction', () => {
    const entries = [entry('GET', 'Patient/1'), entry('DELETE', 'Patient/2')];
    for (const type of ['batch', 'transaction']) {
      const req = parse('POST', '', { body: { resourceType: 'Bundle', type, entry: entries } });
      assert.deepEqual(bundleEntries(req), entries);
      assert.deepEqual(
        bundleEntries(req).map((item, index) => parseEntryRequest(item, index).interaction),
        ['read', 'delete'],
      );
    }
  });

  test('a Bundle without entries has none; an entry that is no array and a request that is no Bundle are refused', () => {
    const empty = parse('POST', '', { body: { resourceType: 'Bundle', type: 'batch' } });
    assert.deepEqual(bundleEntries(empty), []);
    const wrong = parse('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: {} } });
    assertRefused(() => bundleEntries(wrong), 400, 'invalid_bundle', /transaction Bundle has no entry array/);
    assertRefused(() => bundleEntries(parse('GET', '/Patient')), 400, 'not_a_batch', /Not a batch/);
  });
});
