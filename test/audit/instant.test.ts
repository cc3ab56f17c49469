import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isoInstant } from '../../src/audit/instant.js';

describe('isoInstant', () => {
  test('writes what Date#toISOString writes, across seconds, millisecond paddings and years', () => {
    const times = [
      0,
      1,
      9,
      10,
      99,
      100,
      999,
      1000,
      1001,
      Date.UTC(2026, 10, 30, 10, 7, 31, 5),
      Date.UTC(2026, 10, 30, 10, 7, 31, 45),
      Date.UTC(2026, 10, 30, 10, 7, 31, 999),
      Date.UTC(2026, 10, 30, 10, 7, 32, 0),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      -1,
      Date.UTC(10000, 0, 1, 0, 0, 0, 7),
      Date.UTC(2024, 1, 29, 23, 59, 59, 500),
    ];
    for (const ms of times) assert.equal(isoInstant(ms), new Date(ms).toISOString(), String(ms));
  });

  test('the same second twice, then another, then the first again', () => {
    const base = Date.UTC(2026, 0, 1, 0, 0, 0);
    for (const ms of [base + 1, base + 2, base + 1500, base + 3]) {
      assert.equal(isoInstant(ms), new Date(ms).toISOString());
    }
  });
});
