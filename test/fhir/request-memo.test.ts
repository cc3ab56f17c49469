import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memoOnRequest } from '../../src/fhir/request-memo.js';

describe('memoOnRequest', () => {
  const KEY = Symbol('test memo');

  test('computes once per request object', () => {
    const req = { query: [{ name: 'a', value: '1' }] };
    let computed = 0;
    const first = memoOnRequest(req, KEY, () => ({ n: ++computed }));
    const second = memoOnRequest(req, KEY, () => ({ n: ++computed }));
    assert.equal(computed, 1);
    assert.equal(second, first);
  });

  test('a spread copy (a mutated request) computes its own value', () => {
    const req = { query: [{ name: 'a', value: '1' }] };
    memoOnRequest(req, KEY, () => 'of the original');
    const copy = { ...req, query: [{ name: 'a', value: '2' }] };
    assert.equal(memoOnRequest(copy, KEY, () => 'of the copy'), 'of the copy');
    assert.equal(memoOnRequest(req, KEY, () => 'again'), 'of the original');
  });

  test('keys are independent', () => {
    const req = {};
    const OTHER = Symbol('other memo');
    memoOnRequest(req, KEY, () => 1);
    assert.equal(memoOnRequest(req, OTHER, () => 2), 2);
  });
});
