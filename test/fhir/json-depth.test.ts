import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bundleEntries, checkBundleSize, parseEntryRequest } from '../../src/fhir/bundle-entry.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from '../../src/fhir/json-depth.js';
import { assertRefused, parse } from './request-kit.js';

const bytes = (text: string) => Buffer.from(text);
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

describe('exceedsJsonDepth', () => {
  test('counts arrays and objects together, up to the limit inclusive', () => {
    assert.equal(exceedsJsonDepth(bytes(nested(100)), 100), false);
    assert.equal(exceedsJsonDepth(bytes(nested(101)), 100), true);
    assert.equal(exceedsJsonDepth(bytes(nestedObjects(100)), 100), false);
    assert.equal(exceedsJsonDepth(bytes(nestedObjects(101)), 100), true);
    assert.equal(exceedsJsonDepth(bytes('[{"a":[{"b":[]}]}]'), 5), false);
    assert.equal(exceedsJsonDepth(bytes('[{"a":[{"b":[[]]}]}]'), 5), true);
  });

  test('siblings do not add up: depth, not count', () => {
    const wide = `[${Array.from({ length: 10_000 }, () => '{"a":[1]}').join(',')}]`;
    assert.equal(exceedsJsonDepth(bytes(wide), 3), false);
  });

  test('brackets inside strings, escaped quotes and backslashes do not count', () => {
    assert.equal(exceedsJsonDepth(bytes(`["${'['.repeat(500)}"]`), 2), false);
    assert.equal(exceedsJsonDepth(bytes(`{"a":"\\"${'{'.repeat(500)}"}`), 2), false);
    assert.equal(exceedsJsonDepth(bytes(`{"a":"\\\\", "b":[[[]]]}`), 3), true, 'an escaped backslash ends');
    assert.equal(exceedsJsonDepth(bytes(`{"a":"\\\\\\"[[[[[["}`), 2), false);
    assert.equal(exceedsJsonDepth(bytes(`["é€😀${'['.repeat(50)}", [[]]]`), 3), false);
  });

  test('an unterminated string stops the scan; JSON.parse refuses it later', () => {
    assert.equal(exceedsJsonDepth(bytes(`["abc${'['.repeat(50)}`), 2), false);
  });

  test('the default limit is MAX_JSON_DEPTH (100)', () => {
    assert.equal(MAX_JSON_DEPTH, 100);
    assert.equal(exceedsJsonDepth(bytes(nested(MAX_JSON_DEPTH))), false);
    assert.equal(exceedsJsonDepth(bytes(nested(MAX_JSON_DEPTH + 1))), true);
  });
});

describe('request bodies nested too deep are refused at parse time with 400', () => {
  const deepPatient = `{"resourceType":"Patient","extension":${nested(200)}}`;

  test('a create, an update and an operation body, read or not', () => {
    for (const [method, target] of [
      ['POST', '/Patient'],
      ['PUT', '/Patient/1'],
      ['POST', '/Patient/$validate'],
    ] as const) {
      assertRefused(() => parse(method, target, { body: deepPatient }), 400, 'json_too_deep', /100 levels/);
    }
  });

  test('a JSON Patch and a batch', () => {
    const patch = `[{"op":"add","path":"/extension","value":${nested(150)}}]`;
    assertRefused(
      () => parse('PATCH', '/Patient/1', { body: patch, type: 'application/json-patch+json' }),
      400,
      'json_too_deep',
      /nests/,
    );
    const batch = `{"resourceType":"Bundle","type":"batch","entry":[{"resource":${deepPatient},"request":{"method":"POST","url":"Patient"}}]}`;
    assertRefused(() => parse('POST', '', { body: batch }), 400, 'json_too_deep', /nests/);
  });

  test('a PATCH Binary inside a transaction is checked when it is decoded', () => {
    const patch = `[{"op":"add","path":"/extension","value":${nested(150)}}]`;
    const transaction = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Binary',
            contentType: 'application/json-patch+json',
            data: Buffer.from(patch).toString('base64'),
          },
          request: { method: 'PATCH', url: 'Patient/1' },
        },
      ],
    };
    const req = parse('POST', '', { body: transaction });
    assert.equal(req.interaction, 'transaction');
    const [entry] = bundleEntries(req);
    assertRefused(() => parseEntryRequest(entry, 0), 400, 'json_too_deep', /nests/);
  });

  test('a shallow FHIR resource (a nested Questionnaire in a transaction) passes', () => {
    let item: Record<string, unknown> = { linkId: 'leaf', type: 'string' };
    for (let level = 0; level < 20; level++) item = { linkId: `l${level}`, type: 'group', item: [item] };
    const transaction = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Questionnaire', status: 'active', item: [item] },
          request: { method: 'POST', url: 'Questionnaire' },
        },
      ],
    };
    assert.equal(parse('POST', '', { body: transaction }).interaction, 'transaction');
  });
});

describe('checkBundleSize', () => {
  const bundle = (type: string, count: number) => ({
    resourceType: 'Bundle',
    type,
    entry: Array.from({ length: count }, () => ({ request: { method: 'GET', url: 'Patient/p1/$meta' } })),
  });

  test('at the cap passes; above it is 413 for batch and transaction', () => {
    checkBundleSize(parse('POST', '', { body: bundle('batch', 10) }), 10);
    checkBundleSize(parse('POST', '', { body: bundle('transaction', 0) }), 10);
    for (const type of ['batch', 'transaction']) {
      assertRefused(
        () => checkBundleSize(parse('POST', '', { body: bundle(type, 11) }), 10),
        413,
        'too_many_entries',
        new RegExp(`The ${type} Bundle has 11 entries; at most 10`),
      );
    }
  });

  test('other requests, even a stored Bundle resource with many entries, are not counted', () => {
    checkBundleSize(parse('GET', '/Patient'), 0);
    checkBundleSize(parse('POST', '/Bundle', { body: bundle('collection', 50) }), 10);
  });
});
