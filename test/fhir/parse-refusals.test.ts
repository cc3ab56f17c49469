import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFhirRequest } from '../../src/fhir/parse.js';
import { assertRefused, parse, type RawOptions } from './request-kit.js';

const patient = { resourceType: 'Patient' };
const transaction = { resourceType: 'Bundle', type: 'transaction', entry: [] };

type Row = [
  method: string,
  target: string,
  options: RawOptions,
  status: number,
  code: string,
  message: RegExp,
];

const pathRows: Row[] = [
  ['GET', '/Patient/../Observation', {}, 400, 'dot_segment', /"\." and "\.\." segments/],
  ['GET', '/Patient/./1', {}, 400, 'dot_segment', /"\." and "\.\." segments/],
  ['GET', '/Patient/%2E%2E/x', {}, 400, 'dot_segment', /"\." and "\.\." segments/],
  ['GET', '/Patient/%2e', {}, 400, 'dot_segment', /"\." and "\.\." segments/],
  ['GET', '/Patient%2F1', {}, 400, 'encoded_separator', /%2F, %5C/],
  ['GET', '/Patient/1%2f_history', {}, 400, 'encoded_separator', /%2F, %5C/],
  ['GET', '/Patient%5C1', {}, 400, 'encoded_separator', /%2F, %5C/],
  ['GET', '/Patient%5c1', {}, 400, 'encoded_separator', /%2F, %5C/],
  ['GET', '/Patient\\1', {}, 400, 'backslash', /backslash/],
  ['GET', '/Patient?x=a\\b', {}, 400, 'backslash', /backslash/],
  ['GET', '/Patient//1', {}, 400, 'empty_segment', /Empty path segments/],
  ['GET', '//Patient', {}, 400, 'empty_segment', /Empty path segments/],
  ['GET', '/Patient/', {}, 400, 'empty_segment', /trailing "\/"/],
  ['GET', '/Patient/1/?x=1', {}, 400, 'empty_segment', /trailing "\/"/],
  ['GET', 'Patient/1', {}, 400, 'invalid_path', /must start with "\/"/],
  ['GET', '/Patinet', {}, 400, 'unknown_type', /Unknown resource type "Patinet"/],
  ['GET', '/patient/1', {}, 400, 'unknown_type', /Unknown resource type "patient".*case-sensitive/],
  ['GET', '/Resource/1', {}, 400, 'unknown_type', /Unknown resource type "Resource"/],
  ['GET', '/Project/1', {}, 400, 'unknown_type', /Unknown resource type "Project"/],
  ['GET', '/Patient/1/Bogus', {}, 400, 'unknown_type', /Unknown resource type "Bogus"/],
  ['GET', '/Patient/1_2', {}, 400, 'invalid_id', /Invalid Patient id "1_2"/],
  ['GET', `/Patient/${'a'.repeat(65)}`, {}, 400, 'invalid_id', /Invalid Patient id/],
  ['GET', '/Patient/%20/_history', {}, 400, 'invalid_id', /Invalid Patient id " "/],
  ['GET', '/Patient/1/_history/v_1', {}, 400, 'invalid_version_id', /Invalid version id "v_1"/],
  ['GET', '/Patient/1/_history/2/x', {}, 400, 'too_many_segments', /Too many path segments \(5/],
  ['GET', '/Patient/1/Observation/2', {}, 400, 'unsupported_path', /Unsupported request path/],
  ['POST', '/Patient/1/Observation/_search', {}, 400, 'unsupported_path', /Unsupported request path/],
  ['GET', '/metadata/x', {}, 400, 'unsupported_path', /"metadata" must be the last path segment/],
  ['GET', '/$export/x', {}, 400, 'unsupported_path', /"\$export" must be the last path segment/],
  ['GET', '/_foo', {}, 400, 'unknown_segment', /Unknown path segment "_foo"/],
  ['GET', '/Patient/_foo', {}, 400, 'unknown_segment', /Unknown path segment "_foo"/],
  ['GET', '/Patient/1/_foo', {}, 400, 'unknown_segment', /Unknown path segment "_foo"/],
  ['GET', '/Patient/$', {}, 400, 'invalid_operation', /Invalid operation name "\$"/],
  ['GET', '/$9x', {}, 400, 'invalid_operation', /Invalid operation name/],
  ['GET', '/Patient/1/*', {}, 400, 'wildcard', /wildcard "\*" is not supported/],
  ['GET', '/Patient/*', {}, 400, 'wildcard', /wildcard "\*" is not supported/],
  ['GET', '/Organization/1/Patient', {}, 400, 'not_a_compartment', /Organization is not a compartment/],
  [
    'GET',
    '/Patient/%zz',
    {},
    400,
    'malformed_percent_encoding',
    /Malformed percent-encoding in path segment/,
  ],
  ['GET', '/Patient/%', {}, 400, 'malformed_percent_encoding', /Malformed percent-encoding in path segment/],
  ['GET', '/Patient/%00', {}, 400, 'control_character', /Control characters are not allowed in path segment/],
  ['GET', '/Patient/1\u0000', {}, 400, 'control_character', /Control characters/],
  ['GET', '/Patient\t', {}, 400, 'control_character', /Control characters/],
  ['GET', '/Patient/1#x', {}, 400, 'fragment', /"#" must be percent-encoded/],
  ['GET', '/Patient?name=José', {}, 400, 'raw_character', /must be percent-encoded/],
  ['GET', '/Patient?name=a b', {}, 400, 'raw_character', /must be percent-encoded/],
];

const queryRows: Row[] = [
  ['GET', '/Patient?name=%E9', {}, 400, 'malformed_percent_encoding', /query parameter "name"/],
  ['GET', '/Patient?a=%', {}, 400, 'malformed_percent_encoding', /query parameter "a"/],
  ['GET', '/Patient?a%zz=1', {}, 400, 'malformed_percent_encoding', /query parameter name "a%zz"/],
  [
    'GET',
    '/Patient?a=%0A',
    {},
    400,
    'control_character',
    /Control characters are not allowed in query parameter "a"/,
  ],
  ['GET', '/Patient?a=%00', {}, 400, 'control_character', /Control characters/],
  ['GET', '/Patient?=x', {}, 400, 'empty_param_name', /Empty parameter name in query \("=x"\)/],
  ['GET', '/Patient?a=1&=', {}, 400, 'empty_param_name', /Empty parameter name/],
  // A write by id with a search: some servers write what the search finds instead.
  [
    'PUT',
    '/Patient/Patient?_id=p2',
    { body: { resourceType: 'Patient', id: 'Patient' } },
    400,
    'unexpected_param',
    /An update of Patient\/Patient takes no search parameter \(got "_id"\)/,
  ],
  [
    'PATCH',
    '/Patient/p1?name=x',
    { body: [], type: 'application/json-patch+json' },
    400,
    'unexpected_param',
    /A patch of Patient\/p1/,
  ],
  [
    'DELETE',
    '/Observation/o1?subject=Patient/p2',
    {},
    400,
    'unexpected_param',
    /A delete of Observation\/o1/,
  ],
  ['DELETE', '/Observation/o1?_cascade=delete&_id=o2', {}, 400, 'unexpected_param', /got "_id"/],
  [
    'POST',
    '/Patient?family=x',
    { body: { resourceType: 'Patient' } },
    400,
    'unexpected_param',
    /A create of Patient takes no search parameter/,
  ],
  [
    'POST',
    '/Observation',
    { body: { resourceType: 'Observation' }, headers: { 'if-none-exist': 'code=a&x=?subject=Patient/2' } },
    400,
    'ambiguous_condition',
    /If-None-Exist holds a "\?"/,
  ],
  [
    'PUT',
    '/Patient/p1?_cascade=delete',
    { body: { resourceType: 'Patient', id: 'p1' } },
    400,
    'unexpected_param',
    /got "_cascade"/,
  ],
];

const methodRows: Row[] = [
  ['TRACE', '/Patient', {}, 405, 'method_not_allowed', /"TRACE" is not supported/],
  ['OPTIONS', '/Patient', {}, 405, 'method_not_allowed', /"OPTIONS" is not supported/],
  ['get', '/Patient', {}, 405, 'method_not_allowed', /"get" is not supported/],
  [
    'POST',
    '/Patient/1',
    { body: patient },
    405,
    'method_not_allowed',
    /POST is not allowed on a resource instance/,
  ],
  ['DELETE', '/metadata', {}, 405, 'method_not_allowed', /DELETE is not allowed on metadata/],
  ['PUT', '/', { body: patient }, 405, 'method_not_allowed', /PUT is not allowed on the FHIR base/],
  [
    'POST',
    '/Patient/1/_history',
    {},
    405,
    'method_not_allowed',
    /POST is not allowed on an instance _history/,
  ],
  ['PUT', '/Patient/1/_history/2', { body: patient }, 405, 'method_not_allowed', /PUT is not allowed/],
  [
    'POST',
    '/Patient/1/Observation',
    {},
    405,
    'method_not_allowed',
    /POST is not allowed on a compartment search/,
  ],
  ['PUT', '/Patient', { body: patient }, 400, 'missing_conditional_params', /needs search parameters/],
  ['DELETE', '/Patient', {}, 400, 'missing_conditional_params', /conditional DELETE/],
  ['PATCH', '/Patient?', { body: [] }, 400, 'missing_conditional_params', /conditional PATCH/],
];

const bodyRows: Row[] = [
  ['GET', '/Patient', { body: patient }, 400, 'unexpected_body', /A GET request must not have a body/],
  ['HEAD', '/Patient/1', { body: patient }, 400, 'unexpected_body', /A HEAD request must not have a body/],
  [
    'DELETE',
    '/Patient/1',
    { body: patient },
    400,
    'unexpected_body',
    /A DELETE request must not have a body/,
  ],
  ['GET', '/Patient/1/$everything', { body: patient }, 400, 'unexpected_body', /GET request must not/],
  ['POST', '/Patient', {}, 400, 'missing_body', /A create request needs a body/],
  ['PUT', '/Patient/1', {}, 400, 'missing_body', /An update request needs a body/],
  ['PATCH', '/Patient/1', {}, 400, 'missing_body', /A patch request needs a body/],
  ['PATCH', '/Patient/1', { body: '<x/>', type: 'application/xml' }, 415, 'unsupported_media_type', /patch/],
  ['PATCH', '/Patient/1', { body: 'x', type: 'text/plain' }, 415, 'unsupported_media_type', /"text\/plain"/],
  [
    'POST',
    '/Patient',
    { body: 'x', type: 'text/plain' },
    415,
    'unsupported_media_type',
    /not accepted for a create/,
  ],
  ['POST', '/Patient', { body: patient, type: '' }, 415, 'unsupported_media_type', /needs a Content-Type/],
  [
    'POST',
    '/Patient',
    { body: [], type: 'application/json-patch+json' },
    415,
    'unsupported_media_type',
    /create/,
  ],
  [
    'POST',
    '/Patient',
    { body: 'a=1', type: 'application/x-www-form-urlencoded' },
    415,
    'unsupported_media_type',
    /create/,
  ],
  ['POST', '/Patient/_search', { body: patient }, 415, 'unsupported_media_type', /POST _search/],
  [
    'POST',
    '/$meta',
    { body: 'a=1', type: 'application/x-www-form-urlencoded' },
    415,
    'unsupported_media_type',
    /operation/,
  ],
  ['POST', '', {}, 400, 'missing_body', /needs a batch or transaction Bundle/],
  ['POST', '', { body: '<Bundle/>', type: 'application/fhir+xml' }, 400, 'bundle_not_json', /must be JSON/],
  ['POST', '/', { body: 'x', type: 'text/plain' }, 415, 'unsupported_media_type', /batch or transaction/],
  ['POST', '', { body: patient }, 400, 'not_a_batch', /Bundle of type batch or transaction/],
  [
    'POST',
    '',
    { body: { resourceType: 'Bundle', type: 'searchset' } },
    400,
    'not_a_batch',
    /batch or transaction/,
  ],
  ['POST', '', { body: [transaction] }, 400, 'not_a_batch', /batch or transaction/],
  [
    'POST',
    '',
    { body: '{"resourceType":"Bundle"', type: 'application/json' },
    400,
    'invalid_json',
    /not valid JSON/,
  ],
  [
    'POST',
    '?_getpages=x',
    { body: transaction },
    400,
    'unexpected_param',
    /"_getpages" is not allowed on a transaction/,
  ],
  [
    'POST',
    '/_search',
    { body: 'a=%zz', type: 'application/x-www-form-urlencoded' },
    400,
    'malformed_percent_encoding',
    /form body parameter "a"/,
  ],
  [
    'POST',
    '/_search',
    { body: '=1', type: 'application/x-www-form-urlencoded' },
    400,
    'empty_param_name',
    /form body/,
  ],
];

for (const [title, rows] of [
  ['path', pathRows],
  ['query', queryRows],
  ['method', methodRows],
  ['body', bodyRows],
] as const) {
  describe(`refusals: ${title}`, () => {
    for (const [method, target, options, status, code, message] of rows) {
      test(`${method} ${JSON.stringify(target)} → ${status} ${code}`, () => {
        assertRefused(() => parse(method, target, options), status, code, message);
      });
    }
  });
}

test('405 answers carry an Allow header; HEAD is named as HEAD', () => {
  const error = assertRefused(() => parse('POST', '/metadata'), 405, 'method_not_allowed', /POST/);
  assert.equal(error.headers['allow'], 'GET, HEAD');
  const instance = assertRefused(
    () => parse('POST', '/Patient/1', { body: patient }),
    405,
    'method_not_allowed',
    /PUT/,
  );
  assert.equal(instance.headers['allow'], 'GET, HEAD, PUT, PATCH, DELETE');
  assertRefused(() => parse('HEAD', '/Patient/1/Observation/x'), 400, 'unsupported_path', /Unsupported/);
});

test('invalid UTF-8 bytes are refused, in a form body and in a Bundle', () => {
  const cases: [string, string, string][] = [
    ['/_search', 'application/x-www-form-urlencoded', 'a=\xff'],
    ['', 'application/fhir+json', '{"a":"\xff"}'],
  ];
  for (const [target, type, latin1] of cases) {
    const body = Buffer.from(latin1, 'latin1');
    const run = () => parseFhirRequest({ method: 'POST', target, headers: { 'content-type': type }, body });
    assertRefused(run, 400, 'invalid_utf8', /not valid UTF-8/);
  }
});

test('a write by id keeps the params that only shape the answer, and a delete the destructive ones', () => {
  const update = parse('PUT', '/Patient/p1?_format=json&_pretty=true', { body: { ...patient, id: 'p1' } });
  assert.deepEqual(
    update.query.map((p) => p.name),
    ['_format', '_pretty'],
  );
  const del = parse('DELETE', '/Patient/p1?_cascade=delete&_expunge=true');
  assert.deepEqual(
    del.query.map((p) => p.name),
    ['_cascade', '_expunge'],
  );
  assert.equal(parse('GET', '/Patient/p1?_elements=name').interaction, 'read');
  const create = parse('POST', '/Patient?_format=json', {
    body: patient,
    headers: { 'if-none-exist': '?identifier=a|1' },
  });
  assert.equal(create.interaction, 'create');
  assert.equal(create.headers['if-none-exist'], 'identifier=a|1');
  // HAPI's client writes `Type?search`: judged and forwarded as the search alone.
  const typed = parse('POST', '/Patient', {
    body: patient,
    headers: { 'if-none-exist': 'Patient?identifier=a|1' },
  });
  assert.equal(typed.headers['if-none-exist'], 'identifier=a|1');
  assertRefused(
    () => parse('POST', '/Patient', { body: patient, headers: { 'if-none-exist': 'Observation?code=a' } }),
    400,
    'ambiguous_condition',
    /searches "Observation", not the type created \(Patient\)/,
  );
});
