/**
 * The HAPI JPA behaviours of the local FHIR server that the gateway's security cases need:
 * joins with `search.mode = include`, `_getpages` paging, `$everything`, `$graphql`, `$document`,
 * XML when asked, conditional reads, HEAD, `Prefer` and conditional creates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { type LocalFhirServer, startFhirServer } from './fhir-server.js';
import { toFhirXml } from './fhir-server/xml.js';

const TAG = 'https://smartregister.org/location-tag-id';
const FHIR_JSON = 'application/fhir+json';

const tagged = (code: string) => ({ meta: { tag: [{ system: TAG, code }] } });
const ref = (reference: string) => ({ reference });

/** Patients p1, p2 (L1) and p9 (L9); Observations about them; a List and a Composition that join them. */
function dataset(): Resource[] {
  return [
    { resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Doc' }] },
    { resourceType: 'Organization', id: 'org1', name: 'Clinic' },
    {
      resourceType: 'Patient',
      id: 'p1',
      ...tagged('L1'),
      name: [{ family: 'One', given: ['Ann', 'Bea'] }],
      generalPractitioner: [ref('Practitioner/pr1')],
      managingOrganization: ref('Organization/org1'),
    },
    { resourceType: 'Patient', id: 'p2', ...tagged('L1'), name: [{ family: 'Two' }] },
    { resourceType: 'Patient', id: 'p9', ...tagged('L9'), name: [{ family: 'Nine' }] },
    observation('o1', 'Patient/p1', 'L1', { performer: [ref('Practitioner/pr1')] }),
    observation('o2', 'Patient/p2', 'L1'),
    observation('ox9', 'Patient/p2', 'L9'),
    observation('o9', 'Patient/p9', 'L9', { hasMember: [ref('Observation/o2')] }),
    {
      resourceType: 'List',
      id: 'l1',
      status: 'current',
      mode: 'working',
      subject: ref('Patient/p1'),
      entry: [{ item: ref('Observation/o1') }],
    },
    {
      resourceType: 'Composition',
      id: 'c9',
      ...tagged('L9'),
      status: 'final',
      type: { text: 'note' },
      date: '2024-01-01',
      title: 'Visit',
      author: [ref('Practitioner/pr1')],
      subject: ref('Patient/p9'),
      section: [{ title: 'Results', entry: [ref('Observation/o9')] }],
    },
  ] as Resource[];
}

function observation(id: string, subject: string, location: string, extra: object = {}): Resource {
  return {
    resourceType: 'Observation',
    id,
    ...tagged(location),
    status: 'final',
    code: { text: 'weight' },
    subject: ref(subject),
    ...extra,
  } as Resource;
}

async function call(server: LocalFhirServer, path: string, init: RequestInit = {}) {
  const response = await fetch(path.startsWith('http') ? path : `${server.baseUrl}${path}`, init);
  const text = await response.text();
  const json =
    text !== '' && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, text, json };
}

