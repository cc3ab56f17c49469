import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { type LocalFhirServer, seedPatients, startFhirServer } from './fhir-server.js';

const TAG_SYSTEM = 'https://example.org/org';
const FHIR_JSON = 'application/fhir+json';

let server: LocalFhirServer;

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${server.baseUrl}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text === '' ? undefined : JSON.parse(text),
  };
}

function postJson(path: string, body: unknown, method = 'POST', headers: Record<string, string> = {}) {
  return call(path, {
    method,
    headers: { 'content-type': FHIR_JSON, ...headers },
    body: JSON.stringify(body),
  });
}

function entryIds(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => e.resource?.id ?? '');
}

function link(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

describe('local FHIR server', () => {
  before(async () => {
    server = await startFhirServer({
      seed: seedPatients(5, { tagSystem: TAG_SYSTEM, tagCodes: ['org1', 'org2'] }),
    });
  });
  after(() => server.close());

  test('create answers 201 with an absolute Location, ETag and Last-Modified, and assigns its own id', async () => {
    const res = await postJson('/Patient', {
      resourceType: 'Patient',
      id: 'client-chosen',
      name: [{ family: 'New' }],
    });
    assert.equal(res.status, 201);
    const created = res.json as Patient;
    assert.notEqual(created.id, 'client-chosen');
    assert.match(res.headers.get('content-type') ?? '', /^application\/fhir\+json/);
    assert.equal(res.headers.get('etag'), `W/"${created.meta?.versionId}"`);
    assert.equal(
      res.headers.get('location'),
      `${server.baseUrl}/Patient/${created.id}/_history/${created.meta?.versionId}`,
    );
    assert.ok(res.headers.get('last-modified'));
  });

  test('read and vread return the stored resource; If-None-Match with its ETag gives 304 without a body', async () => {
    const read = await call('/Patient/pat-1');
    assert.equal(read.status, 200);
    assert.equal((read.json as Patient).name?.[0]?.family, 'Family1');
    const etag = read.headers.get('etag') ?? '';
    const versionId = (read.json as Patient).meta?.versionId;
    assert.equal(etag, `W/"${versionId}"`);

    const vread = await call(`/Patient/pat-1/_history/${versionId}`);
    assert.equal(vread.status, 200);
    assert.equal((vread.json as Patient).id, 'pat-1');

    const notModified = await call('/Patient/pat-1', { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');
    assert.equal(notModified.headers.get('etag'), etag);

    const stale = await call('/Patient/pat-1', { headers: { 'if-none-match': 'W/"other"' } });
    assert.equal(stale.status, 200);
  });

  test('search with _count pages through absolute self/next/previous links that keep the parameters', async () => {
    const first = await call(`/Patient?_tag=${encodeURIComponent(`${TAG_SYSTEM}|org1`)}&_count=2`);
    assert.equal(first.status, 200);
    const page1 = first.json as Bundle;
    assert.equal(page1.type, 'searchset');
    assert.equal(page1.total, 3);
    assert.deepEqual(entryIds(page1), ['pat-1', 'pat-3']);
    assert.equal(page1.entry?.[0]?.fullUrl, `${server.baseUrl}/Patient/pat-1`);
    assert.equal(link(page1, 'previous'), undefined);
    const next = new URL(link(page1, 'next') ?? '');
    assert.equal(`${next.origin}${next.pathname}`, `${server.baseUrl}/Patient`);
    assert.equal(next.searchParams.get('_tag'), `${TAG_SYSTEM}|org1`);
    assert.equal(next.searchParams.get('_offset'), '2');
    assert.ok(link(page1, 'self')?.startsWith(`${server.baseUrl}/Patient?`));

    const page2 = (await (await fetch(next)).json()) as Bundle;
    assert.deepEqual(entryIds(page2), ['pat-5']);
    assert.equal(link(page2, 'next'), undefined);
    assert.equal(new URL(link(page2, 'previous') ?? '').searchParams.get('_offset'), '0');
  });

  test('_tag search by code only matches the tagged patients', async () => {
    const bundle = (await call('/Patient?_tag=org2')).json as Bundle;
    assert.deepEqual(entryIds(bundle), ['pat-2', 'pat-4']);
  });

  test('POST _search reads form fields and merges them with the URL query', async () => {
    const res = await call('/Patient/_search?_count=10', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _tag: `${TAG_SYSTEM}|org2` }).toString(),
    });
    assert.equal(res.status, 200);
    const bundle = res.json as Bundle;
    assert.deepEqual(entryIds(bundle), ['pat-2', 'pat-4']);
    const self = new URL(link(bundle, 'self') ?? '');
    assert.equal(self.searchParams.get('_count'), '10');
    assert.equal(self.searchParams.get('_tag'), `${TAG_SYSTEM}|org2`);
  });

  test('PUT, PATCH and DELETE change the stored resource; a stale If-Match gives 412', async () => {
    const created = await server.create<Patient>({ resourceType: 'Patient', id: 'pat-edit', gender: 'male' });
    assert.equal(created.id, 'pat-edit');

    const put = await postJson(
      '/Patient/pat-edit',
      { resourceType: 'Patient', id: 'pat-edit', gender: 'other' },
      'PUT',
    );
    assert.equal(put.status, 200);
    assert.equal((put.json as Patient).gender, 'other');
    assert.notEqual(put.headers.get('etag'), `W/"${created.meta?.versionId}"`);

    const stale = await postJson('/Patient/pat-edit', { resourceType: 'Patient', id: 'pat-edit' }, 'PUT', {
      'if-match': `W/"${created.meta?.versionId}"`,
    });
    assert.equal(stale.status, 412);

    const patch = await call('/Patient/pat-edit', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/active', value: false }]),
    });
    assert.equal(patch.status, 200);
    assert.equal((patch.json as Patient).active, false);
    assert.equal((patch.json as Patient).gender, 'other');

    const stalePatch = await call('/Patient/pat-edit', {
      method: 'PATCH',
      headers: {
        'content-type': 'application/json-patch+json',
        'if-match': `W/"${created.meta?.versionId}"`,
      },
      body: JSON.stringify([{ op: 'add', path: '/active', value: true }]),
    });
    assert.equal(stalePatch.status, 412);
    assert.equal((stalePatch.json as Patient).resourceType, 'OperationOutcome');

    const del = await call('/Patient/pat-edit', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((del.json as OperationOutcome).resourceType, 'OperationOutcome');
    assert.equal((await call('/Patient/pat-edit')).status, 404);
  });

  test('metadata is a minimal R4 CapabilityStatement', async () => {
    const res = await call('/metadata');
    assert.equal(res.status, 200);
    const cs = res.json as CapabilityStatement;
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.equal(cs.kind, 'instance');
    assert.equal(cs.rest?.[0]?.mode, 'server');
    assert.ok(cs.rest?.[0]?.resource?.some((r) => r.type === 'Patient'));
  });

  test('a transaction resolves urn:uuid references and a batch reports each entry', async () => {
    const transaction = await postJson('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:5c0b6f2e-1d2a-4c3b-9e8f-0a1b2c3d4e5f',
          resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'urn:uuid:5c0b6f2e-1d2a-4c3b-9e8f-0a1b2c3d4e5f' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    assert.equal(transaction.status, 200);
    const txResponse = transaction.json as Bundle;
    assert.equal(txResponse.type, 'transaction-response');
    const patientId = txResponse.entry?.[0]?.resource?.id;
    const observation = txResponse.entry?.[1]?.resource as Observation;
    assert.equal(observation.subject?.reference, `Patient/${patientId}`);

    const batch = await postJson('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Patient/pat-2' } },
        { request: { method: 'GET', url: 'Patient/missing' } },
      ],
    });
    const statuses = (batch.json as Bundle).entry?.map((e) => e.response?.status);
    assert.deepEqual(statuses, ['200', '404']);
  });

  test('a compartment search becomes a type search on the patient reference', async () => {
    await server.create<Observation>({
      resourceType: 'Observation',
      id: 'obs-pat-3',
      status: 'final',
      code: { text: 'weight' },
      subject: { reference: 'Patient/pat-3' },
    });
    const bundle = (await call('/Patient/pat-3/Observation')).json as Bundle;
    assert.deepEqual(entryIds(bundle), ['obs-pat-3']);
    assert.equal((await call('/Patient/pat-4/Observation')).json.total, 0);
  });

  test('requests are recorded with the URL as received, lower-cased headers and the body', async () => {
    await call('/Patient/pat-1');
    assert.ok(server.countRequests() > 0);
    server.clearRequests();
    assert.equal(server.countRequests(), 0);
    await call('/Patient?_tag=a&_tag=b', { headers: { 'X-Custom-Header': 'yes' } });
    await postJson('/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'y' } });
    assert.equal(server.countRequests(), 2);
    assert.equal(
      server.countRequests((r) => r.method === 'POST'),
      1,
    );
    const [search, create] = server.requests;
    assert.equal(search?.url, '/fhir/Patient?_tag=a&_tag=b');
    assert.equal(search?.path, '/fhir/Patient');
    assert.deepEqual(search?.query.getAll('_tag'), ['a', 'b']);
    assert.equal(search?.headers['x-custom-header'], 'yes');
    assert.equal(JSON.parse(create?.body ?? '').resourceType, 'Observation');
  });

  test('an interceptor can answer requests itself or let them through', async () => {
    server.intercept((req, res) => {
      if (!req.path.endsWith('/pat-1')) return false;
      res.writeHead(204);
      res.end();
      return true;
    });
    try {
      assert.equal((await call('/Patient/pat-1')).status, 204);
      assert.equal((await call('/Patient/pat-2')).status, 200);
    } finally {
      server.intercept(undefined);
    }
    assert.equal((await call('/Patient/pat-1')).status, 200);
    assert.equal(server.requests.at(-1)?.path, '/fhir/Patient/pat-1');
  });

  test('bad input gets an OperationOutcome instead of a crash', async () => {
    const badJson = await call('/Patient', {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON },
      body: '{"resourceType":',
    });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.resourceType, 'OperationOutcome');
    const xml = await call('/Patient', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+xml' },
      body: '<Patient/>',
    });
    assert.equal(xml.status, 415);
    assert.equal((await call('/NotAType/1')).status, 404);
    const outside = await fetch(`http://127.0.0.1:${server.port}/elsewhere`);
    assert.equal(outside.status, 404);
    assert.equal(((await outside.json()) as OperationOutcome).resourceType, 'OperationOutcome');
    assert.equal((await call('/Patient/pat-1/Observation/extra')).status, 404);
    assert.equal((await call('/Patient/pat-1')).status, 200);
  });

  test('a second server in the same process keeps its data apart', async () => {
    const other = await startFhirServer({ basePath: 'r4/', seed: seedPatients(1) });
    try {
      assert.match(other.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/r4$/);
      const bundle = (await (await fetch(`${other.baseUrl}/Patient`)).json()) as Bundle;
      assert.deepEqual(entryIds(bundle), ['pat-1']);
    } finally {
      await other.close();
    }
  });
});

describe('seedPatients', () => {
  test('is deterministic and hands out tag codes round-robin', () => {
    const patients = seedPatients(3, { tagSystem: 's', tagCodes: ['a', 'b'] });
    assert.deepEqual(
      patients.map((p) => [p.id, p.meta?.tag?.[0]?.code]),
      [
        ['pat-1', 'a'],
        ['pat-2', 'b'],
        ['pat-3', 'a'],
      ],
    );
    assert.deepEqual(seedPatients(3, { tagSystem: 's', tagCodes: ['a', 'b'] }), patients);
    assert.equal(seedPatients(1)[0]?.meta, undefined);
  });
});
