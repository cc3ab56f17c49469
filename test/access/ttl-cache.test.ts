import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { stringsBytes, TtlCache } from '../../src/access/ttl-cache.js';

describe('TtlCache', () => {
  test('loads once and then answers from the cache', async () => {
    const cache = new TtlCache<number>(60);
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache.getOrLoad('k', load), 1);
    assert.equal(await cache.getOrLoad('k', load), 1);
    assert.equal(cache.get('k'), 1);
    assert.equal(loads, 1);
  });

  test('concurrent loads of one key share one load', async () => {
    const cache = new TtlCache<string>(60);
    let loads = 0;
    const load = async () => {
      loads++;
      await sleep(20);
      return 'v';
    };
    const values = await Promise.all([
      cache.getOrLoad('k', load),
      cache.getOrLoad('k', load),
      cache.getOrLoad('k', load),
    ]);
    assert.deepEqual(values, ['v', 'v', 'v']);
    assert.equal(loads, 1);
  });

  test('a failed load is not cached', async () => {
    const cache = new TtlCache<string>(60);
    await assert.rejects(
      cache.getOrLoad('k', async () => Promise.reject(new Error('down'))),
      /down/,
    );
    assert.equal(await cache.getOrLoad('k', async () => 'ok'), 'ok');
  });

  test('ttl 0 disables caching: every call loads', async () => {
    const cache = new TtlCache<number>(0);
    let loads = 0;
    await cache.getOrLoad('k', async () => ++loads);
    await cache.getOrLoad('k', async () => ++loads);
    cache.set('k', 99);
    assert.equal(cache.get('k'), undefined);
    assert.equal(loads, 2);
  });

  test('entries expire after the ttl', async () => {
    const cache = new TtlCache<number>(1);
    cache.set('k', 1);
    assert.equal(cache.get('k'), 1);
    await sleep(1100);
    assert.equal(cache.get('k'), undefined);
  });

  test('max bounds the entries (least recently used goes first); delete and clear forget', async () => {
    const cache = new TtlCache<number>(60, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
    cache.clear();
    assert.equal(cache.get('c'), undefined);
  });
  test('a byte budget bounds what the values weigh: least recently used go first, a value over budget is not kept', async () => {
    const cache = new TtlCache<string>(60, 100, { maxBytes: 10, bytesOf: (value) => value.length });
    cache.set('a', 'aaaa');
    cache.set('b', 'bbbb');
    cache.get('a');
    cache.set('c', 'cccc');
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'aaaa');
    assert.equal(cache.get('c'), 'cccc');
    cache.set('huge', 'x'.repeat(11));
    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.get('a'), 'aaaa');
    let loads = 0;
    const load = async () => {
      loads++;
      return 'y'.repeat(20);
    };
    assert.equal(await cache.getOrLoad('big', load), 'y'.repeat(20));
    assert.equal(await cache.getOrLoad('big', load), 'y'.repeat(20));
    assert.equal(loads, 2);
  });

  test('stringsBytes counts characters and a per-string overhead', () => {
    assert.equal(stringsBytes([]), 0);
    assert.ok(stringsBytes(['abc', 'de']) > 5);
    assert.equal(stringsBytes(['abc', 'de']) - stringsBytes(['abc']), stringsBytes(['de']));
  });
});