/** `Type/id` of the entries with that search mode, in order. */
function keys(bundle: Bundle, mode?: 'match' | 'include'): string[] {
  return (bundle.entry ?? [])
    .filter((e) => mode === undefined || e.search?.mode === mode)
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

function link(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

/**
 * Well-formedness, enough to catch a broken serializer: one root, tags nest and close, attributes
 * are quoted, and `<`/`&` appear only as markup or entities.
 */
function assertWellFormedXml(xml: string): string {
  const stack: string[] = [];
  let root: string | undefined;
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < xml.length) {
    token.lastIndex = consumed;
    match = token.exec(xml);
    assert.ok(match, `malformed XML at ${consumed}: ${xml.slice(consumed, consumed + 60)}`);
    const [whole, closing, name, attrs, selfClosing, text] = match;
    if (text !== undefined) {
      assert.ok(stack.length > 0 || text.trim() === '', 'text outside the root element');
      assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos|#\d+);)/, 'a bare & in text');
    } else if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      assert.doesNotMatch(attrs ?? '', /&(?!(amp|lt|gt|quot|apos|#\d+);)/, 'a bare & in an attribute');
      if (stack.length === 0) {
        assert.equal(root, undefined, 'a second root element');
        root = name;
      }
      if (!selfClosing) stack.push(name ?? '');
    }
    consumed += whole.length;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.ok(root, 'no root element');
  return root;
}

describe('local FHIR server, HAPI behaviours (default offset paging)', () => {
  let server: LocalFhirServer;
  before(async () => {
    server = await startFhirServer({ seed: dataset() });
  });
  after(() => server.close());

  describe('_include and _revinclude', () => {
    test('_include adds the referenced resources after the matches, with search.mode include', async () => {
      const bundle = (await call(server, '/Observation?_id=o1&_include=Observation:subject')).json as Bundle;
      assert.deepEqual(keys(bundle, 'match'), ['Observation/o1']);
      assert.deepEqual(keys(bundle, 'include'), ['Patient/p1']);
      assert.deepEqual(keys(bundle), ['Observation/o1', 'Patient/p1']);
      assert.equal(bundle.total, 1, 'total counts the matches only');
      assert.equal(bundle.entry?.[1]?.fullUrl, `${server.baseUrl}/Patient/p1`);
    });

    test('_revinclude adds the resources that reference the matches', async () => {
      const bundle = (await call(server, '/Patient?_id=p2&_revinclude=Observation:subject')).json as Bundle;
      assert.deepEqual(keys(bundle, 'match'), ['Patient/p2']);
      assert.deepEqual(keys(bundle, 'include').sort(), ['Observation/o2', 'Observation/ox9']);
    });

    test('plain joins start from the matches only; :iterate ones also from what was included', async () => {
      const plain = (
        await call(
          server,
          '/Observation?_id=o1&_include=Observation:subject&_include=Patient:general-practitioner',
        )
      ).json as Bundle;
      assert.deepEqual(keys(plain, 'include'), ['Patient/p1']);
      const iterated = (
        await call(
          server,
          '/Observation?_id=o1&_include=Observation:subject&_include:iterate=Patient:general-practitioner',
        )
      ).json as Bundle;
      assert.deepEqual(keys(iterated, 'include'), ['Patient/p1', 'Practitioner/pr1']);
      const reverse = (
        await call(
          server,
          '/Practitioner?_id=pr1&_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject',
        )
      ).json as Bundle;
      assert.deepEqual(keys(reverse, 'include'), ['Patient/p1', 'Observation/o1']);
    });

    test('* joins every reference parameter; a target type narrows; a match is never repeated as an include', async () => {
      const all = (await call(server, '/Observation?_id=o1&_include=*')).json as Bundle;
      assert.deepEqual(keys(all, 'include').sort(), ['Patient/p1', 'Practitioner/pr1']);
      const narrowed = (await call(server, '/Observation?_id=o1&_include=Observation:subject:Group'))
        .json as Bundle;
      assert.deepEqual(keys(narrowed, 'include'), []);
      const everyType = (await call(server, '/Patient?_id=p1&_revinclude=*')).json as Bundle;
      assert.deepEqual(keys(everyType, 'include').sort(), ['List/l1', 'Observation/o1']);
      const self = (await call(server, '/Observation?_id=o9,o2&_include=Observation:has-member'))
        .json as Bundle;
      assert.deepEqual(keys(self, 'match').sort(), ['Observation/o2', 'Observation/o9']);
      assert.deepEqual(keys(self, 'include'), []);
    });

    test('joins work on POST _search and compartment searches, and apply per page', async () => {
      const posted = await call(server, '/Observation/_search', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '_id=o2&_include=Observation:subject',
      });
      assert.deepEqual(keys(posted.json as Bundle), ['Observation/o2', 'Patient/p2']);
      const compartment = (await call(server, '/Patient/p1/Observation?_include=Observation:performer'))
        .json as Bundle;
      assert.deepEqual(keys(compartment), ['Observation/o1', 'Practitioner/pr1']);
      const page = (await call(server, '/Observation?_tag=L9&_include=Observation:subject&_count=1'))
        .json as Bundle;
      assert.deepEqual(keys(page, 'match'), ['Observation/ox9']);
      assert.deepEqual(keys(page, 'include'), ['Patient/p2']);
    });

    test('malformed joins answer 400 with an OperationOutcome', async () => {
      for (const query of [
        '_include=Observation',
        '_include=Observation:nope',
        '_include=Nope:subject',
        '_include:bogus=Observation:subject',
        '_revinclude=Observation:subject:Nope',
      ]) {
        const res = await call(server, `/Observation?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal((res.json as OperationOutcome).resourceType, 'OperationOutcome', query);
      }
    });
  });

  describe('paging links in the default mode', () => {
    test('next links echo every parameter, injected _tag and joins included', async () => {
      const query = `_tag=${encodeURIComponent(`${TAG}|L1`)}&_tag=${encodeURIComponent(`${TAG}|L1`)}&_revinclude=Observation:subject&_count=1`;
      const page1 = (await call(server, `/Patient?${query}`)).json as Bundle;
      const next = new URL(link(page1, 'next') ?? '');
      assert.deepEqual(next.searchParams.getAll('_tag'), [`${TAG}|L1`, `${TAG}|L1`]);
      assert.equal(next.searchParams.get('_revinclude'), 'Observation:subject');
      assert.equal(next.searchParams.get('_offset'), '1');
      const page2 = (await call(server, next.href)).json as Bundle;
      assert.deepEqual(keys(page2, 'match'), ['Patient/p2']);
      assert.deepEqual(keys(page2, 'include').sort(), ['Observation/o2', 'Observation/ox9']);
    });

    test('a system search over _type; _getpages with an unknown id answers 410, a blank one is ignored', async () => {
      const system = (await call(server, '/?_type=Patient,Practitioner')).json as Bundle;
      assert.deepEqual(keys(system), ['Patient/p1', 'Patient/p2', 'Patient/p9', 'Practitioner/pr1']);
      const gone = await call(server, '?_getpages=0b9f6ad5-2c4e-4f0e-9d9c-000000000000&_getpagesoffset=20');
      assert.equal(gone.status, 410);
      assert.match(
        (gone.json as OperationOutcome).issue?.[0]?.details?.text ?? '',
        /^HAPI-0417: Search ID "0b9f6ad5-.*" does not exist and may have expired$/,
      );
      const blank = await call(server, '?_getpages=&_type=Patient');
      assert.equal(blank.status, 200);
      assert.equal((blank.json as Bundle).total, 3);
      assert.equal((await call(server, '/?_type=Nope')).status, 400);
      assert.equal((await call(server, '/Patient?_count=abc')).status, 400);
    });
  });

  describe('operations', () => {
    test('Patient/$everything: the patient, its compartment, then what they reference', async () => {
      const res = await call(server, '/Patient/p1/$everything');
      assert.equal(res.status, 200);
      const bundle = res.json as Bundle;
      assert.equal(bundle.type, 'searchset');
      assert.deepEqual(keys(bundle, 'match'), ['Patient/p1', 'List/l1', 'Observation/o1']);
      assert.deepEqual(keys(bundle, 'include').sort(), ['Organization/org1', 'Practitioner/pr1']);
      const onlyObservations = (await call(server, '/Patient/p1/$everything?_type=Observation'))
        .json as Bundle;
      assert.deepEqual(keys(onlyObservations), ['Observation/o1']);
      const paged = (await call(server, '/Patient/p1/$everything?_count=2')).json as Bundle;
      assert.deepEqual(keys(paged, 'match'), ['Patient/p1', 'List/l1']);
      assert.equal(new URL(link(paged, 'next') ?? '').pathname, '/fhir/Patient/p1/$everything');
      assert.equal((await call(server, '/Patient/nope/$everything')).status, 404);
    });

    test('Patient/<id>/$graphql answers {data} JSON for the focused patient', async () => {
      const query = encodeURIComponent('{name{family} ObservationList(_reference: subject){id}}');
      const res = await call(server, `/Patient/p2/$graphql?query=${query}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(res.json, {
        data: { name: [{ family: 'Two' }], ObservationList: [{ id: 'o2' }, { id: 'ox9' }] },
      });
      const posted = await call(server, '/Patient/p1/$graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query Q { id }' }),
      });
      assert.deepEqual(posted.json, { data: { id: 'p1' } });
      const system = await call(
        server,
        `/$graphql?query=${encodeURIComponent('{PatientList(_id: "p9"){id}}')}`,
      );
      assert.deepEqual(system.json, { data: { PatientList: [{ id: 'p9' }] } });
      assert.equal((await call(server, `/Patient/nope/$graphql?query=${query}`)).status, 404);
      assert.equal((await call(server, '/Patient/p1/$graphql?query=%7Bbroken')).status, 400);
      assert.equal((await call(server, '/Patient/p1/$graphql')).status, 400);
      assert.equal(
        (await call(server, `/Patient/p1/$graphql?query=${encodeURIComponent('{nope}')}`)).status,
        400,
      );
    });

    test('Composition/$document: a document Bundle, the Composition first, then what it references', async () => {
      const res = await call(server, '/Composition/c9/$document');
      assert.equal(res.status, 200);
      const bundle = res.json as Bundle;
      assert.equal(bundle.type, 'document');
      assert.ok(bundle.timestamp);
      assert.match(bundle.identifier?.value ?? '', /^urn:uuid:/);
      const [first, ...rest] = keys(bundle);
      assert.equal(first, 'Composition/c9');
      assert.deepEqual(rest.sort(), [
        'Observation/o2',
        'Observation/o9',
        'Patient/p2',
        'Patient/p9',
        'Practitioner/pr1',
      ]);
      assert.ok(
        bundle.entry?.every(
          (e) => e.fullUrl === `${server.baseUrl}/${e.resource?.resourceType}/${e.resource?.id}`,
        ),
      );
      assert.equal((await call(server, '/Composition/nope/$document')).status, 404);
    });

    test('operations the server does not know still answer 404', async () => {
      assert.equal((await call(server, '/Patient/p1/$nope')).status, 404);
      assert.equal((await call(server, '/$nope')).status, 404);
    });
  });

  describe('XML when asked', () => {
    test('_format=xml, _format=application/fhir+xml and Accept all give FHIR XML with absolute URLs', async () => {
      for (const [path, init] of [
        ['/Patient/p1?_format=xml', {}],
        ['/Patient/p1?_format=application/fhir+xml', {}],
        ['/Patient/p1?_format=application%2Ffhir%2Bxml', {}],
        ['/Patient/p1', { headers: { accept: 'application/fhir+xml' } }],
        ['/Patient/p1', { headers: { accept: 'application/fhir+json;q=0.5, application/fhir+xml' } }],
      ] as const) {
        const res = await call(server, path, init);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get('content-type'), 'application/fhir+xml;charset=UTF-8', path);
        assert.equal(assertWellFormedXml(res.text), 'Patient');
        assert.match(res.text, /^<Patient xmlns="http:\/\/hl7.org\/fhir"><id value="p1"\/>/);
        assert.match(res.text, /<given value="Ann"\/><given value="Bea"\/>/);
        assert.match(
          res.text,
          /<generalPractitioner><reference value="Practitioner\/pr1"\/><\/generalPractitioner>/,
        );
        assert.ok(res.headers.get('etag'), 'headers are the same as for JSON');
      }
      const search = await call(server, '/Observation?_id=o1&_include=Observation:subject&_format=xml');
      assert.equal(assertWellFormedXml(search.text), 'Bundle');
      assert.ok(search.text.includes(`<fullUrl value="${server.baseUrl}/Observation/o1"/>`));
      assert.ok(search.text.includes(`<url value="${server.baseUrl}/Observation?`));
      assert.match(search.text, /<resource><Patient><id value="p1"\/>/);
      assert.match(search.text, /<search><mode value="include"\/><\/search>/);
      const metadata = await call(server, '/metadata', { headers: { accept: 'application/fhir+xml' } });
      assert.equal(assertWellFormedXml(metadata.text), 'CapabilityStatement');
      const missing = await call(server, '/Patient/nope?_format=xml');
      assert.equal(missing.status, 404);
      assert.equal(assertWellFormedXml(missing.text), 'OperationOutcome');
    });

    test('JSON unless XML is preferred: */*, ties and unknown formats stay JSON', async () => {
      for (const headers of [
        {} as Record<string, string>,
        { accept: '*/*' },
        { accept: 'application/xml, application/json' },
        { accept: 'text/html' },
      ]) {
        const res = await call(server, '/Patient/p1', { headers });
        assert.match(
          res.headers.get('content-type') ?? '',
          /^application\/fhir\+json/,
          JSON.stringify(headers),
        );
      }
      const unknown = await call(server, '/Patient/p1?_format=html', {
        headers: { accept: 'application/fhir+xml' },
      });
      assert.match(
        unknown.headers.get('content-type') ?? '',
        /xml/,
        'an unknown _format falls back to Accept',
      );
      const json = await call(server, '/Patient/p1?_format=json', {
        headers: { accept: 'application/fhir+xml' },
      });
      assert.match(json.headers.get('content-type') ?? '', /json/, '_format wins over Accept');
    });

    test('the serializer: primitive extensions, extension urls as attributes, nested resources, narrative', () => {
      const xml = toFhirXml({
        resourceType: 'Patient',
        id: 'x',
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A &amp; B</div>' },
        extension: [{ url: 'http://e.org/a', valueString: 'say "hi" & <bye>' }],
        birthDate: '2000-01-01',
        _birthDate: { id: 'b', extension: [{ url: 'http://e.org/t', valueTime: '10:00:00' }] },
        name: [
          {
            id: 'n1',
            given: ['A', 'B'],
            _given: [null, { extension: [{ url: 'http://e.org/g', valueBoolean: true }] }],
          },
        ],
        contained: [{ resourceType: 'Organization', id: 'o', name: 'Org' }],
        active: true,
      } as unknown as Patient);
      assert.equal(assertWellFormedXml(xml), 'Patient');
      assert.ok(
        xml.includes(
          '<extension url="http://e.org/a"><valueString value="say &quot;hi&quot; &amp; &lt;bye&gt;"/></extension>',
        ),
      );
      assert.ok(
        xml.includes(
          '<birthDate id="b" value="2000-01-01"><extension url="http://e.org/t"><valueTime value="10:00:00"/></extension></birthDate>',
        ),
      );
      assert.ok(
        xml.includes(
          '<name id="n1"><given value="A"/><given value="B"><extension url="http://e.org/g"><valueBoolean value="true"/></extension></given></name>',
        ),
      );
      assert.ok(
        xml.includes(
          '<contained><Organization><id value="o"/><name value="Org"/></Organization></contained>',
        ),
      );
      assert.ok(xml.includes('<div xmlns="http://www.w3.org/1999/xhtml">A &amp; B</div>'));
      assert.ok(xml.includes('<active value="true"/>'));
    });
  });

  describe('conditional reads and HEAD', () => {
    test('If-Modified-Since at or after the last update gives 304; before it, 200; If-None-Match decides when present', async () => {
      const read = await call(server, '/Patient/p2');
      const lastModified = read.headers.get('last-modified') ?? '';
      const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
      const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
      const same = await call(server, '/Patient/p2', { headers: { 'if-modified-since': lastModified } });
      assert.equal(same.status, 304);
      assert.equal(same.text, '');
      assert.equal(
        (await call(server, '/Patient/p2', { headers: { 'if-modified-since': later } })).status,
        304,
      );
      assert.equal(
        (await call(server, '/Patient/p2', { headers: { 'if-modified-since': earlier } })).status,
        200,
      );
      const mismatch = await call(server, '/Patient/p2', {
        headers: { 'if-modified-since': later, 'if-none-match': 'W/"other"' },
      });
      assert.equal(mismatch.status, 200);
      const etag = read.headers.get('etag') ?? '';
      const xml304 = await call(server, '/Patient/p2?_format=xml', { headers: { 'if-none-match': etag } });
      assert.equal(xml304.status, 304);
    });

    test('HEAD answers like GET without a body: 200 with validators, 404 for a missing resource', async () => {
      const found = await fetch(`${server.baseUrl}/Patient/p9`, { method: 'HEAD' });
      assert.equal(found.status, 200);
      assert.ok(found.headers.get('etag'));
      assert.ok(found.headers.get('last-modified'));
      assert.equal(await found.text(), '');
      const missing = await fetch(`${server.baseUrl}/Patient/missing`, { method: 'HEAD' });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('etag'), null);
      assert.equal(await missing.text(), '');
      const search = await fetch(`${server.baseUrl}/Patient?_include=Patient:organization`, {
        method: 'HEAD',
      });
      assert.equal(search.status, 200);
      assert.equal(await search.text(), '');
    });
  });

  describe('writes', () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      call(server, path, {
        method: 'POST',
        headers: { 'content-type': FHIR_JSON, ...headers },
        body: JSON.stringify(body),
      });

    test('Prefer: return=minimal answers a create and an update with headers only', async () => {
      const created = await post(
        '/Patient',
        { resourceType: 'Patient', name: [{ family: 'Min' }] },
        { prefer: 'return=minimal' },
      );
      assert.equal(created.status, 201);
      assert.equal(created.text, '');
      assert.equal(created.headers.get('content-type'), null);
      const location = created.headers.get('location') ?? '';
      assert.match(location, new RegExp(`^${server.baseUrl}/Patient/[^/]+/_history/[^/]+$`));
      assert.equal(created.headers.get('content-location'), location);
      assert.ok(created.headers.get('etag'));
      const id = location.split('/')[5] ?? '';
      assert.equal(((await call(server, `/Patient/${id}`)).json as Patient).name?.[0]?.family, 'Min');

      const updated = await call(server, `/Patient/${id}`, {
        method: 'PUT',
        headers: { 'content-type': FHIR_JSON, prefer: 'return=minimal' },
        body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Min2' }] }),
      });
      assert.equal(updated.status, 200);
      assert.equal(updated.text, '');
      assert.ok(updated.headers.get('etag'));
      const patched = await call(server, `/Patient/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json-patch+json', prefer: 'return=minimal' },
        body: JSON.stringify([{ op: 'add', path: '/active', value: true }]),
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.text, '');
    });

    test('Prefer: return=OperationOutcome answers with an outcome; return=representation with the resource', async () => {
      const outcome = await post(
        '/Patient',
        { resourceType: 'Patient' },
        { prefer: 'return=OperationOutcome' },
      );
      assert.equal(outcome.status, 201);
      assert.equal((outcome.json as OperationOutcome).resourceType, 'OperationOutcome');
      assert.match(JSON.stringify(outcome.json), /Successfully created resource/);
      const full = await post('/Patient', { resourceType: 'Patient' }, { prefer: 'return=representation' });
      assert.equal((full.json as Patient).resourceType, 'Patient');
    });

    test('a conditional create that matches answers 200 with the existing resource and its Location', async () => {
      for (const condition of [
        'family=Nine',
        'Patient?family=Nine',
        `${server.baseUrl}/Patient?family=Nine`,
      ]) {
        const res = await post(
          '/Patient',
          { resourceType: 'Patient', name: [{ family: 'Nine' }] },
          { 'if-none-exist': condition },
        );
        assert.equal(res.status, 200, condition);
        assert.equal((res.json as Patient).id, 'p9');
        assert.match(
          res.headers.get('location') ?? '',
          new RegExp(`^${server.baseUrl}/Patient/p9/_history/`),
        );
      }
      const minimal = await post(
        '/Patient',
        { resourceType: 'Patient' },
        { 'if-none-exist': 'family=Nine', prefer: 'return=minimal' },
      );
      assert.equal(minimal.status, 200);
      assert.equal(minimal.text, '');
      assert.match(minimal.headers.get('location') ?? '', /\/Patient\/p9\/_history\//);
      const fresh = await post(
        '/Patient',
        { resourceType: 'Patient', name: [{ family: 'Fresh' }] },
        { 'if-none-exist': 'family=Fresh' },
      );
      assert.equal(fresh.status, 201);
      const twice = await post(
        '/Patient',
        { resourceType: 'Patient' },
        { 'if-none-exist': `_tag=${TAG}|L1` },
      );
      assert.equal(twice.status, 412, 'several matches');
    });

    test('a gzip request body is inflated (and recorded inflated); one that does not inflate gets 400', async () => {
      server.clearRequests();
      const resource = { resourceType: 'Patient', name: [{ family: 'Zipped' }] };
      const res = await call(server, '/Patient', {
        method: 'POST',
        headers: { 'content-type': FHIR_JSON, 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify(resource)),
      });
      assert.equal(res.status, 201);
      assert.equal((res.json as Patient).name?.[0]?.family, 'Zipped');
      assert.deepEqual(JSON.parse(server.requests[0]?.body ?? ''), resource);
      assert.equal(server.requests[0]?.headers['content-encoding'], 'gzip');
      const broken = await call(server, '/Patient', {
        method: 'POST',
        headers: { 'content-type': FHIR_JSON, 'content-encoding': 'gzip' },
        body: JSON.stringify(resource),
      });
      assert.equal(broken.status, 400);
      assert.equal((broken.json as OperationOutcome).resourceType, 'OperationOutcome');
    });

    test('a stored Bundle is a resource: created, read with validators, updated and deleted', async () => {
      const bundle = {
        resourceType: 'Bundle',
        id: 'b9',
        ...tagged('L9'),
        type: 'collection',
        entry: [{ resource: { resourceType: 'Patient', id: 'inner' } }],
      };
      const put = await call(server, '/Bundle/b9', {
        method: 'PUT',
        headers: { 'content-type': FHIR_JSON },
        body: JSON.stringify(bundle),
      });
      assert.ok(put.status === 200 || put.status === 201, String(put.status));
      const read = await call(server, '/Bundle/b9');
      assert.equal(read.status, 200);
      assert.equal((read.json as Bundle).type, 'collection');
      assert.equal(
        (read.json as Bundle).entry?.[0]?.fullUrl,
        undefined,
        'a stored Bundle comes back as stored',
      );
      assert.ok(read.headers.get('etag'));
      const notModified = await call(server, '/Bundle/b9', {
        headers: { 'if-none-match': read.headers.get('etag') ?? '' },
      });
      assert.equal(notModified.status, 304);
      assert.equal((await call(server, '/Bundle/b9', { method: 'DELETE' })).status, 200);
      assert.equal((await call(server, '/Bundle/b9')).status, 404);
    });
  });
});

describe('local FHIR server, HAPI paging', () => {
  let server: LocalFhirServer;
  before(async () => {
    server = await startFhirServer({ seed: dataset(), paging: 'hapi', pageSize: 2 });
  });
  after(() => server.close());

  const PAGE_LINK =
    /^(.+)\?_getpages=([0-9a-f-]{36})&_getpagesoffset=(\d+)&_count=(\d+)&_bundletype=searchset$/;

  test('links are _getpages continuations that carry none of the search parameters', async () => {
    server.clearRequests();
    const query = `_tag=${encodeURIComponent(`${TAG}|L1`)}&_revinclude=Observation:subject&_count=1`;
    const first = await call(server, `/Patient?${query}`);
    const page1 = first.json as Bundle;
    assert.equal(page1.total, 2);
    assert.deepEqual(keys(page1, 'match'), ['Patient/p1']);
    assert.deepEqual(keys(page1, 'include'), ['Observation/o1']);
    const self = new URL(link(page1, 'self') ?? '');
    assert.equal(`${self.origin}${self.pathname}`, `${server.baseUrl}/Patient`);
    assert.equal(self.searchParams.toString(), new URLSearchParams(query).toString());
    assert.equal(link(page1, 'previous'), undefined);
    const next = PAGE_LINK.exec(link(page1, 'next') ?? '');
    assert.ok(next, link(page1, 'next'));
    assert.equal(next[1], server.baseUrl);
    assert.equal(next[2], page1.id, 'the Bundle id is the search id');
    assert.deepEqual([next[3], next[4]], ['1', '1']);

    const second = await call(server, link(page1, 'next') ?? '');
    const page2 = second.json as Bundle;
    assert.equal(second.status, 200);
    assert.deepEqual(keys(page2, 'match'), ['Patient/p2']);
    assert.deepEqual(keys(page2, 'include').sort(), ['Observation/o2', 'Observation/ox9']);
    assert.equal(link(page2, 'next'), undefined);
    assert.equal(link(page2, 'self'), link(page1, 'next'));
    const previous = PAGE_LINK.exec(link(page2, 'previous') ?? '');
    assert.deepEqual([previous?.[2], previous?.[3]], [next[2], '0']);
    assert.equal(server.requests.at(-1)?.query.get('_getpages'), next[2], 'requests are still recorded');
  });

  test('searches without _count page at pageSize; _getpagesoffset and _count of the link are obeyed', async () => {
    const page1 = (await call(server, '/Observation')).json as Bundle;
    assert.equal(page1.entry?.length, 2);
    assert.equal(page1.total, 4);
    const searchId = page1.id ?? '';
    const window = (await call(server, `?_getpages=${searchId}&_getpagesoffset=1&_count=3`)).json as Bundle;
    assert.deepEqual(keys(window), ['Observation/o2', 'Observation/ox9', 'Observation/o9']);
    const beyond = (await call(server, `?_getpages=${searchId}&_getpagesoffset=10`)).json as Bundle;
    assert.deepEqual(keys(beyond), []);
    assert.equal((await call(server, `?_getpages=${searchId}&_getpagesoffset=x`)).status, 400);
  });

  test('format, pretty and _include of the request ride along in the links', async () => {
    const res = await call(server, '/Observation?_include=Observation:subject&_format=xml&_pretty=true');
    assert.equal(assertWellFormedXml(res.text), 'Bundle');
    const next = /<link><relation value="next"\/><url value="([^"]+)"\/><\/link>/.exec(res.text)?.[1] ?? '';
    const url = new URL(next.replace(/&amp;/g, '&'));
    assert.equal(url.searchParams.get('_format'), 'xml');
    assert.equal(url.searchParams.get('_pretty'), 'true');
    assert.equal(url.searchParams.get('_include'), 'Observation:subject');
    const page2 = await call(server, url.href);
    assert.equal(page2.headers.get('content-type'), 'application/fhir+xml;charset=UTF-8');
    assert.match(page2.text, /<mode value="include"\/>/);
  });

  test('$everything pages the same way', async () => {
    const page1 = (await call(server, '/Patient/p1/$everything')).json as Bundle;
    assert.deepEqual(keys(page1, 'match'), ['Patient/p1', 'List/l1']);
    // Joins are per page: the List's item is included here, and is a match of the next page.
    assert.deepEqual(keys(page1, 'include').sort(), [
      'Observation/o1',
      'Organization/org1',
      'Practitioner/pr1',
    ]);
    const page2 = (await call(server, link(page1, 'next') ?? '')).json as Bundle;
    assert.deepEqual(keys(page2, 'match'), ['Observation/o1']);
    assert.deepEqual(keys(page2, 'include').sort(), ['Patient/p1', 'Practitioner/pr1']);
  });

  test('an unknown or expired search id answers 410 with an OperationOutcome', async () => {
    const page1 = (await call(server, '/Patient?_count=1')).json as Bundle;
    const next = link(page1, 'next') ?? '';
    assert.equal((await call(server, next)).status, 200);
    server.expireSearches();
    const expired = await call(server, next);
    assert.equal(expired.status, 410);
    assert.equal((expired.json as OperationOutcome).resourceType, 'OperationOutcome');
    assert.equal((await call(server, '?_getpages=not-a-search')).status, 410);
  });
});

describe('local FHIR server, request head size', () => {
  test('maxHeaderSize admits long URLs that Node refuses by default', async () => {
    const longQuery = `_id=${Array.from({ length: 3000 }, (_, i) => `id-${i}`).join(',')}`;
    const small = await startFhirServer();
    const large = await startFhirServer({ maxHeaderSize: 64 * 1024 });
    try {
      assert.equal((await fetch(`${small.baseUrl}/Patient?${longQuery}`)).status, 431);
      const res = await fetch(`${large.baseUrl}/Patient?${longQuery}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Bundle).total, 0);
    } finally {
      await Promise.all([small.close(), large.close()]);
    }
  });
});
