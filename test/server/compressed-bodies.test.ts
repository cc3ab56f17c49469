/**
 * Request bodies with a Content-Encoding (issue 7): decoded before anything reads them, the body
 * limit counted on the decoded bytes, and the backend given exactly the decoded body.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { Patient } from '@medplum/fhirtypes';
import { GatewayError } from '../../src/fhir/errors.js';
import { decodeBody } from '../../src/server/request-encoding.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const LIMIT = 512 * 1024;

function outcome(response: RawResponse): string {
  const body = response.json() as { resourceType?: string; issue?: { diagnostics?: string }[] };
  assert.equal(body.resourceType, 'OperationOutcome', response.text);
  return body.issue?.map((issue) => issue.diagnostics ?? '').join(' ') ?? '';
}

describe('compressed request bodies', () => {
  let stack: Stack;
  let token: string;

  before(async () => {
    stack = await startStack({ env: { BODY_LIMIT_BYTES: String(LIMIT) } });
    await stack.fhir.create<Patient>({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe' }] });
    token = await stack.issuer.mint({ sub: 'user-1' });
  });
  after(() => stack.close());

  const post = (
    path: string,
    body: Buffer,
    encoding: string,
    extra: Record<string, string> = {},
    method = 'POST',
  ) => {
    stack.fhir.clearRequests();
    return send(stack.gatewayUrl, {
      method,
      path: `/fhir/${path}`,
      headers: bearer(token, { 'content-type': FHIR_JSON, 'content-encoding': encoding, ...extra }),
      body,
    });
  };
  const written = () => stack.fhir.requests.filter((r) => r.method !== 'GET');

  const patient = (family: string) =>
    Buffer.from(JSON.stringify({ resourceType: 'Patient', name: [{ family }] }));
  const encoders: Record<string, (bytes: Buffer) => Buffer> = {
    gzip: gzipSync,
    'x-gzip': gzipSync,
    deflate: deflateSync,
    br: brotliCompressSync,
    'GZip ': gzipSync,
    'identity, gzip': gzipSync,
    'gzip, gzip': (bytes) => gzipSync(gzipSync(bytes)),
    'gzip, br': (bytes) => brotliCompressSync(gzipSync(bytes)),
    identity: (bytes) => bytes,
  };
  for (const [encoding, encode] of Object.entries(encoders)) {
    test(`Content-Encoding: ${encoding} → the backend gets the decoded body, without Content-Encoding`, async () => {
      const plain = patient(`Enc-${encoding}`);
      const response = await post('Patient', encode(plain), encoding);
      assert.equal(response.status, 201, response.text);
      assert.equal((response.json() as unknown as Patient).name?.[0]?.family, `Enc-${encoding}`);
      const [create] = written();
      assert.equal(create?.body, plain.toString('utf8'));
      assert.equal(create?.headers['content-encoding'], undefined);
      assert.equal(create?.headers['content-length'], String(plain.length));
    });
  }

  test('a declared Content-Length (not chunked) is checked against the bytes on the wire', async () => {
    const compressed = gzipSync(patient('Sized'));
    const response = await post('Patient', compressed, 'gzip', {
      'content-length': String(compressed.length),
    });
    assert.equal(response.status, 201, response.text);
    assert.equal(JSON.parse(written()[0]!.body).name[0].family, 'Sized');
  });

  test('a gzip JSON Patch is applied as decoded', async () => {
    const patch = Buffer.from(JSON.stringify([{ op: 'add', path: '/gender', value: 'female' }]));
    const response = await post(
      'Patient/p1',
      gzipSync(patch),
      'gzip',
      { 'content-type': 'application/json-patch+json' },
      'PATCH',
    );
    assert.equal(response.status, 200, response.text);
    assert.equal((response.json() as unknown as Patient).gender, 'female');
    assert.equal(written()[0]?.body, patch.toString('utf8'));
  });

  test('a gzip form body of POST _search is read as the search', async () => {
    const response = await post('Patient/_search', gzipSync('_id=p1'), 'gzip', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(response.status, 200, response.text);
    const bundle = response.json() as { entry?: { resource: Patient }[] };
    assert.deepEqual(
      bundle.entry?.map((e) => e.resource.id),
      ['p1'],
    );
  });

  test('a gzip batch: its entries are read from the decoded Bundle', async () => {
    const batch = Buffer.from(
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'GET', url: 'Patient/p1' } }],
      }),
    );
    const response = await post('', gzipSync(batch), 'gzip');
    assert.equal(response.status, 200, response.text);
    const entries = (response.json() as { entry: { resource: Patient }[] }).entry;
    assert.equal(entries[0]?.resource.id, 'p1');
  });

  for (const encoding of ['compress', 'zstd', 'gzip, compress', 'gzip, gzip, gzip']) {
    test(`Content-Encoding: ${encoding} → 415 OperationOutcome, nothing forwarded`, async () => {
      const response = await post('Patient', gzipSync(patient('Unknown')), encoding);
      assert.equal(response.status, 415, response.text);
      assert.match(outcome(response), /Content-Encoding|content codings/);
      assert.deepEqual(written(), []);
    });
  }

  const corrupt: Record<string, [string, Buffer]> = {
    'plain JSON sent as gzip': ['gzip', patient('Plain')],
    'truncated gzip': ['gzip', gzipSync(patient('Cut')).subarray(0, 20)],
    'raw deflate sent as deflate (zlib format expected)': ['deflate', deflateRawSync(patient('Raw'))],
    'garbage as br': ['br', Buffer.from('not brotli at all, not brotli at all')],
    'gzip followed by garbage': ['gzip', Buffer.concat([gzipSync(patient('Tail')), Buffer.from('xyz')])],
  };
  for (const [name, [encoding, body]] of Object.entries(corrupt)) {
    test(`${name} → 400 OperationOutcome, nothing forwarded`, async () => {
      const response = await post('Patient', body, encoding);
      assert.equal(response.status, 400, response.text);
      assert.match(outcome(response), new RegExp(`not valid ${encoding} data`));
      assert.deepEqual(written(), []);
    });
  }

  const zeros = Buffer.alloc(4 * LIMIT, 0x20);
  const bombs: Record<string, [string, Buffer]> = {
    gzip: ['gzip', gzipSync(zeros, { level: 9 })],
    br: ['br', brotliCompressSync(zeros)],
    // The outer layer stays small; the inner one passes the limit.
    'gzip, gzip': ['gzip, gzip', gzipSync(gzipSync(zeros, { level: 9 }), { level: 9 })],
  };
  for (const [name, [encoding, body]] of Object.entries(bombs)) {
    test(`a ${name} bomb (${body.length} bytes inflating past BODY_LIMIT_BYTES) → 413, nothing forwarded`, async () => {
      assert.ok(body.length < 4096);
      const response = await post('Patient', body, encoding);
      assert.equal(response.status, 413, response.text);
      assert.match(outcome(response), /larger than the gateway accepts/);
      assert.deepEqual(written(), []);
    });
  }

  test('a body just under the limit once decoded is accepted', async () => {
    const padding = 'x'.repeat(LIMIT - 200);
    const plain = Buffer.from(
      JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Big', text: padding }] }),
    );
    assert.ok(plain.length <= LIMIT);
    const response = await post('Patient', gzipSync(plain), 'gzip');
    assert.equal(response.status, 201, response.text);
  });

  test('Content-Encoding on a request without a body is ignored', async () => {
    const response = await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { 'content-encoding': 'zstd' }),
    });
    assert.equal(response.status, 200, response.text);
  });
});

describe('decodeBody stops at the limit', () => {
  test('a bomb is not inflated past the limit: most of its compressed bytes are never read', async () => {
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024));
    let pulled = 0;
    const source = new Readable({
      read() {
        if (pulled >= bomb.length) return void this.push(null);
        const chunk = bomb.subarray(pulled, pulled + 1024);
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    const decoded = decodeBody(source, ['gzip'], 1024 * 1024);
    let received = 0;
    const error = await new Promise<unknown>((resolve) => {
      decoded.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      decoded.on('error', resolve);
      decoded.on('end', () => resolve(undefined));
    });
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 413);
    assert.ok(received <= 1024 * 1024);
    // Let anything still queued run: the source must have been let go.
    await new Promise((resolve) => setImmediate(resolve));
    const pulledAtError = pulled;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pulled, pulledAtError);
    assert.ok(pulled < bomb.length / 2, `read ${pulled} of ${bomb.length} compressed bytes`);
  });
});
