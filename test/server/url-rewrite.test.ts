import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, test } from 'node:test';
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
