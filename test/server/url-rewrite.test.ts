import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { injectedParams, withoutParams } from '../../src/server/injected-params.js';
import { ReplaceStream } from '../../src/server/url-rewrite.js';

const FROM = 'http://backend:8080/fhir';
const TO = 'https://gw.example.org/fhir';

async function rewrite(chunks: readonly (string | Buffer)[]): Promise<string> {
  return text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new ReplaceStream(FROM, TO)));
}

describe('streaming base-URL rewriting', () => {
  test('replaces every occurrence in one chunk', async () => {
    assert.equal(
      await rewrite([`{"a":"${FROM}/Patient/1","b":"${FROM}"}`]),
      `{"a":"${TO}/Patient/1","b":"${TO}"}`,
    );
  });

  test('replaces an occurrence split at every possible chunk boundary', async () => {
    const body = `{"url":"${FROM}/Patient/1"}`;
    for (let cut = 1; cut < body.length; cut++) {
      assert.equal(
        await rewrite([body.slice(0, cut), body.slice(cut)]),
        `{"url":"${TO}/Patient/1"}`,
        `cut at ${cut}`,
      );
    }
  });

  test('replaces an occurrence split over many one-byte chunks', async () => {
    const body = `x${FROM}y${FROM}`;
    assert.equal(await rewrite([...body]), `x${TO}y${TO}`);
  });

  test('finds a match that starts inside a failed partial match (upstream misses hhttp://…)', async () => {
    assert.equal(await rewrite([`h${FROM}`]), `h${TO}`);
    assert.equal(
      await rewrite(['http://backend:8080/fhhttp://backend:8080/fhir']),
      `http://backend:8080/fh${TO}`,
    );
  });

  test('keeps a trailing partial match that never completes', async () => {
    assert.equal(await rewrite(['abc', 'http://backend:80']), 'abchttp://backend:80');
  });

  test('never splits a multi-byte character', async () => {
    const bytes = Buffer.from(`{"name":"Zoë ✓","url":"${FROM}"}`);
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    assert.equal(await rewrite(chunks), `{"name":"Zoë ✓","url":"${TO}"}`);
  });
});

describe('link rewriting without injected params', () => {
  const strip = withoutParams([{ name: '_tag', value: 's|L1,s|L2' }])!;
  const through = (chunks: readonly string[]) =>
    text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new ReplaceStream(FROM, TO, strip)));

  test('drops the injected param, however the server encoded it, and keeps the others', () => {
    assert.equal(strip('Patient?_tag=s%7CL1%2Cs%7CL2&_count=5'), 'Patient?_count=5');
    assert.equal(strip('Patient?_count=5&_tag=s|L1,s|L2'), 'Patient?_count=5');
    assert.equal(strip('Patient?_tag=s|L1,s|L2'), 'Patient');
    assert.equal(strip('Patient?_tag=s|L1&_count=5'), 'Patient?_tag=s|L1&_count=5');
    assert.equal(strip('Patient/1'), 'Patient/1');
    assert.equal(strip('Patient?_count=5&amp;_tag=s|L1,s|L2&amp;x=1'), 'Patient?_count=5&amp;x=1');
  });

  test('rewrites a link split at every chunk boundary, in JSON and XML', async () => {
    for (const [body, expected] of [
      [`{"url":"${FROM}/Patient?_tag=s|L1,s|L2&_count=5"}`, `{"url":"${TO}/Patient?_count=5"}`],
      [`<url value="${FROM}/Patient?a=1&amp;_tag=s|L1,s|L2"/>`, `<url value="${TO}/Patient?a=1"/>`],
    ] as const) {
      for (let cut = 1; cut < body.length; cut++) {
        assert.equal(await through([body.slice(0, cut), body.slice(cut)]), expected, `cut at ${cut}`);
      }
      assert.equal(await through([...body]), expected);
    }
  });

  test("the backend's base URL repeated inside a link is replaced there too", async () => {
    const body = `{"url":"${FROM}/Patient?_tag=s|L1,s|L2&next=${FROM}/Patient?x=1"}`;
    const expected = `{"url":"${TO}/Patient?next=${TO}/Patient?x=1"}`;
    for (let cut = 1; cut < body.length; cut++) {
      assert.equal(await through([body.slice(0, cut), body.slice(cut)]), expected, `cut at ${cut}`);
    }
    assert.equal(await through([`${FROM}?a=1${FROM}?b=2`]), `${TO}?a=1${TO}?b=2`);
  });

  test('a URL open at the end of the body is rewritten at the end', async () => {
    assert.equal(await through([`${FROM}/Patient?_tag=s|L1,s|L2`]), `${TO}/Patient`);
  });

  test('injected params: only those the client did not send', () => {
    const client = [{ name: '_tag', value: 'mine' }];
    const added = [
      { name: '_tag', value: 'mine' },
      { name: '_tag', value: 'ours' },
    ];
    assert.deepEqual(injectedParams(client, { addParams: added }), [{ name: '_tag', value: 'ours' }]);
    assert.deepEqual(injectedParams(client, undefined), []);
    assert.equal(withoutParams([]), undefined);
  });
});
