import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Patient } from '@medplum/fhirtypes';
import { type AccessCheckerFactory, granted } from '../../src/access/contract.js';
import { startStack, type Stack } from '../support/stack.js';
import { bearer, send } from '../support/http.js';

const narrowing: AccessCheckerFactory = {
  name: 'narrowing',
  async create() {
    return {
      async checkAccess(req) {
        if (req.resourceType !== 'Observation') return granted();
        return granted({
          mutation: {
            addParams: [{ name: '_tag', value: 'http://x|a,http://x|b' }],
            discardParams: ['secret'],
          },
        });
      },
    };
  },
};

describe('proxying through the gateway', () => {
  let stack: Stack;
  let token: string;
  const patient: Patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe' }] };

  before(async () => {
    stack = await startStack({ env: { ACCESS_CHECKER: 'permissive,narrowing' }, extraCheckers: [narrowing] });
    await stack.fhir.create(patient);
    for (let i = 0; i < 5; i++) await stack.fhir.create({ resourceType: 'Patient', id: `pp${i}` });
    token = await stack.issuer.mint({ sub: 'user-1' });
  });
  after(() => stack.close());

  const backendBase = () => stack.fhir.baseUrl;
  function assertNoBackendUrl(res: { text: string; headers: Record<string, unknown> }) {
    assert.ok(!res.text.includes(backendBase()), 'body must not contain the backend base URL');
    for (const [name, value] of Object.entries(res.headers)) {
      assert.ok(
        !String(value).includes(backendBase()),
        `header ${name} must not contain the backend base URL`,
      );
    }
  }

  test('read passes through with status, body, ETag', async () => {
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(token) });
    assert.equal(res.status, 200);
    assert.equal(res.json().id, 'p1');
    assert.match(String(res.headers.etag), /^W\//);
    assert.match(String(res.headers['content-type']), /fhir\+json/);
    assertNoBackendUrl(res);
  });

  test('search: paging links and fullUrls point at the gateway', async () => {
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient?_count=2', headers: bearer(token) });
    assert.equal(res.status, 200);
    const bundle = res.json() as { link: { relation: string; url: string }[]; entry: { fullUrl: string }[] };
    const next = bundle.link.find((l) => l.relation === 'next');
    assert.ok(next, 'a next link');
    assert.ok(next.url.startsWith(`${stack.fhirBase}/`), `next link ${next.url} is on the gateway`);
    assert.ok(bundle.entry.every((e) => e.fullUrl.startsWith(stack.fhirBase)));
    assertNoBackendUrl(res);
    const page2 = await send(stack.gatewayUrl, {
      path: new URL(next.url).pathname + new URL(next.url).search,
      headers: bearer(token),
    });
    assert.equal(page2.status, 200);
    assert.equal((page2.json() as { entry: unknown[] }).entry.length, 2);
  });

  test('create answers 201 with a Location on the gateway', async () => {
    const res = await send(stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir/Patient',
      headers: bearer(token, { 'content-type': 'application/fhir+json' }),
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'New' }] }),
    });
    assert.equal(res.status, 201);
    const location = String(res.headers.location);
    assert.ok(location.startsWith(`${stack.fhirBase}/Patient/`), location);
    assertNoBackendUrl(res);
  });

  test('update and delete pass through', async () => {
    await stack.fhir.create({ resourceType: 'Patient', id: 'to-change' });
    const put = await send(stack.gatewayUrl, {
      method: 'PUT',
      path: '/fhir/Patient/to-change',
      headers: bearer(token, { 'content-type': 'application/fhir+json' }),
      body: JSON.stringify({ resourceType: 'Patient', id: 'to-change', gender: 'female' }),
    });
    assert.equal(put.status, 200);
    assert.equal(put.json().gender, 'female');
    const del = await send(stack.gatewayUrl, {
      method: 'DELETE',
      path: '/fhir/Patient/to-change',
      headers: bearer(token),
    });
    assert.ok(del.status === 200 || del.status === 204, `delete status ${del.status}`);
    const gone = await send(stack.gatewayUrl, { path: '/fhir/Patient/to-change', headers: bearer(token) });
    assert.ok(gone.status === 404 || gone.status === 410, `read after delete: ${gone.status}`);
  });

  test('gzip when the client accepts it, identity otherwise', async () => {
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient?_count=3',
      headers: bearer(token, { 'accept-encoding': 'gzip, deflate, br' }),
    });
    assert.equal(res.headers['content-encoding'], 'gzip');
    const text = gunzipSync(res.bytes).toString('utf8');
    assert.equal((JSON.parse(text) as { resourceType: string }).resourceType, 'Bundle');
    assert.ok(!text.includes(backendBase()));
    const plain = await send(stack.gatewayUrl, { path: '/fhir/Patient?_count=3', headers: bearer(token) });
    assert.equal(plain.headers['content-encoding'], undefined);
  });

  test('304 Not Modified passes through without a body', async () => {
    const first = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(token) });
    const etag = String(first.headers.etag);
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { 'if-none-match': etag }),
    });
    assert.equal(res.status, 304);
    assert.equal(res.bytes.length, 0);
  });

  test('204 No Content passes through', async () => {
    stack.fhir.intercept((req, res) => {
      if (!req.url.includes('Patient/empty')) return false;
      res.writeHead(204).end();
      return true;
    });
    try {
      const res = await send(stack.gatewayUrl, {
        method: 'DELETE',
        path: '/fhir/Patient/empty',
        headers: bearer(token),
      });
      assert.equal(res.status, 204);
      assert.equal(res.bytes.length, 0);
    } finally {
      stack.fhir.intercept(undefined);
    }
  });

  test('large and chunked bodies stream through the rewriter; small ones are rewritten whole', async () => {
    const base = backendBase();
    const entry = (i: number) =>
      `{"fullUrl":"${base}/Patient/p${i}","resource":{"resourceType":"Patient","id":"p${i}"}}`;
    stack.fhir.intercept((req, res) => {
      if (!req.url.includes('name=big') && !req.url.includes('name=small')) return false;
      const count = req.url.includes('name=big') ? 3000 : 3;
      const body = `{"resourceType":"Bundle","type":"searchset","entry":[${Array.from({ length: count }, (_, i) => entry(i)).join(',')}]}`;
      if (count === 3) {
        res.writeHead(200, {
          'content-type': 'application/fhir+json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      // Odd-sized writes, so that base URLs are cut at chunk borders.
      for (let at = 0; at < body.length; at += 997) res.write(body.slice(at, at + 997));
      res.end();
      return true;
    });
    try {
      for (const [name, count] of [
        ['big', 3000],
        ['small', 3],
      ] as const) {
        const res = await send(stack.gatewayUrl, {
          path: `/fhir/Patient?name=${name}`,
          headers: bearer(token),
        });
        assert.equal(res.status, 200);
        assertNoBackendUrl(res);
        const bundle = res.json() as { entry: { fullUrl: string }[] };
        assert.equal(bundle.entry.length, count);
        assert.ok(bundle.entry.every((e, i) => e.fullUrl === `${stack.fhirBase}/Patient/p${i}`));
      }
    } finally {
      stack.fhir.intercept(undefined);
    }
  });

  test('backend error status and body pass through, rewritten', async () => {
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient/does-not-exist',
      headers: bearer(token),
    });
    assert.equal(res.status, 404);
    assert.equal(res.json().resourceType, 'OperationOutcome');
  });

  test("the client's Authorization and cookies never reach the backend", async () => {
    stack.fhir.clearRequests();
    await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { cookie: 'session=secret', 'x-custom': 'nope' }),
    });
    const [received] = stack.fhir.requests;
    assert.ok(received);
    assert.equal(received.headers.authorization, undefined);
    assert.equal(received.headers.cookie, undefined);
    assert.equal(received.headers['x-custom'], undefined);
  });

  test('Accept and fhirVersion headers are forwarded (upstream drops them)', async () => {
    stack.fhir.clearRequests();
    await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { accept: 'application/fhir+json', fhirVersion: '4.0' }),
    });
    const [received] = stack.fhir.requests;
    assert.equal(received?.headers.accept, 'application/fhir+json');
    assert.equal(received?.headers.fhirversion, '4.0');
  });

  test('X-Request-ID is propagated to the backend and back, or generated', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { 'x-request-id': 'abc-123' }),
    });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(stack.fhir.requests[0]?.headers['x-request-id'], 'abc-123');
    const generated = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(token) });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const hostile = await send(stack.gatewayUrl, {
      path: '/fhir/Patient/p1',
      headers: bearer(token, { 'x-request-id': 'a b"<c>' }),
    });
    assert.notEqual(hostile.headers['x-request-id'], 'a b"<c>');
  });

  test('the upstream URL is rebuilt from the mutated request model', async () => {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, {
      path: '/fhir/Observation?_tag=http://x|evil&secret=1&code=abc&code=def',
      headers: bearer(token),
    });
    assert.equal(res.status, 200);
    const received = stack.fhir.requests[0];
    assert.ok(received);
    assert.deepEqual(received.query.getAll('_tag'), ['http://x|a,http://x|b']);
    assert.equal(received.query.get('secret'), null);
    assert.deepEqual(received.query.getAll('code'), ['abc', 'def']);
  });

  test('a search whose upstream URL would be too long is sent as POST _search', async () => {
    const ids = Array.from({ length: 900 }, (_, i) => `pp${i}`).join(',');
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, { path: `/fhir/Patient?_id=${ids}`, headers: bearer(token) });
    assert.equal(res.status, 200);
    const received = stack.fhir.requests[0];
    assert.equal(received?.method, 'POST');
    assert.equal(received?.path, '/fhir/Patient/_search');
    assert.match(String(received?.headers['content-type']), /x-www-form-urlencoded/);
    assert.equal((res.json() as { total?: number }).total, 5);
  });
});
